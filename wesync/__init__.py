"""wesync: two-way sync between iCalendar files and WeCom app calendars."""

from __future__ import annotations

__version__ = "0.1.0"
