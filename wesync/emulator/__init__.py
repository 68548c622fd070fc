"""A faithful WeCom emulator: the calendar/schedule API on loopback or in-process.

It shares no code with the client except wesync.wecom.constants.
"""
