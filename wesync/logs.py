"""Logging setup: readable on a terminal, one line per event under journald, or JSON.

A filter on the root handler scrubs access tokens and secrets from every
record, whoever logs it: httpx logs request URLs, and the token travels in the
query string. Code must still never log a secret on purpose; this is the net
under the rope.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any, ClassVar

_SECRET_QUERY = re.compile(
    r"((?:access_token|corpsecret|secret|echostr|encoding_aes_key|msg_signature)=)[^&\s'\"]*",
    re.IGNORECASE,
)
_SECRET_JSON = re.compile(
    r"(\"(?:access_token|corpsecret|secret)\"\s*:\s*\")[^\"]*(\")", re.IGNORECASE
)
_registered: set[str] = set()

#: the pair a task is syncing; the daemon sets it per pair task so that every
#: record logged inside (by the engine too) carries a `pair` attribute
current_pair: ContextVar[str | None] = ContextVar("wesync_current_pair", default=None)


def register_secret(value: str) -> None:
    """Scrub this exact value from every later log line (tokens, secrets)."""
    if value and len(value) >= 6:
        _registered.add(value)


def redact(text: str) -> str:
    text = _SECRET_QUERY.sub(r"\1***", text)
    text = _SECRET_JSON.sub(r"\1***\2", text)
    for value in _registered:
        if value in text:
            text = text.replace(value, "***")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        clean = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # format the traceback now so the scrubbed text is what gets printed
            text = logging.Formatter().formatException(record.exc_info)
            clean = f"{clean}\n{redact(text)}"
            record.exc_info = None
            record.exc_text = None
        record.msg = clean
        record.args = None
        return True


class PairContextFilter(logging.Filter):
    """Adds `pair` (from `extra` or `current_pair`) and `pair_prefix` ("[name] " or "")."""

    def filter(self, record: logging.LogRecord) -> bool:
        pair = getattr(record, "pair", None) or current_pair.get()
        if pair is not None:
            record.pair = pair
        record.pair_prefix = f"[{pair}] " if pair else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("pair", "uid", "path", "schedule_id", "errcode", "endpoint"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        return json.dumps(data, ensure_ascii=False)


class JournalFormatter(logging.Formatter):
    """One line per event with a syslog priority prefix journald understands."""

    _PRIORITY: ClassVar[dict[str, int]] = {
        "DEBUG": 7,
        "INFO": 6,
        "WARNING": 4,
        "ERROR": 3,
        "CRITICAL": 2,
    }

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record).replace("\n", " | ")
        return f"<{self._PRIORITY.get(record.levelname, 6)}>{text}"


def setup_logging(*, verbosity: int = 0, log_format: str = "text") -> None:
    """verbosity: -1 quiet (warnings), 0 info, 1+ debug."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.addFilter(PairContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    elif os.environ.get("JOURNAL_STREAM") and not sys.stderr.isatty():
        handler.setFormatter(JournalFormatter("%(name)s: %(pair_prefix)s%(message)s"))
    elif sys.stderr.isatty():
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(pair_prefix)s%(message)s", "%H:%M:%S")
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(pair_prefix)s%(message)s")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx/httpcore are chatty at DEBUG and print URLs; keep them at WARNING
    # unless -vv, and even then the filter scrubs the token.
    noisy = logging.DEBUG if verbosity >= 2 else logging.WARNING
    for name in ("httpx", "httpcore", "uvicorn.access", "apscheduler", "watchfiles"):
        logging.getLogger(name).setLevel(noisy)
