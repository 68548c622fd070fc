"""What a sync with nothing changed may skip: an expanded series is translated
again at most once a day (its window moves with the date), an unchanged file
is never read, and only changed items keep their bytes after the scan."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import Env, calendar, vevent
from tests.e2e.test_series import LAST_FRIDAY, LUNCH
from wesync.storage.vdir import VdirStorage
from wesync.sync import local as local_mod
from wesync.sync.local import DAY, scan_local, window_day
from wesync.sync.status import StatusDB, status_path
from wesync.translate.options import TranslateOptions

#: 00:10 UTC today: later runs in the test stay on the same UTC day
BASE = int(time.time()) // DAY * DAY + 600


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()
    real = VdirStorage.get

    def counting(self: VdirStorage, href: str) -> Any:
        counts[href] += 1
        return real(self, href)

    monkeypatch.setattr(VdirStorage, "get", counting)
    return counts


def expand_day(env: Env, uid: str) -> int | None:
    with StatusDB(status_path(env.state, env.pair.name)) as db:
        return db.load()[uid].expand_day


async def test_expanded_series_is_read_once_a_day(env: Env, reads: Counter[str]) -> None:
    env.write("lunch.ics", LUNCH)
    env.write("lastfri.ics", LAST_FRIDAY)
    await env.sync_ok(now=BASE)
    # the first sync wrote the status from its own translation; the next one
    # checks it against today's window and stamps the day
    reads.clear()
    report = await env.sync_ok(now=BASE + 60)
    assert report.writes == 0
    assert reads == Counter({"lastfri.ics": 1})
    assert expand_day(env, "lastfri@example.com") == window_day(BASE)
    # later the same day: neither file is opened, nothing is written
    reads.clear()
    env.server.admin("DELETE", "requests")
    report = await env.sync_ok(now=BASE + 7200)
    assert reads == Counter()
    assert report.writes == 0 and report.problems == []
    # the next day the window moved: the series is translated again, once
    reads.clear()
    await env.sync_ok(now=BASE + DAY)
    assert reads == Counter({"lastfri.ics": 1})
    reads.clear()
    await env.sync_ok(now=BASE + DAY + 60)
    assert reads["lastfri.ics"] <= 1
    reads.clear()
    await env.sync_ok(now=BASE + DAY + 120)
    assert reads == Counter()
    assert expand_day(env, "lastfri@example.com") == window_day(BASE + DAY)


async def test_edited_series_is_read_on_the_same_day(env: Env, reads: Counter[str]) -> None:
    env.write("lastfri.ics", LAST_FRIDAY)
    await env.sync_ok(now=BASE)
    await env.sync_ok(now=BASE + 60)
    env.write("lastfri.ics", LAST_FRIDAY.replace(b"SUMMARY:Last Friday", b"SUMMARY:Last Fri"))
    reads.clear()
    report = await env.sync_ok(now=BASE + 120)
    assert reads["lastfri.ics"] >= 1
    assert report.updated_remote == 1
    assert all(s["summary"] == "Last Fri" for s in env.schedules())
    # the write leaves the day unknown: the next run checks it once more, then rests
    assert expand_day(env, "lastfri@example.com") is None
    await env.sync_ok(now=BASE + 180)
    reads.clear()
    report = await env.sync_ok(now=BASE + 240)
    assert reads == Counter() and report.writes == 0


async def test_dry_run_does_not_stamp(env: Env) -> None:
    env.write("lastfri.ics", LAST_FRIDAY)
    await env.sync_ok(now=BASE)
    await env.sync_ok(now=BASE + 60, dry_run=True)
    assert expand_day(env, "lastfri@example.com") is None


async def test_only_a_few_changed_items_stay_loaded(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_mod, "KEEP_LOADED", 2)
    for i in range(5):
        uid = f"e{i}@example.com"
        env.write(f"e{i}.ics", calendar(vevent(uid, f"E{i}", "20270105T120000", "20270105T130000")))
    storage = VdirStorage(env.local)
    options = TranslateOptions.from_pair(env.pair)
    scan = scan_local(storage, {}, options=options, now=BASE, where="cal")
    assert scan.parsed == 5
    assert sum(1 for item in scan.items.values() if item.data is not None) == 2
    for item in scan.items.values():
        # new events keep what pairing needs, loaded or not
        assert item.matches == {"": (item.summary, 1799121600, 1799125200)}
    # the executor reads the unloaded ones again when it writes them
    report = await env.sync_ok(now=BASE)
    assert report.created_remote == 5
    assert sorted(env.summaries()) == [f"E{i}" for i in range(5)]
    await env.assert_quiet()


def test_parsed_forms_are_held_for_a_few_items_and_derived_again(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_mod, "HELD_FORMS", 2)
    env.write("lastfri.ics", LAST_FRIDAY)
    for i in range(3):
        uid = f"e{i}@example.com"
        env.write(f"e{i}.ics", calendar(vevent(uid, f"E{i}", "20270105T120000", "20270105T130000")))
    scan = scan_local(
        VdirStorage(env.local), {}, options=TranslateOptions.from_pair(env.pair), now=BASE,
        where="cal",
    )
    items = list(scan.items.values())
    assert all(item.data is not None for item in items)
    assert sum(1 for item in items if item._translation is not None) == 2
    for item in items:
        translation = item.translation
        assert translation is not None and item.parsed is not None
        digests = {k: d.content_digest() for k, d in translation.slots.items()}
        assert digests == item.digests
        assert sum(1 for x in items if x._translation is not None) <= 2
