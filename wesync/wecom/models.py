"""Typed WeCom payloads: calendars and schedules as the API sends them.

Every model keeps the fields it does not know in `extra`, and writes them back
in `to_api()`, so a read-modify-write never drops what WeCom adds later.

A field WeCom left out is `None`, never a default: the documented
get_by_calendar sample omits is_whole_day, remind_time_diffs and
exclude_time_list, and reading their absence as 0 would turn all-day events
into timed ones. `Schedule.is_complete` says whether those are known.

Legacy payloads (the 2020 schema's `organizer`, `readonly`, and the
`adminis` spelling in the documented calendar/get sample) are read too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Self

JSON = dict[str, Any]


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
        known = {"userid", "response_status"}
        userid = _str(data.get("userid"))
        if not userid:
            raise ValueError("attendee without userid")
        return cls(
            userid=userid,
            response_status=_int(data.get("response_status")),
            extra={k: v for k, v in data.items() if k not in known},
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

    _KNOWN = frozenset(
        {
            "is_remind",
            "remind_before_event_secs",
            "remind_time_diffs",
            "is_repeat",
            "repeat_type",
            "repeat_until",
            "is_custom_repeat",
            "repeat_interval",
            "repeat_day_of_week",
            "repeat_day_of_month",
            "timezone",
            "exclude_time_list",
        }
    )

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        def ints(key: str) -> tuple[int, ...] | None:
            v = data.get(key)
            if v is None:
                return None
            if not isinstance(v, list):
                raise ValueError(f"{key} must be a list, got {v!r}")
            return tuple(_int(x) or 0 for x in v)

        excl = data.get("exclude_time_list")
        exclude: tuple[int, ...] | None = None
        if excl is not None:
            if not isinstance(excl, list):
                raise ValueError(f"exclude_time_list must be a list, got {excl!r}")
            exclude = tuple(
                (_int(e.get("start_time")) or 0) if isinstance(e, Mapping) else (_int(e) or 0)
                for e in excl
            )
        return cls(
            is_remind=_int(data.get("is_remind")),
            remind_before_event_secs=_int(data.get("remind_before_event_secs")),
            remind_time_diffs=ints("remind_time_diffs"),
            is_repeat=_int(data.get("is_repeat")),
            repeat_type=_int(data.get("repeat_type")),
            repeat_until=_int(data.get("repeat_until")),
            is_custom_repeat=_int(data.get("is_custom_repeat")),
            repeat_interval=_int(data.get("repeat_interval")),
            repeat_day_of_week=ints("repeat_day_of_week"),
            repeat_day_of_month=ints("repeat_day_of_month"),
            timezone=_int(data.get("timezone")),
            exclude_time_list=exclude,
            extra={k: v for k, v in data.items() if k not in cls._KNOWN},
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

    _KNOWN = frozenset(
        {
            "schedule_id",
            "cal_id",
            "summary",
            "description",
            "location",
            "start_time",
            "end_time",
            "is_whole_day",
            "admins",
            "attendees",
            "reminders",
            "status",
            "sequence",
        }
    )

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Self:
        attendees = data.get("attendees")
        reminders = data.get("reminders")
        admins = data.get("admins")
        return cls(
            schedule_id=_str(data.get("schedule_id")),
            cal_id=_str(data.get("cal_id")),
            summary=_str(data.get("summary")),
            description=_str(data.get("description")),
            location=_str(data.get("location")),
            start_time=_int(data.get("start_time")),
            end_time=_int(data.get("end_time")),
            is_whole_day=_int(data.get("is_whole_day")),
            admins=tuple(str(a) for a in admins) if isinstance(admins, list) else None,
            attendees=(
                tuple(Attendee.from_api(a) for a in attendees)
                if isinstance(attendees, list)
                else None
            ),
            reminders=Reminders.from_api(reminders) if isinstance(reminders, Mapping) else None,
            status=_int(data.get("status")),
            sequence=_int(data.get("sequence")),
            extra={k: v for k, v in data.items() if k not in cls._KNOWN},
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
        extra = {k: v for k, v in data.items() if k not in ("userid", "permission")}
        # 2020 schema: shares[].readonly instead of permission
        return cls(userid=userid, permission=permission, extra=extra)

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

    _KNOWN = frozenset(
        {
            "cal_id",
            "summary",
            "color",
            "description",
            "admins",
            "adminis",
            "shares",
            "is_public",
            "public_range",
            "is_corp_calendar",
            "set_as_default",
            "organizer",
            "readonly",
        }
    )

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
            extra={k: v for k, v in data.items() if k not in cls._KNOWN},
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
