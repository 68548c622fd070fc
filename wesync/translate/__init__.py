"""Pure translation between iCalendar events and WeCom schedules. No I/O here."""
