"""Emulator variants: one selectable answer for each behaviour WeCom does not document.

The first value of each key is what the emulator did before variants existed
and stays the default, so that a test or a user who names nothing sees no
change. Variants are configuration, not data: they are not saved in the
state file, and /_emulator/reset keeps them.

    sequence           per-change | frozen | absent
    listing            sample | full
    update-exclusions  keep | clear
    get                all-or-nothing | partial
    order              creation | start-time
    callbacks          user-only | all
    daily-add-quota    N (schedule/add calls per UTC+8 day; 0 = no limit)
    quota-errcode      N (the errcode of a schedule/add over that quota)

The config parser checks `[wecom] emulator_variants` with this module too
(imported only when that key is present), so that the CLI, the HTTP
administration API and the config refuse exactly the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from wesync.emulator.errors import AdminRequestError

#: key -> its allowed values, the default first; None marks a number
CHOICES: dict[str, tuple[str, ...] | None] = {
    "sequence": ("per-change", "frozen", "absent"),
    "listing": ("sample", "full"),
    "update-exclusions": ("keep", "clear"),
    "get": ("all-or-nothing", "partial"),
    "order": ("creation", "start-time"),
    "callbacks": ("user-only", "all"),
    "daily-add-quota": None,
    "quota-errcode": None,
}
#: WeCom's documented daily limit of schedules an app may create (wecom-findings §8)
DEFAULT_DAILY_ADD_QUOTA = 20000
#: the errcode when that limit is hit is undocumented; 45009 is WeCom's "over the limit"
DEFAULT_QUOTA_ERRCODE = 45009


class VariantError(AdminRequestError):
    """An unknown variant key or value (HTTP 400 from /_emulator/config)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Variants:
    """The selected answers; attribute names are the keys with '_' for '-'."""

    sequence: str = "per-change"
    listing: str = "sample"
    update_exclusions: str = "keep"
    get: str = "all-or-nothing"
    order: str = "creation"
    callbacks: str = "user-only"
    daily_add_quota: int = DEFAULT_DAILY_ADD_QUOTA
    quota_errcode: int = DEFAULT_QUOTA_ERRCODE

    def with_changes(self, changes: Mapping[str, Any]) -> Variants:
        """These variants with `changes` (keys as in CHOICES) applied; VariantError if bad."""
        updates: dict[str, Any] = {}
        for key, raw in changes.items():
            updates[_attr(key)] = parse_value(key, raw)
        return replace(self, **updates)

    def to_json(self) -> dict[str, str | int]:
        """{key: value} with the hyphenated keys users write."""
        return {f.name.replace("_", "-"): getattr(self, f.name) for f in fields(self)}


def _attr(key: object) -> str:
    if not isinstance(key, str) or key not in CHOICES:
        raise VariantError(
            f"unknown emulator variant {key!r} (known: {', '.join(CHOICES)})",
            key=str(key),
        )
    return key.replace("-", "_")


def parse_value(key: str, raw: Any) -> str | int:
    """The value of variant `key` from a string (CLI, TOML) or a JSON value."""
    _attr(key)
    allowed = CHOICES[key]
    if allowed is None:
        number = _number(raw)
        if number is None:
            raise VariantError(
                f"emulator variant {key!r} must be a whole number >= 0, not {raw!r}", key=key
            )
        return number
    if not isinstance(raw, str) or raw not in allowed:
        raise VariantError(
            f"emulator variant {key!r} must be one of {', '.join(allowed)}, not {raw!r}",
            key=key,
        )
    return raw


def _number(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def parse_assignments(items: list[str] | tuple[str, ...]) -> Variants:
    """Variants from `KEY=VALUE` strings (the CLI's repeatable --variant)."""
    changes: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise VariantError(f"--variant wants KEY=VALUE, not {item!r}", key=key)
        changes[key.strip()] = value.strip()
    return Variants().with_changes(changes)


def describe() -> str:
    """The table for --help: one line per key, its values, the default first."""
    lines = []
    for key, allowed in CHOICES.items():
        if allowed is None:
            default = getattr(Variants(), _attr(key))
            lines.append(f"  {key:<18} a number (default {default})")
        else:
            lines.append(f"  {key:<18} {' | '.join(allowed)}")
    return "\n".join(lines)
