"""Local storages: a vdir folder or a single .ics file, behind one interface."""
