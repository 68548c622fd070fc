"""Typed WeCom payloads: calendars and schedules as the API sends them.

Every model keeps the fields it does not know in `extra`, and writes them back
in `to_api()`, so a read-modify-write never drops what WeCom adds later.

A field WeCom left out is `None`, never a default: the documented
get_by_calendar sample omits is_whole_day, remind_time_diffs and
exclude_time_list, and reading their absence as 0 would turn all-day events
into timed ones. `Schedule.is_complete` says whether those are known.

A schedule with a field of the wrong type raises ValueError naming the
field; the client keeps it apart as a `BrokenSchedule` (schedule_id and the
error) on the `ScheduleList` it answers with, so one broken schedule does not
hide the rest of the calendar, and is not taken for a deleted one either.

Legacy payloads (the 2020 schema's `organizer`, `readonly`, and the
`adminis` spelling in the documented calendar/get sample) are read too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import Any, Self, TypeVar

JSON = dict[str, Any]
_T = TypeVar("_T")


def _int(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    raise ValueError(f"expected an integer, got {v!r}")


def _str(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {v!r}")
    return v


def _item(v: Any) -> int:
    """An integer inside a list: a null there is an error, not 0."""
    n = _int(v)
    if n is None:
        raise ValueError("null in a list of integers")
    return n


def _field(data: Mapping[str, Any], key: str, read: Callable[[Any], _T]) -> _T:
    """`read(data[key])`, with the key named in the error."""
    try:
        return read(data.get(key))
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _list(v: Any) -> list[Any] | None:
    if v is None:
        return None
    if not isinstance(v, list):
        raise ValueError(f"expected a list, got {v!r}")
    return v


@cache
def _known(cls: type, *also: str) -> frozenset[str]:
    """The keys the model `cls` reads: its fields but `extra`, and `also`."""
    return frozenset(f.name for f in fields(cls) if f.name != "extra") | frozenset(also)


def _extra(cls: type, data: Mapping[str, Any], *also: str) -> dict[str, Any]:
    """The entries of `data` the model `cls` does not read, kept as its `extra`."""
    known = _known(cls, *also)
    return {k: v for k, v in data.items() if k not in known}


def _put(out: JSON, key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


@dataclass(frozen=True, kw_only=True)
class Attendee:
    userid: str
    response_status: int | None = (
        None  #: 0 none, 1 tentative, 2 accept all, 3 accept once, 4 declined
    )
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        userid = _str(data.get("userid"))
        if not userid:
            raise ValueError("attendee without userid")
        return cls(
            userid=userid,
            response_status=_int(data.get("response_status")),
            extra=_extra(cls, data),
        )

    def to_api(self, *, with_response: bool = False) -> JSON:
        out: JSON = dict(self.extra)
        out["userid"] = self.userid
        if with_response:
            _put(out, "response_status", self.response_status)
        return out


@dataclass(frozen=True, kw_only=True)
class Reminders:
    is_remind: int | None = None
    remind_before_event_secs: int | None = None  #: deprecated by remind_time_diffs
    remind_time_diffs: tuple[int, ...] | None = None
    is_repeat: int | None = None
    repeat_type: int | None = None  #: 0 daily, 1 weekly, 2 monthly, 5 yearly, 7 workdays
    repeat_until: int | None = None  #: 0 = forever
    is_custom_repeat: int | None = None
    repeat_interval: int | None = None
    repeat_day_of_week: tuple[int, ...] | None = None  #: 1 = Monday .. 7 = Sunday
    repeat_day_of_month: tuple[int, ...] | None = None
    timezone: int | None = None  #: whole-hour UTC offset, -12..12
    exclude_time_list: tuple[int, ...] | None = None  #: start times of removed occurrences
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        def ints(v: Any) -> tuple[int, ...] | None:
            items = _list(v)
            return None if items is None else tuple(_item(x) for x in items)

        def exclusions(v: Any) -> tuple[int, ...] | None:
            items = _list(v)
            if items is None:
                return None
            return tuple(
                _item(e.get("start_time")) if isinstance(e, Mapping) else _item(e) for e in items
            )

        def num(key: str) -> int | None:
            return _field(data, key, _int)

        def seq(key: str) -> tuple[int, ...] | None:
            return _field(data, key, ints)

        return cls(
            is_remind=num("is_remind"),
            remind_before_event_secs=num("remind_before_event_secs"),
            remind_time_diffs=seq("remind_time_diffs"),
            is_repeat=num("is_repeat"),
            repeat_type=num("repeat_type"),
            repeat_until=num("repeat_until"),
            is_custom_repeat=num("is_custom_repeat"),
            repeat_interval=num("repeat_interval"),
            repeat_day_of_week=seq("repeat_day_of_week"),
            repeat_day_of_month=seq("repeat_day_of_month"),
            timezone=num("timezone"),
            exclude_time_list=_field(data, "exclude_time_list", exclusions),
            extra=_extra(cls, data),
        )

    def to_api(self, *, with_exclusions: bool = False) -> JSON:
        """The request form. exclude_time_list is read-only in WeCom's API, so it
        is left out unless asked for (the emulator accepts it on add/update so that
        a series with EXDATEs can be written in one call; see wesync.wecom.client)."""
        out: JSON = dict(self.extra)
        for key in (
            "is_remind",
            "remind_before_event_secs",
            "is_repeat",
            "repeat_type",
            "repeat_until",
            "is_custom_repeat",
            "repeat_interval",
            "timezone",
        ):
            _put(out, key, getattr(self, key))
        for key in ("remind_time_diffs", "repeat_day_of_week", "repeat_day_of_month"):
            v = getattr(self, key)
            if v is not None:
                out[key] = list(v)
        if with_exclusions and self.exclude_time_list is not None:
            out["exclude_time_list"] = [{"start_time": t} for t in self.exclude_time_list]
        return out


@dataclass(frozen=True, kw_only=True)
class Schedule:
    schedule_id: str | None = None
    cal_id: str | None = None
    summary: str | None = None
    description: str | None = None
    location: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    is_whole_day: int | None = None
    admins: tuple[str, ...] | None = None
    attendees: tuple[Attendee, ...] | None = None
    reminders: Reminders | None = None
    status: int | None = None  #: 0 normal, 1 cancelled (still listed)
    sequence: int | None = None  #: only in get_by_calendar
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        """Raises ValueError naming the field when one has the wrong type (a null
        inside a list included); a field left out is None."""

        def admins(v: Any) -> tuple[str, ...] | None:
            items = _list(v)
            if items is None:
                return None
            if not all(isinstance(a, str) for a in items):
                raise ValueError(f"expected userids, got {v!r}")
            return tuple(items)

        def attendees(v: Any) -> tuple[Attendee, ...] | None:
            items = _list(v)
            if items is None:
                return None
            if not all(isinstance(a, Mapping) for a in items):
                raise ValueError(f"expected objects, got {v!r}")
            return tuple(Attendee.from_api(a) for a in items)

        def reminders(v: Any) -> Reminders | None:
            if v is None:
                return None
            if not isinstance(v, Mapping):
                raise ValueError(f"expected an object, got {v!r}")
            return Reminders.from_api(v)

        def num(key: str) -> int | None:
            return _field(data, key, _int)

        def text(key: str) -> str | None:
            return _field(data, key, _str)

        return cls(
            schedule_id=text("schedule_id"),
            cal_id=text("cal_id"),
            summary=text("summary"),
            description=text("description"),
            location=text("location"),
            start_time=num("start_time"),
            end_time=num("end_time"),
            is_whole_day=num("is_whole_day"),
            admins=_field(data, "admins", admins),
            attendees=_field(data, "attendees", attendees),
            reminders=_field(data, "reminders", reminders),
            status=num("status"),
            sequence=num("sequence"),
            extra=_extra(cls, data),
        )

    @property
    def is_cancelled(self) -> bool:
        return self.status == 1

    @property
    def is_complete(self) -> bool:
        """True when the fields the documented listing leaves out are all present."""
        r = self.reminders
        return (
            self.is_whole_day is not None
            and r is not None
            and r.remind_time_diffs is not None
            and (not r.is_repeat or r.exclude_time_list is not None)
        )

    def with_changes(self, **changes: Any) -> Schedule:
        return replace(self, **changes)

    def to_api(self, *, for_update: bool = False, with_exclusions: bool = False) -> JSON:
        """The `schedule` object of an add or update request.

        Read-only fields (status, sequence, response_status) are left out;
        cal_id is left out of updates because WeCom does not allow changing it.
        """
        out: JSON = {k: v for k, v in self.extra.items() if k not in ("organizer",)}
        if for_update:
            _put(out, "schedule_id", self.schedule_id)
        else:
            _put(out, "cal_id", self.cal_id)
        for key in ("summary", "description", "location", "start_time", "end_time"):
            _put(out, key, getattr(self, key))
        _put(out, "is_whole_day", self.is_whole_day)
        if self.admins is not None:
            out["admins"] = list(self.admins)
        if self.attendees is not None:
            out["attendees"] = [a.to_api() for a in self.attendees]
        if self.reminders is not None:
            out["reminders"] = self.reminders.to_api(with_exclusions=with_exclusions)
        return out


@dataclass(frozen=True)
class BrokenSchedule:
    """A schedule WeCom answered with that cannot be read (a field of the wrong
    type): known by its id only, so that it is left alone rather than taken for
    deleted."""

    schedule_id: str
    error: str  #: what is wrong, naming the field


class ScheduleList(list[Schedule]):
    """The schedules of an answer that parse; `broken` holds the ones that do not."""

    def __init__(self, schedules: Sequence[Schedule] = (), broken: Sequence[BrokenSchedule] = ()):
        super().__init__(schedules)
        self.broken: list[BrokenSchedule] = list(broken)


def broken_of(schedules: Sequence[Schedule]) -> list[BrokenSchedule]:
    """The broken schedules of a client answer (none for a plain list)."""
    return list(schedules.broken) if isinstance(schedules, ScheduleList) else []


@dataclass(frozen=True, kw_only=True)
class Share:
    userid: str
    permission: int | None = None  #: 1 may view, 3 free/busy only
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        userid = _str(data.get("userid"))
        if not userid:
            raise ValueError("share without userid")
        permission = _int(data.get("permission"))
        # 2020 schema: shares[].readonly instead of permission
        return cls(userid=userid, permission=permission, extra=_extra(cls, data))

    def to_api(self) -> JSON:
        out: JSON = dict(self.extra)
        out["userid"] = self.userid
        _put(out, "permission", self.permission)
        return out


@dataclass(frozen=True, kw_only=True)
class Calendar:
    cal_id: str | None = None
    summary: str | None = None
    color: str | None = None
    description: str | None = None
    admins: tuple[str, ...] | None = None
    shares: tuple[Share, ...] | None = None
    is_public: int | None = None
    public_range: Mapping[str, Any] | None = None  #: {"userids": [...], "partyids": [...]}
    is_corp_calendar: int | None = None
    set_as_default: int | None = None
    organizer: str | None = None  #: 2020 schema only
    readonly: int | None = None  #: 2020 schema only
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        admins = data.get("admins", data.get("adminis"))
        shares = data.get("shares")
        public_range = data.get("public_range")
        return cls(
            cal_id=_str(data.get("cal_id")),
            summary=_str(data.get("summary")),
            color=_str(data.get("color")),
            description=_str(data.get("description")),
            admins=tuple(str(a) for a in admins) if isinstance(admins, list) else None,
            shares=tuple(Share.from_api(s) for s in shares) if isinstance(shares, list) else None,
            is_public=_int(data.get("is_public")),
            public_range=dict(public_range) if isinstance(public_range, Mapping) else None,
            is_corp_calendar=_int(data.get("is_corp_calendar")),
            set_as_default=_int(data.get("set_as_default")),
            organizer=_str(data.get("organizer")),
            readonly=_int(data.get("readonly")),
            extra=_extra(cls, data, "adminis"),  # legacy spelling of admins
        )

    def to_api(self, *, for_update: bool = False) -> JSON:
        """The `calendar` object of an add or update request.

        is_public and is_corp_calendar cannot be changed after creation, so an
        update leaves them out; organizer is immutable and never sent.
        """
        out: JSON = dict(self.extra)
        if for_update:
            _put(out, "cal_id", self.cal_id)
        for key in ("summary", "color", "description"):
            _put(out, key, getattr(self, key))
        if self.admins is not None:
            out["admins"] = list(self.admins)
        if self.shares is not None:
            out["shares"] = [s.to_api() for s in self.shares]
        if self.public_range is not None:
            out["public_range"] = dict(self.public_range)
        if not for_update:
            _put(out, "is_public", self.is_public)
            _put(out, "is_corp_calendar", self.is_corp_calendar)
            _put(out, "set_as_default", self.set_as_default)
        return out
