"""The fault-injection soak: random edits on both sides, faults, kills, and an oracle.

Each cycle a simulated user edits the vdir (atomic writes) and another WeCom
client edits the pair's calendar over the HTTP API, then faults are queued on
the emulator and `wesync sync --json` runs as a subprocess, sometimes killed
with SIGKILL at a random moment. Every `check_every` cycles, and at the end,
the faults stop and two clean syncs must bring both sides to exactly what the
oracle (tests/soak/model.py) says the user meant, with the second sync
writing nothing. A checkpoint that finds mismatches records them and starts
a fresh calendar and folder, so one bug does not hide the ones after it.

Some files hold an expanded event (model.py: a Berlin meeting across daylight
saving), which WeCom holds as one single schedule per occurrence. WeCom's users
change those one at a time (edit, delete, cancel: the oracle then holds an
override or an EXDATE); both sides changing the same occurrence before a sync
is a conflict of that occurrence alone, expected as the pair's policy says.
Birthdays (all day, yearly forever, from before 1970) reach WeCom from their
first occurrence since 1970; WeCom's edits of them (summary, reminder) must
come back onto the file's original DTSTART (_compare_birthdays).

Only the emulator's HTTP interface is used (API and /_emulator/*), so the
same harness drives an emulator in this process or a `wesync emulator`
process.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
from dateutil.rrule import rrulestr

from tests.soak.model import (
    BERLIN,
    CST,
    DAY,
    DOMAIN,
    HORIZON,
    HOUR,
    TZ,
    USERS,
    WEEK,
    Entity,
    Occurrence,
    Rule,
    Spec,
    expected,
    occurrence,
    to_ics,
    to_schedule,
)
from wesync.translate import series
from wesync.translate.canonical import ScheduleDraft
from wesync.translate.ics import parse_item
from wesync.translate.options import TranslateOptions
from wesync.translate.remote import draft_from_schedule
from wesync.translate.to_wecom import translate_event
from wesync.wecom.models import Schedule

SCHEDULE = "/cgi-bin/oa/schedule/"
WRITE_PATHS = ("add", "update", "del", "add_attendees", "del_attendees")
#: 2027-01-04 00:00 +08:00, a Monday: every event lives after this
EPOCH0 = int(datetime(2027, 1, 4, tzinfo=CST).timestamp())
REPO = Path(__file__).resolve().parents[2]
POLICIES = ("keep-both", "wecom-wins", "local-wins")
#: the expanded events' occurrences all lie this far inside wesync's rolling window
#: (now - 1 day .. now + expand_window_days, 365 by default), so none is retired or
#: beyond the window while a run lasts, and the oracle need not model the window
EXPANDED_EARLIEST = 8 * DAY
EXPANDED_LATEST = 330 * DAY


def dst_changes(lo: int, hi: int, tz: str = BERLIN) -> list[int]:
    """The instants in [lo, hi] where `tz` changes its UTC offset (hourly scan: the
    zone's changes are on the hour)."""
    zone = ZoneInfo(tz)
    out = []
    t = lo - lo % HOUR
    offset = datetime.fromtimestamp(t, zone).utcoffset()
    while t <= hi:
        t += HOUR
        now = datetime.fromtimestamp(t, zone).utcoffset()
        if now != offset:
            out.append(t)
            offset = now
    return out


#: (kind, path, extra) faults the next sync may meet
FAULTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("errcode -1", "get_by_calendar", {"kind": "errcode", "errcode": -1}),
    ("errcode -1", "get", {"kind": "errcode", "errcode": -1}),
    ("errcode 45009", "add", {"kind": "errcode", "errcode": 45009}),
    ("errcode 45009", "update", {"kind": "errcode", "errcode": 45009}),
    ("errcode 45009", "get_by_calendar", {"kind": "errcode", "errcode": 45009}),
    ("errcode 42001", "get_by_calendar", {"kind": "errcode", "errcode": 42001}),
    ("errcode 42001", "add", {"kind": "errcode", "errcode": 42001}),
    ("errcode 42001", "del", {"kind": "errcode", "errcode": 42001}),
    ("http 502", "get", {"kind": "http_status", "status": 502}),
    ("http 502", "update", {"kind": "http_status", "status": 502}),
    ("http 502", "get_by_calendar", {"kind": "http_status", "status": 502}),
    ("delay", "get_by_calendar", {"kind": "delay", "seconds": 0.5}),
    ("delay", "add", {"kind": "delay", "seconds": 0.3}),
    ("drop_after_commit add", "add", {"kind": "drop_after_commit"}),
    ("drop_after_commit update", "update", {"kind": "drop_after_commit"}),
    ("drop_after_commit del", "del", {"kind": "drop_after_commit"}),
)


class SoakError(Exception):
    """The harness itself cannot go on (the emulator refused a setup call)."""


