"""Exceptions become one-line messages and exit codes here, and only here."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from wesync.errors import ConfigError, WesyncError
from wesync.logs import redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("wesync")


def fail(message: str, code: int) -> None:
    click.echo(f"wesync: {redact(message)}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Run a command body, mapping wesync's errors to messages and exit codes."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(f"config error: {exc}", EXIT_USAGE)
        except WesyncError as exc:
            fail(str(exc), EXIT_FAILED)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        return None

    return wrapper  # type: ignore[return-value]


def not_available(command: str) -> None:
    fail(f"'{command}' is not available yet in this version", EXIT_USAGE)
