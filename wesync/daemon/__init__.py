"""The long-running service: scheduling, file watching, callbacks, systemd."""