class Api:
    """The WeCom API and the emulator's administration, as another client uses them."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def token(self) -> str:
        if self._token is None:
            answer = self.http.get(
                "/cgi-bin/gettoken",
                params={"corpid": "wwemulator", "corpsecret": "emulator-secret"},
            ).json()
            self._token = str(answer["access_token"])
        return self._token

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for _ in range(3):
            answer: dict[str, Any] = self.http.post(
                path, params={"access_token": self.token()}, json=body
            ).json()
            if answer.get("errcode") in (40014, 42001):
                self._token = None
                continue
            return answer
        return answer

    def ok(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.call(path, body)
        if answer.get("errcode") != 0:
            raise SoakError(f"{path} {body}: {answer}")
        return answer

    def admin(self, method: str, action: str, body: Any = None) -> dict[str, Any]:
        response = self.http.request(method, f"/_emulator/{action}", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def pending_faults(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "state").get("faults", []))

    def drain_faults(self) -> None:
        """Use up queued faults with calls that cannot change anything (invalid bodies)."""
        for _ in range(200):
            pending = self.pending_faults()
            if not pending:
                return
            for fault in pending:
                # drop_after_commit closes the connection: that is the fault used up
                with contextlib.suppress(httpx.HTTPError):
                    self.http.post(
                        fault["path"], params={"access_token": self.token()}, json={}, timeout=10
                    )
        raise SoakError("faults could not be drained")

    def schedules(self, cal_id: str) -> list[dict[str, Any]]:
        """Every live schedule of the calendar, in full (get), in listing order."""
        ids: list[str] = []
        offset = 0
        while True:
            page = self.ok(
                SCHEDULE + "get_by_calendar", {"cal_id": cal_id, "offset": offset, "limit": 1000}
            )["schedule_list"]
            ids += [s["schedule_id"] for s in page if s.get("status") != 1]
            if len(page) < 1000:
                break
            offset += 1000
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), 1000):
            got = self.ok(SCHEDULE + "get", {"schedule_id_list": ids[i : i + 1000]})
            out += [s for s in got["schedule_list"] if s.get("status") != 1]
        return out

    def writes(self) -> list[str]:
        log = self.admin("GET", "requests")["requests"]
        return [
            r["path"]
            for r in log
            if r["path"].startswith(SCHEDULE) and r["path"].rsplit("/", 1)[1] in WRITE_PATHS
        ]


@dataclass
class SyncRun:
    returncode: int
    killed: bool
    report: dict[str, Any] | None
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        pairs = (self.report or {}).get("pairs") or [{}]
        return self.returncode == 0 and all(p.get("ok") for p in pairs)


@dataclass
class Figures:
    cycles: int = 0
    syncs: int = 0
    syncs_ok: int = 0
    kills: int = 0
    checkpoints: int = 0
    restarts: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    #: (cycle, description), each distinct description once
    mismatches: list[tuple[int, str]] = field(default_factory=list)
    crashes: list[tuple[int, str]] = field(default_factory=list)
    #: user operations WeCom refused (its state was not what the oracle expected)
    refused: list[tuple[int, str]] = field(default_factory=list)
    #: per checkpoint with mismatches, the log lines about the events involved
    stories: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [
            f"cycles: {self.cycles}",
            f"syncs: {self.syncs} (ok {self.syncs_ok}, killed {self.kills})",
            f"kills: {self.kills}",
            f"checkpoints: {self.checkpoints} (fresh starts after a mismatch: {self.restarts})",
            f"faults injected: {sum(self.faults.values())}",
        ]
        lines += [f"  {kind}: {n}" for kind, n in sorted(self.faults.items())]
        lines.append(
            "user operations: " + ", ".join(f"{k} {n}" for k, n in sorted(self.operations.items()))
        )
        lines.append(f"crashes: {len(self.crashes)}")
        lines += [f"  cycle {c}: {text}" for c, text in self.crashes]
        lines.append(f"operations WeCom refused: {len(self.refused)}")
        lines += [f"  cycle {c}: {text}" for c, text in self.refused]
        lines.append(f"mismatches: {len(self.mismatches)}")
        lines += [f"  cycle {c}: {text}" for c, text in self.mismatches]
        return "\n".join(lines)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _fmt(o: Occurrence) -> str:
    when = datetime.fromtimestamp(o[3], CST).strftime("%Y-%m-%d %H:%M")
    # what else differs between two occurrences of one summary and time
    rest = "".join(
        f", {name} {value!r}"
        for name, value in (("description", o[1]), ("location", o[2]), ("attendees", o[6]))
        if value
    )
    rest += f", reminders {o[7]}" if o[7] else ""
    return f"{o[0]!r} at {when} ({(o[4] - o[3]) // 60} min{', all day' if o[5] else ''}{rest})"


def _draft_occurrences(draft: ScheduleDraft) -> list[Occurrence]:
    spec = Spec(
        summary=draft.summary,
        start=draft.start_time,
        duration=draft.end_time - draft.start_time,
        all_day=draft.is_whole_day,
        description=draft.description,
        location=draft.location,
        attendees=draft.attendees,
        reminders=draft.remind_time_diffs,
    )
    rec = draft.recurrence
    if rec is None:
        return [occurrence(spec, draft.start_time)]
    # a forever series that is not a birthday is a bug; shown, but finitely
    return [
        occurrence(spec, t)
        for t in series.occurrences(draft.start_time, rec, end=HORIZON)
        if t not in rec.exclude_times
    ]


def _diff(name_a: str, a: Counter[Any], name_b: str, b: Counter[Any], show: Any) -> list[str]:
    out = []
    for item, n in sorted((a - b).items(), key=lambda kv: str(kv[0])):
        out.append(f"{show(item)}: {n}x in {name_a} only")
    for item, n in sorted((b - a).items(), key=lambda kv: str(kv[0])):
        out.append(f"{show(item)}: {n}x in {name_b} only")
    return out


class Soak:
    """One soak run against the emulator at `url`, in `workdir`."""

    def __init__(
        self,
        url: str,
        workdir: Path,
        *,
        seed: int,
        policy: str = "keep-both",
        kill_probability: float = 0.25,
        fault_probability: float = 0.6,
        conflict_probability: float = 0.2,
        check_every: int = 25,
        log: Any = None,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}")
        self.url = url
        self.api = Api(url)
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.seed = seed
        self.policy = policy
        self.kill_probability = kill_probability
        self.fault_probability = fault_probability
        self.conflict_probability = conflict_probability
        self.check_every = check_every
        self._sink = log or (lambda _msg: None)
        #: this generation's log, to show the story of an event a checkpoint finds wrong
        self.lines: list[str] = []
        self.figures = Figures()
        self.entities: dict[int, Entity] = {}
        self.next_key = 0
        self.version = 0
        self.generation = 0
        self.cal_id = ""
        self.local = workdir / "none"
        self.config = workdir / "none.toml"
        self.cycle_no = 0
        # the expanded events straddle one of these (the soak runs at the real time, and
        # so does every sync: wesync's window is around now, not around EPOCH0)
        began = int(time.time())
        self.expanded_lo = max(EPOCH0, began + EXPANDED_EARLIEST)
        self.expanded_hi = began + EXPANDED_LATEST
        # margins: an event starts up to 5 weeks before its change, ends up to 9 weeks
        # after it, and a master edit may move it by 2 days
        self.transitions = dst_changes(self.expanded_lo + 6 * WEEK, self.expanded_hi - 11 * WEEK)

    def log(self, message: str) -> None:
        self.lines.append(f"[{self.cycle_no}] {message.strip()}")
        self._sink(message)

    def history(self, text: str) -> list[str]:
        """The log lines about every event named in `text`."""
        keys = set(re.findall(r"'ev(\d+)R? #", text))
        pattern = re.compile(r"'ev(?:" + "|".join(sorted(keys)) + r")R? #") if keys else None
        if pattern is None:
            return []
        hits = [line for line in self.lines if pattern.search(line)][-40:]
        cycles = {line.split("]", 1)[0] for line in hits}
        # with what else happened in those cycles: the faults and how the sync ended
        return [
            line
            for line in self.lines
            if line in hits
            or (line.split("]", 1)[0] in cycles and ("fault:" in line or "] cycle " in line))
        ]

    # --- setup -----------------------------------------------------------------------

    def start(self) -> None:
        """A fresh calendar, folder, status database and population, then a clean sync."""
        self.generation += 1
        self.entities = {}
        self.lines = []
        self.api.drain_faults()
        self.cal_id = self.api.ok(
            "/cgi-bin/oa/calendar/add",
            {"calendar": {"summary": f"soak {self.generation}", "color": "#3030FF"}},
        )["cal_id"]
        base = self.workdir / f"gen{self.generation}"
        if base.exists():
            shutil.rmtree(base)
        base.mkdir(parents=True)
        self.local = base / "calendar"
        self.local.mkdir()
        self.config = base / "wesync.toml"
        self.config.write_text(
            "[wecom]\n"
            'corpid = "wwemulator"\n'
            'corpsecret = "emulator-secret"\n'
            f'base_url = "{self.url}"\n'
            "[state]\n"
            f'dir = "{base / "state"}"\n'
            "[[pairs]]\n"
            'name = "soak"\n'
            f'local = "{self.local}"\n'
            f'cal_id = "{self.cal_id}"\n'
            f'conflict = "{self.policy}"\n'
            f'user_domain = "{DOMAIN}"\n'
        )
        self.config.chmod(0o600)
        for _ in range(8):
            self._local_create()
        # one expanded event and one birthday always, so that even a short run edits
        # an expanded event's occurrences and a series from before 1970
        self._local_create(expanded=True)
        self._local_create(birthday=True)
        for _ in range(4):
            self._remote_create()
        run = self.sync()
        if not run.ok:
            raise SoakError(f"the first sync failed: {run.report} {run.stderr[-2000:]}")
        self._all_clean()

    def close(self) -> None:
        self.api.close()

    # --- the oracle's bookkeeping ---------------------------------------------------------

    def _summary(self, key: int, part: str = "") -> str:
        self.version += 1
        return f"ev{key}{part} #{self.version}"

    def _new_key(self) -> int:
        self.next_key += 1
        return self.next_key

    def _all_clean(self) -> None:
        for e in self.entities.values():
            e.dirty_local = e.dirty_remote = False

    def _expanded_spec(self, key: int) -> Spec | None:
        """A weekly meeting in Berlin at a fixed wall time, straddling a daylight-saving
        change: 1-5 weeks before it, 1-5 after, every occurrence inside the window."""
        if not self.transitions:
            return None
        rng = self.rng
        zone = ZoneInfo(BERLIN)
        change = datetime.fromtimestamp(rng.choice(self.transitions), zone)
        day = (change - timedelta(weeks=rng.randint(1, 5))).date()
        wall = datetime(day.year, day.month, day.day, rng.randrange(8, 19), 0, tzinfo=zone)
        last = wall + timedelta(weeks=rng.randint(6, 10))
        return Spec(
            summary=self._summary(key),
            start=int(wall.timestamp()),
            duration=rng.choice((30, 60)) * 60,
            description=rng.choice(("", "weekly sync")),
            location=rng.choice(("", "Berlin, Raum 2")),
            rule=Rule(freq="WEEKLY", interval=1, until=int(last.timestamp())),
            tz=BERLIN,
        )

    def _birthday_spec(self, key: int) -> Spec:
        """A birthday: all day, yearly forever, from a date before 1970."""
        rng = self.rng
        born = datetime(
            rng.choice((1965, 1965, 1962, 1969)), rng.randint(1, 12), rng.randint(1, 28)
        )
        return Spec(
            summary=self._summary(key),
            start=int(born.replace(tzinfo=CST).timestamp()),
            duration=DAY,
            all_day=True,
            description=rng.choice(("", "born")),
            rule=Rule(freq="YEARLY", interval=1, until=HORIZON),
            reminders=rng.choice(((), (-86400,))),
        )

    def _random_spec(self, key: int, *, expanded_ok: bool = False) -> Spec:
        rng = self.rng
        if expanded_ok and rng.random() < 0.25:
            spec = self._expanded_spec(key)
            if spec is not None:
                return spec
        day = EPOCH0 + rng.randrange(0, 300) * DAY
        if rng.random() < 0.15:
            return Spec(
                summary=self._summary(key),
                start=day,
                duration=DAY * rng.choice((1, 2)),
                all_day=True,
                description=rng.choice(("", "all day")),
            )
        start = day + rng.randrange(8, 19) * HOUR
        spec = Spec(
            summary=self._summary(key),
            start=start,
            duration=rng.choice((30, 60, 90)) * 60,
            description=rng.choice(("", "agenda", "line one\nline two")),
            location=rng.choice(("", "Room 1", "Beijing, 3F")),
        )
        if rng.random() < 0.3:
            spec.attendees = tuple(sorted(rng.sample(USERS, rng.randint(1, 2))))
        if rng.random() < 0.5:
            freq = rng.choice(("DAILY", "WEEKLY"))
            interval = rng.randint(1, 3)
            rule = Rule(freq=freq, interval=interval, until=0)
            rule.until = start + rule.step * rng.randint(3, 10)
            spec.rule = rule
        return spec

    # --- finding things on each side ------------------------------------------------------

    def _local_index(self) -> dict[str, tuple[Path, str]]:
        """Master SUMMARY -> (file, UID), read with icalendar (not wesync)."""
        index: dict[str, tuple[Path, str]] = {}
        for path in sorted(self.local.glob("*.ics")):
            try:
                cal = icalendar.Calendar.from_ical(path.read_bytes())
            except ValueError:
                continue
            for event in cal.walk("VEVENT"):
                if "RECURRENCE-ID" not in event:
                    index.setdefault(str(event.get("SUMMARY", "")), (path, str(event["UID"])))
        return index

    def _remote_index(self) -> dict[str, list[dict[str, Any]]]:
        index: dict[str, list[dict[str, Any]]] = {}
        for s in self.api.schedules(self.cal_id):
            index.setdefault(s.get("summary", ""), []).append(s)
        return index

    # --- user operations: local -------------------------------------------------------------

    def _local_create(self, *, expanded: bool = False, birthday: bool = False) -> None:
        key = self._new_key()
        # only a file can hold a rule WeCom cannot, or a date before 1970 (a WeCom
        # client creates neither)
        if birthday or self.rng.random() < 0.08:
            spec: Spec | None = self._birthday_spec(key)
        else:
            spec = self._expanded_spec(key) if expanded else None
        spec = spec or self._random_spec(key, expanded_ok=True)
        entity = Entity(key=key, master=spec, dirty_local=True)
        self.entities[key] = entity
        _write_atomic(self.local / f"soak-{key}.ics", to_ics(f"soak-{key}@example.com", entity))
        self.figures.operations["local create"] += 1
        self.log(f"  local create: {entity.master.summary!r} {_shape(entity.master)}")

    def _local_write(self, entity: Entity, index: dict[str, tuple[Path, str]], old: str) -> bool:
        found = index.get(old)
        if found is None:
            return False
        path, uid = found
        _write_atomic(path, to_ics(uid, entity))
        entity.dirty_local = True
        return True

    def _edited(self, entity: Entity) -> Entity:
        """A copy of `entity` with a user edit of its master (content, maybe the time)."""
        rng = self.rng
        twin = entity.clone(entity.key)
        m = twin.master
        m.summary = self._summary(entity.key)
        if rng.random() < 0.3:
            m.description = rng.choice(("", "new agenda", "moved\nplease note"))
        if rng.random() < 0.3:
            m.location = rng.choice(("", "Room 2", "Shanghai"))
        if entity.birthday and rng.random() < 0.5:
            m.reminders = rng.choice(((), (-86400,), (-172800,), (-604800,), (32400,)))
        if not m.all_day and not twin.overrides and not m.exdates and rng.random() < 0.4:
            shift = rng.choice((-2, -1, 1, 2, 24, 48)) * HOUR
            m.start += shift
            if m.rule is not None:
                m.rule.until += shift
        return twin

    def _series_change(self, entity: Entity, *, remote: bool) -> tuple[Entity, str] | None:
        """A copy with one change to the series, and what kind of change it is."""
        rng = self.rng
        m = entity.master
        if m.rule is None:
            return None
        free = entity.free_starts()
        twin = entity.clone(entity.key)
        tm = twin.master
        assert tm.rule is not None
        choice = rng.random()
        if choice < 0.3 and len(free) > 2:
            tm.exdates.add(rng.choice(free[1:]))
            return twin, "exdate"
        if choice < 0.55 and len(free) > 2 and not remote:
            rid = rng.choice(free[1:])
            twin.overrides[rid] = Spec(
                summary=self._summary(entity.key, "R"),
                start=rid + rng.choice((0, 1, 2, 24)) * HOUR,
                duration=m.duration,
                attendees=m.attendees,
                responses=dict(m.responses),
            )
            return twin, "override add"
        if choice < 0.7 and twin.overrides:
            rid = rng.choice(sorted(twin.overrides))
            o = twin.overrides[rid]
            o.summary = self._summary(entity.key, "R")
            o.start = rid + rng.choice((0, 1, 3)) * HOUR
            return twin, "override edit"
        if entity.expanded and twin.overrides:
            # the occurrence back to the series' own version (an override deleted in
            # the editor), whichever side made it
            rid = rng.choice(sorted(twin.overrides))
            del twin.overrides[rid]
            return twin, "override drop"
        if entity.expanded:
            # its rule stays as made: it must keep straddling its daylight-saving change
            # and stay inside the window (EXPANDED_LATEST)
            return None
        if choice < 0.85 and not twin.overrides and not tm.exdates:
            tm.rule.interval = rng.choice([i for i in (1, 2, 3) if i != tm.rule.interval])
            tm.rule.until = tm.start + tm.rule.step * rng.randint(2, 8)
            tm.summary = self._summary(entity.key)
            return twin, "interval"
        # UNTIL: never before an exclusion or override, so none becomes meaningless
        floor = max([tm.start + tm.rule.step, *tm.exdates, *twin.overrides])
        choices = [t for t in range(floor, tm.start + tm.rule.step * 12 + 1, tm.rule.step)]
        choices = [t for t in choices if t != tm.rule.until] or [floor]
        tm.rule.until = rng.choice(choices)
        tm.summary = self._summary(entity.key)
        return twin, "until"

    # --- user operations: remote ----------------------------------------------------------

    def _remote_create(self) -> None:
        key = self._new_key()
        spec = self._random_spec(key)
        self.api.ok(SCHEDULE + "add", {"schedule": to_schedule(spec, cal_id=self.cal_id)})
        self.entities[key] = Entity(key=key, master=spec, dirty_remote=True)
        self.figures.operations["remote create"] += 1
        self.log(f"  remote create: {spec.summary!r} {_shape(spec)}")

    def _remote_put(
        self, entity: Entity, new: Entity, index: dict[str, list[dict[str, Any]]]
    ) -> bool:
        """Make WeCom hold `new` where it held `entity` (same overrides), as a client would."""
        found = index.get(entity.master.summary)
        if not found:
            return False
        sid = found[0]["schedule_id"]
        body = {"schedule_id": sid, **to_schedule(new.master)}
        self.api.ok(SCHEDULE + "update", {"schedule": body})
        # a careful client: an update may clear the series' exclusions (WeCom leaves
        # it open; the emulator's update-exclusions variant), so it looks and puts
        # back every one the series should have, its overrides' included
        (now,) = self.api.ok(SCHEDULE + "get", {"schedule_id_list": [sid]})["schedule_list"]
        have = {x["start_time"] for x in now.get("reminders", {}).get("exclude_time_list") or ()}
        for x in sorted((new.master.exdates | set(new.overrides)) - have):
            self.api.ok(SCHEDULE + "del", {"schedule_id": sid, "op_mode": 1, "op_start_time": x})
        for rid, o in new.overrides.items():
            before = entity.overrides.get(rid)
            if before is not None and before != o:
                hit = index.get(before.summary)
                if not hit:
                    return False
                body = {"schedule_id": hit[0]["schedule_id"], **to_schedule(o)}
                self.api.ok(SCHEDULE + "update", {"schedule": body})
        new.dirty_remote = True
        return True

    def _remote_delete(self, entity: Entity, index: dict[str, list[dict[str, Any]]]) -> bool:
        found = [index.get(s) for s in entity.summaries()]
        if not all(found):
            return False
        for hit in reversed(found):  # overrides first, the series last
            assert hit is not None
            self.api.ok(SCHEDULE + "del", {"schedule_id": hit[0]["schedule_id"]})
        return True

    def _remote_split(self, entity: Entity, index: dict[str, list[dict[str, Any]]]) -> bool:
        """'Only this occurrence' edited in WeCom: a new single schedule, the series excludes it."""
        free = entity.free_starts()
        found = index.get(entity.master.summary)
        if len(free) < 3 or not found:
            return False
        at = self.rng.choice(free[1:])
        key = self._new_key()
        single = Spec(
            summary=self._summary(key),
            start=at + self.rng.choice((0, 1, 2)) * HOUR,
            duration=entity.master.duration,
        )
        body = {"schedule_id": found[0]["schedule_id"], **to_schedule(single)}
        self.api.ok(SCHEDULE + "update", {"schedule": body, "op_mode": 1, "op_start_time": at})
        entity.master.exdates.add(at)
        entity.dirty_remote = True
        self.entities[key] = Entity(key=key, master=single, dirty_remote=True)
        return True

    def _remote_birthday(self, index: dict[str, list[dict[str, Any]]]) -> None:
        """A WeCom user edits a birthday as WeCom shows it (from its first occurrence
        since 1970): a new summary, a new reminder. The file must keep its DTSTART."""
        rng = self.rng
        choices = [e for e in self.entities.values() if e.birthday and not e.dirty_local]
        if not choices:
            return
        entity = rng.choice(choices)
        found = index.get(entity.master.summary)
        if not found:
            return
        schedule = found[0]
        spec = entity.master
        old = spec.summary
        spec.summary = self._summary(entity.key)
        if rng.random() < 0.7:
            spec.reminders = rng.choice(((-86400,), (-172800,), (-604800,), (32400,), ()))
        # what the app sends: the schedule as it is, with the user's changes
        # (update overwrites: a field left out is cleared)
        fields = (
            "schedule_id",
            "start_time",
            "end_time",
            "is_whole_day",
            "description",
            "location",
        )
        body = {k: schedule[k] for k in fields}
        reminders = {k: v for k, v in schedule["reminders"].items() if k != "exclude_time_list"}
        reminders["is_remind"] = 1 if spec.reminders else 0
        reminders["remind_time_diffs"] = list(spec.reminders)
        body.update(summary=spec.summary, reminders=reminders)
        self.api.ok(SCHEDULE + "update", {"schedule": body})
        entity.dirty_remote = True
        self.figures.operations["remote birthday edit"] += 1
        self.log(f"  remote birthday edit: {old!r} -> {spec.summary!r} {spec.reminders}")

    # --- expanded events: WeCom's users change one occurrence at a time ------------------

    def _occurrence_schedule(
        self, entity: Entity, rid: int, index: dict[str, list[dict[str, Any]]]
    ) -> dict[str, Any] | None:
        """WeCom's single schedule of the occurrence originally at `rid`."""
        override = entity.overrides.get(rid)
        if override is not None:
            hits = index.get(override.summary, [])
        else:
            hits = [s for s in index.get(entity.master.summary, []) if s["start_time"] == rid]
        return hits[0] if hits else None

    def _occurrence_edit(self, entity: Entity, rid: int, part: str = "R") -> Spec:
        """A user's new version of one occurrence (a new summary, maybe moved)."""
        base = entity.overrides.get(rid) or entity.master
        return Spec(
            summary=self._summary(entity.key, part),
            start=rid + self.rng.choice((0, 0, 1, 2, 24)) * HOUR,
            duration=self.rng.choice((base.duration, base.duration, 45 * 60)),
            description=self.rng.choice((base.description, "only this one")),
            location=base.location,
            attendees=base.attendees,
            tz=entity.master.tz,
        )

    def _remote_occurrence_write(
        self, entity: Entity, rid: int, new: Spec | None, index: dict[str, list[dict[str, Any]]]
    ) -> str | None:
        """Edit (`new`) or delete/cancel (None) WeCom's schedule of one occurrence;
        what was done, or None when WeCom has no such schedule."""
        found = self._occurrence_schedule(entity, rid, index)
        if found is None:
            return None
        sid = found["schedule_id"]
        if new is not None:
            self.api.ok(SCHEDULE + "update", {"schedule": {"schedule_id": sid, **to_schedule(new)}})
            return "edit"
        if self.rng.random() < 0.5:
            self.api.ok(SCHEDULE + "del", {"schedule_id": sid})
            return "delete"
        # cancelled in the app: the schedule stays, with status 1
        self.api.admin("POST", "admin_cancel", {"schedule_id": sid})
        return "cancel"

    def _remote_occurrence(self) -> None:
        """A WeCom user edits, deletes or cancels one schedule of an expanded event."""
        rng = self.rng
        choices = [e for e in self.entities.values() if e.expanded and not e.dirty_local]
        if not choices:
            return
        entity = rng.choice(choices)
        free = entity.free_starts()
        rids = free + sorted(entity.overrides)
        if not rids:
            return
        rid = rng.choice(rids)
        # keep some occurrences: an event with none left is not what this is about
        edit = rng.random() < 0.6 or len(free) <= 2
        new = self._occurrence_edit(entity, rid) if edit else None
        done = self._remote_occurrence_write(entity, rid, new, self._remote_index())
        if done is None:
            return
        before = entity.overrides.get(rid)
        if new is None:
            entity.master.exdates.add(rid)
            entity.overrides.pop(rid, None)
        else:
            entity.overrides[rid] = new
        entity.dirty_remote = True
        self.figures.operations[f"remote occurrence {done}"] += 1
        was = (before or entity.master).summary
        self.log(
            f"  remote occurrence {done}: {was!r} at {_when(rid)}"
            + (f" -> {new.summary!r} {_shape(new)}" if new else "")
        )

    def _expanded_conflict(
        self, local: dict[str, tuple[Path, str]], remote: dict[str, list[dict[str, Any]]]
    ) -> None:
        """One occurrence of an expanded event changed in the file and in WeCom before a
        sync: the pair's policy decides that occurrence alone."""
        rng = self.rng
        clean = [e for e in self.entities.values() if e.expanded and not e.dirty]
        if not clean:
            return
        target = rng.choice(clean)
        found = local.get(target.master.summary)
        free = target.free_starts()
        if found is None or len(free) <= 2:
            return
        kinds = ["edit/edit", "edit/edit", "edit/delete", "exdate/edit", "exdate/delete"]
        if self.policy != "keep-both":
            # under keep-both the file's copy of the occurrence would share the master's
            # summary, which the soak finds files by
            kinds.append("master/edit")
        kind = rng.choice(kinds)
        rid = rng.choice(free if kind == "master/edit" else free + sorted(target.overrides))
        if self._occurrence_schedule(target, rid, remote) is None:
            return
        mine = target.clone(target.key)
        local_version: Spec | None = None
        if kind == "master/edit":
            mine.master.summary = self._summary(target.key)
            mine.master.description = rng.choice(("", "new agenda"))
        elif kind.startswith("exdate"):
            mine.master.exdates.add(rid)
            mine.overrides.pop(rid, None)
        else:
            local_version = self._occurrence_edit(target, rid)
            mine.overrides[rid] = local_version
        theirs = None if kind.endswith("delete") else self._occurrence_edit(target, rid)
        _write_atomic(found[0], to_ics(found[1], mine))
        self._remote_occurrence_write(target, rid, theirs, remote)
        winner = mine.clone(target.key)
        if kind == "master/edit":
            assert theirs is not None
            if self.policy == "wecom-wins":
                winner.overrides[rid] = theirs
        elif theirs is None:
            pass  # a change beats a deletion; two deletions are one EXDATE
        elif local_version is None:
            winner.master.exdates.discard(rid)
            winner.overrides[rid] = theirs
        elif self.policy != "local-wins":
            winner.overrides[rid] = theirs
            if self.policy == "keep-both":
                # the file's version of the occurrence, saved as an event of its own
                key = self._new_key()
                single = copy.deepcopy(local_version)
                single.tz = TZ
                self.entities[key] = Entity(
                    key=key, master=single, dirty_local=True, dirty_remote=True
                )
        winner.dirty_local = winner.dirty_remote = True
        self.entities[target.key] = winner
        local.pop(target.master.summary, None)
        remote.pop(target.master.summary, None)
        self.figures.operations[f"conflict occurrence {kind}"] += 1
        self.log(
            f"  conflict occurrence {kind}: {target.master.summary!r} at {_when(rid)} -> "
            f"local {(local_version or mine.master).summary!r}, "
            f"WeCom {theirs.summary if theirs else None!r}"
        )

    def _respond(self, entity: Entity, index: dict[str, list[dict[str, Any]]]) -> bool:
        found = index.get(entity.master.summary)
        # only one-off events: wesync re-creates a series whose rule changes (WeCom cannot
        # reshape one), and a new schedule starts with no answers
        if not entity.master.attendees or entity.master.rule is not None or not found:
            return False
        user = self.rng.choice(entity.master.attendees)
        status = self.rng.choice([s for s in (1, 2, 4) if s != entity.master.responses.get(user)])
        self.api.admin(
            "POST",
            "respond",
            {"schedule_id": found[0]["schedule_id"], "userid": user, "response_status": status},
        )
        entity.master.responses[user] = status
        entity.dirty_remote = True
        self.log(f"  remote respond: {entity.master.summary!r} {user} {status}")
        return True

    # --- one cycle ---------------------------------------------------------------------------

    def mutate(self) -> None:
        rng = self.rng
        self.api.drain_faults()
        local = self._local_index()
        remote = self._remote_index()
        if rng.random() < self.conflict_probability:
            self._guarded(self._conflict, local, remote)
        for _ in range(rng.randint(1, 4)):
            self._guarded(self._one_operation, local, remote)

    def _guarded(self, operation: Any, *args: Any) -> None:
        """A user operation WeCom refuses means WeCom no longer holds what the oracle
        says (the next checkpoint shows how): noted, and the soak goes on."""
        try:
            operation(*args)
        except SoakError as exc:
            self.figures.refused.append((self.cycle_no, str(exc)[:600]))
            self.log(f"  REFUSED: {exc}")

    def _pick(self, *, side: str, series_only: bool = False) -> Entity | None:
        choices = [
            e
            for e in self.entities.values()
            if not (e.dirty_remote if side == "local" else e.dirty_local)
            and (not series_only or e.master.rule is not None)
            # WeCom has no series of an expanded event to edit, answer or delete as a
            # whole: its users change one occurrence at a time (_remote_occurrence)
            and not (side == "remote" and e.expanded)
            # a birthday's start is before what WeCom holds: its users edit what
            # WeCom shows them (_remote_birthday), and the file its rule stays as is
            and not (e.birthday and (side == "remote" or series_only))
        ]
        return self.rng.choice(choices) if choices else None

    def _one_operation(
        self, local: dict[str, tuple[Path, str]], remote: dict[str, list[dict[str, Any]]]
    ) -> None:
        rng = self.rng
        side = rng.choice(("local", "remote"))
        population = len(self.entities)
        roll = rng.random()
        create_p = 0.35 if population < 12 else (0.05 if population > 30 else 0.15)
        delete_p = create_p + (0.02 if population < 8 else (0.25 if population > 30 else 0.1))
        if roll < create_p:
            self._local_create() if side == "local" else self._remote_create()
            return
        if roll < delete_p:
            target = self._pick(side=side)
            if target is None:
                return
            if side == "local":
                found = local.get(target.master.summary)
                if found is None:
                    return
                found[0].unlink()
                local.pop(target.master.summary)
            elif not self._remote_delete(target, remote):
                return
            del self.entities[target.key]
            self.figures.operations[f"{side} delete"] += 1
            self.log(f"  {side} delete: {target.master.summary!r}")
            return
        if side == "remote" and roll < delete_p + 0.2:
            self._remote_occurrence()
            return
        if side == "remote" and roll < delete_p + 0.25:
            self._remote_birthday(remote)
            return
        if roll < delete_p + 0.35:
            target = self._pick(side=side, series_only=True)
            if target is None:
                return
            if side == "remote" and rng.random() < 0.3:
                if self._remote_split(target, remote):
                    self.figures.operations["remote split"] += 1
                    self.log(f"  remote split: {target.master.summary!r}")
                return
            changed = self._series_change(target, remote=side == "remote")
            if changed is None:
                return
            new, kind = changed
        elif side == "remote" and roll < delete_p + 0.45:
            target = self._pick(side="remote")
            if target is not None and self._respond(target, remote):
                self.figures.operations["remote respond"] += 1
            return
        else:
            target = self._pick(side=side)
            if target is None:
                return
            new, kind = self._edited(target), "edit"
        if side == "local":
            done = self._local_write(new, local, target.master.summary)
        else:
            done = self._remote_put(target, new, remote)
        if done:
            self.entities[target.key] = new
            self.figures.operations[f"{side} {kind}"] += 1
            self.log(f"  {side} {kind}: {target.master.summary!r} -> {new.master.summary!r}")

    def _conflict(
        self, local: dict[str, tuple[Path, str]], remote: dict[str, list[dict[str, Any]]]
    ) -> None:
        """The same event changed on both sides before a sync: the pair's policy decides."""
        rng = self.rng
        # no overrides (their summaries would be shared by both versions under keep-both)
        # and no answers (a keep-both copy is a new schedule, which has none)
        if rng.random() < 0.5:
            self._expanded_conflict(local, remote)
            return
        clean = [
            e
            for e in self.entities.values()
            if not e.dirty
            and not e.overrides
            and not e.master.responses
            and not e.expanded
            and not e.birthday
        ]
        if not clean:
            return
        target = rng.choice(clean)
        found = local.get(target.master.summary)
        if found is None or not remote.get(target.master.summary):
            return
        kind = rng.choice(("edit/edit", "edit/edit", "delete/edit", "edit/delete"))
        mine, theirs = self._edited(target), self._edited(target)
        if kind == "delete/edit":
            found[0].unlink()
            self._remote_put(target, theirs, remote)
            winner = theirs
        elif kind == "edit/delete":
            _write_atomic(found[0], to_ics(found[1], mine))
            self._remote_delete(target, remote)
            winner = mine
        else:
            _write_atomic(found[0], to_ics(found[1], mine))
            self._remote_put(target, theirs, remote)
            winner = mine if self.policy == "local-wins" else theirs
            if self.policy == "keep-both":
                copy = mine.clone(self._new_key())
                copy.dirty_local = copy.dirty_remote = True
                self.entities[copy.key] = copy
        winner.dirty_local = winner.dirty_remote = True
        self.entities[target.key] = winner
        local.pop(target.master.summary, None)
        remote.pop(target.master.summary, None)
        self.figures.operations[f"conflict {kind}"] += 1
        self.log(
            f"  conflict {kind}: {target.master.summary!r} -> local {mine.master.summary!r}, "
            f"WeCom {theirs.master.summary!r}, kept {winner.master.summary!r}"
        )

    def inject_faults(self) -> None:
        if self.rng.random() >= self.fault_probability:
            return
        for _ in range(self.rng.randint(1, 3)):
            kind, path, extra = self.rng.choice(FAULTS)
            self.api.admin("POST", "faults", {"path": SCHEDULE + path, "times": 1, **extra})
            self.figures.faults[kind] += 1
            self.log(f"  fault: {kind} on {path}")

    def sync(self, *, kill_after: float | None = None) -> SyncRun:
        began = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "wesync", "-c", str(self.config), "sync", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=self.workdir,
        )
        killed = False
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                killed = True
        out, err = proc.communicate(timeout=600)
        report = None
        if not killed:
            try:
                report = json.loads(out.decode() or "null")
            except ValueError:
                report = None
        self.figures.syncs += 1
        run = SyncRun(
            proc.returncode, killed, report, err.decode(errors="replace"), time.monotonic() - began
        )
        if killed:
            self.figures.kills += 1
        elif run.ok:
            self.figures.syncs_ok += 1
        if not killed and (run.returncode not in (0, 1) or report is None):
            tail = run.stderr.strip().splitlines()[-3:]
            self.figures.crashes.append(
                (self.cycle_no, f"exit {run.returncode}: {' | '.join(tail)}")
            )
        return run

    def cycle(self) -> None:
        self.cycle_no += 1
        self.figures.cycles += 1
        self.mutate()
        self.inject_faults()
        kill = self.rng.random() < self.kill_probability
        run = self.sync(kill_after=self.rng.uniform(0.15, 0.8) if kill else None)
        if run.ok:
            self._all_clean()
        self.log(
            f"cycle {self.cycle_no}: {len(self.entities)} events, "
            f"{'killed' if run.killed else ('ok' if run.ok else 'failed')} "
            f"in {run.seconds:.2f}s"
        )

    # --- the check ---------------------------------------------------------------------------

    def checkpoint(self) -> list[str]:
        """Faults off, two clean syncs, then both sides against the oracle."""
        self.figures.checkpoints += 1
        self.api.drain_faults()
        problems: list[str] = []
        first = self.sync()
        if not first.ok:
            problems.append(f"first clean sync not ok: {self._why(first)}")
        self.api.admin("DELETE", "requests")
        mtimes = {p.name: p.stat().st_mtime_ns for p in self.local.iterdir()}
        second = self.sync()
        if not second.ok:
            problems.append(f"second clean sync not ok: {self._why(second)}")
        writes = self.api.writes()
        if writes:
            problems.append(f"second clean sync made {len(writes)} WeCom writes: {writes}")
        pairs = (second.report or {}).get("pairs") or [{}]
        counts = {
            k: v
            for k, v in pairs[0].items()
            if isinstance(v, int) and not isinstance(v, bool) and v
        }
        if counts:
            problems.append(f"second clean sync reported work: {counts}")
        after = {p.name: p.stat().st_mtime_ns for p in self.local.iterdir()}
        if after != mtimes:
            changed = sorted(set(after.items()) ^ set(mtimes.items()))
            problems.append(f"second clean sync touched files: {sorted({n for n, _ in changed})}")
        problems += self.compare()
        if problems:
            story = self.history("\n".join(problems))
            for p in problems:
                self.figures.mismatches.append(
                    (self.cycle_no, f"[seed {self.seed} gen {self.generation}] {p}")
                )
            self.figures.stories.append("\n".join(story))
            for line in story:
                self._sink(f"    history: {line}")
            self.figures.restarts += 1
            self.start()
        else:
            self._all_clean()
        return problems

    @staticmethod
    def _why(run: SyncRun) -> str:
        if run.report:
            return "; ".join(str(p.get("error")) for p in run.report.get("pairs", []))
        return f"exit {run.returncode}: {run.stderr.strip()[-500:]}"

    def compare(self) -> list[str]:
        problems: list[str] = []
        options = TranslateOptions(user_domain=DOMAIN)
        now = int(time.time())
        # the files, through wesync's translator
        local_digests: Counter[str] = Counter()
        local_occ: Counter[Occurrence] = Counter()
        names: dict[str, str] = {}
        uids: dict[str, list[str]] = {}
        partstats: dict[str, dict[str, str]] = {}
        for path in sorted(self.local.glob("*.ics")):
            try:
                parsed = parse_item(path.read_bytes(), where=str(path))
            except Exception as exc:  # any failure to read it is a finding
                problems.append(f"{path.name} does not parse: {exc}")
                continue
            uids.setdefault(parsed.uid, []).append(path.name)
            for event in parsed.events:
                part = {
                    str(a).split(":", 1)[-1].split("@")[0]: str(a.params.get("PARTSTAT", ""))
                    for a in _props(event, "ATTENDEE")
                }
                partstats[str(event.get("SUMMARY", ""))] = part
            translation = translate_event(parsed, options=options, now=now)
            for draft in translation.slots.values():
                local_digests[draft.content_digest()] += 1
                names[draft.content_digest()] = f"{draft.summary!r} ({path.name})"
                local_occ.update(_draft_occurrences(draft))
        for uid, files in uids.items():
            if len(files) > 1:
                problems.append(f"UID {uid} in {len(files)} files: {files}")
        # WeCom, read as another client
        remote_digests: Counter[str] = Counter()
        remote_occ: Counter[Occurrence] = Counter()
        responses: dict[str, dict[str, int]] = {}
        for raw in self.api.schedules(self.cal_id):
            draft = draft_from_schedule(Schedule.from_api(raw))
            remote_digests[draft.content_digest()] += 1
            names.setdefault(
                draft.content_digest(), f"{draft.summary!r} (schedule {raw['schedule_id']})"
            )
            remote_occ.update(_draft_occurrences(draft))
            responses[draft.summary] = dict(draft.responses)
        want = expected(self.entities)
        problems += [
            f"canonical form: {line}"
            for line in _diff(
                "the files", local_digests, "WeCom", remote_digests, lambda d: names.get(d, d)
            )
        ]
        problems += [
            f"oracle vs WeCom: {line}"
            for line in _diff("the oracle", want, "WeCom", remote_occ, _fmt)
        ]
        problems += [
            f"oracle vs files: {line}"
            for line in _diff("the oracle", want, "the files", local_occ, _fmt)
        ]
        problems += self._compare_responses(partstats, responses)
        problems += self._compare_expanded()
        problems += self._compare_birthdays()
        return problems

    def _compare_birthdays(self) -> list[str]:
        """Each birthday's file still starts on its date before 1970, yearly forever."""
        problems = []
        index = self._local_index()
        for e in self.entities.values():
            if not e.birthday:
                continue
            found = index.get(e.master.summary)
            if found is None:
                continue  # compare() has said what is missing
            cal = icalendar.Calendar.from_ical(found[0].read_bytes())
            master: Any = next(v for v in cal.walk("VEVENT") if "RECURRENCE-ID" not in v)
            want = datetime.fromtimestamp(e.master.start, CST).date()
            got = master["DTSTART"].dt
            rule = master.get("RRULE")
            if got != want or rule is None or dict(rule) != {"FREQ": ["YEARLY"]}:
                problems.append(
                    f"birthday {e.master.summary!r}: the file has DTSTART {got}, RRULE "
                    f"{rule.to_ical().decode() if rule else None}; the oracle {want}, FREQ=YEARLY"
                )
        return problems

    def _compare_expanded(self) -> list[str]:
        """The expanded events' files read without wesync (icalendar + dateutil over
        RRULE, EXDATE and the overrides) against the oracle: the rule and its
        exceptions as written, not only what wesync's translator makes of them."""
        want: Counter[tuple[str, int, int]] = Counter(
            (o[0], o[3], o[4])
            for e in self.entities.values()
            if e.expanded
            for o in e.occurrences()
        )
        got: Counter[tuple[str, int, int]] = Counter()
        for path in sorted(self.local.glob("*.ics")):
            try:
                cal = icalendar.Calendar.from_ical(path.read_bytes())
            except ValueError:
                continue  # compare() has said so
            got.update(_rfc_occurrences(cal))

        def show(o: tuple[str, int, int]) -> str:
            return f"{o[0]!r} at {_when(o[1])} ({(o[2] - o[1]) // 60} min)"

        return [
            f"expanded, oracle vs files read by RFC 5545: {line}"
            for line in _diff("the oracle", want, "the files", got, show)
        ]

    def _compare_responses(
        self, partstats: dict[str, dict[str, str]], responses: dict[str, dict[str, int]]
    ) -> list[str]:
        from tests.soak.model import PARTSTAT

        problems = []
        for e in self.entities.values():
            for spec in [e.master, *e.overrides.values()]:
                for user, status in spec.responses.items():
                    if responses.get(spec.summary, {}).get(user) != status:
                        problems.append(f"WeCom lost {user}'s answer {status} on {spec.summary!r}")
                    if partstats.get(spec.summary, {}).get(user) != PARTSTAT[status]:
                        got = partstats.get(spec.summary, {}).get(user)
                        problems.append(
                            f"the file has PARTSTAT {got} for {user} on {spec.summary!r}, "
                            f"WeCom's answer is {PARTSTAT[status]}"
                        )
        return problems

    # --- the whole run -------------------------------------------------------------------------

    def run(self, cycles: int) -> Figures:
        self.start()
        for i in range(1, cycles + 1):
            self.cycle()
            if i % self.check_every == 0 or i == cycles:
                for problem in self.checkpoint():
                    self.log(f"MISMATCH after cycle {self.cycle_no}: {problem}")
        return self.figures


