"""Two-way sync: listings + status -> plan (pure) -> execute, with a status store beside."""