def _rfc_occurrences(cal: icalendar.Calendar) -> list[tuple[str, int, int]]:
    """(summary, start, end) of every occurrence of an expanded event's file (a
    Berlin master with an RRULE); nothing for any other file."""
    events: list[Any] = list(cal.walk("VEVENT"))
    master = next((e for e in events if "RECURRENCE-ID" not in e), None)
    if master is None or "RRULE" not in master:
        return []
    start: Any = master["DTSTART"].dt
    if str(getattr(start, "tzinfo", None)) != BERLIN:
        return []
    duration = _ts(master["DTEND"]) - _ts(master["DTSTART"])
    rule: Any = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    excluded = {int(v.dt.timestamp()) for prop in _props(master, "EXDATE") for v in prop.dts}
    out: dict[int, tuple[str, int, int]] = {}
    for dt in rule:  # finite: every soak series has an UNTIL
        t = int(dt.timestamp())
        if t not in excluded:
            out[t] = (str(master.get("SUMMARY", "")), t, t + duration)
    for ev in events:
        if "RECURRENCE-ID" not in ev:
            continue
        rid = _ts(ev["RECURRENCE-ID"])
        out.pop(rid, None)
        if str(ev.get("STATUS", "")).upper() != "CANCELLED":
            out[rid] = (str(ev.get("SUMMARY", "")), _ts(ev["DTSTART"]), _ts(ev["DTEND"]))
    return list(out.values())


def _ts(prop: Any) -> int:
    """A date-time property's instant (every one the soak writes or reads has a zone)."""
    return int(prop.dt.timestamp())


def _when(instant: int) -> str:
    return datetime.fromtimestamp(instant, CST).strftime("%Y-%m-%d %H:%M")


def _shape(spec: Spec) -> str:
    when = datetime.fromtimestamp(spec.start, CST).strftime("%Y-%m-%d %H:%M")
    rule = f" {spec.rule}" if spec.rule else ""
    return f"at {when} for {spec.duration // 60} min{' all day' if spec.all_day else ''}{rule}"


def _props(event: icalendar.Event, name: str) -> Iterable[Any]:
    value = event.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


__all__ = ["Figures", "Soak", "SoakError"]
