"""The `callbacks` variant and a member's split edits, with real encrypted callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.helpers import DAY, HOUR, T0, Api, daily
from tests.emulator.test_callbacks import CB_KEY, CB_TOKEN, Receiver
from wesync.emulator import BackgroundServer, Emulator
from wesync.emulator.variants import Variants
from wesync.wecom import constants as C


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


class Setup:
    def __init__(self, client: httpx.Client, receiver: Receiver) -> None:
        self.client = client
        self.api = Api(client)
        self.receiver = receiver

    def admin(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(f"/_emulator/{action}", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def events(self, n: int) -> list[tuple[str, str, str | None]]:
        got = [self.receiver.next_event() for _ in range(n)]
        return [(e["Event"], e["CalId"], e.get("ScheduleId")) for e in got]


def _setup(receiver: Receiver, callbacks: str) -> Iterator[Setup]:
    emulator = Emulator(callback_url=receiver.url, callback_token=CB_TOKEN,
                        callback_aes_key=CB_KEY, variants=Variants(callbacks=callbacks))
    with BackgroundServer(emulator) as server, httpx.Client(base_url=server.url) as client:
        yield Setup(client, receiver)


@pytest.fixture
def user_only(receiver: Receiver) -> Iterator[Setup]:
    yield from _setup(receiver, "user-only")


@pytest.fixture
def every_write(receiver: Receiver) -> Iterator[Setup]:
    yield from _setup(receiver, "all")


def test_user_only_api_writes_send_nothing(user_only: Setup) -> None:
    api = user_only.api
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily())
    api.ok(C.SCHEDULE_UPDATE, {"schedule": {"schedule_id": sid, "start_time": T0,
                                            "end_time": T0 + HOUR, "reminders": daily()}})
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + DAY})
    api.ok(C.CALENDAR_UPDATE, {"calendar": {"cal_id": cal_id, "summary": "x",
                                            "color": "#000000"}})
    # the first event to arrive is the member's, so none of the API writes sent one
    user_only.admin("admin_cancel", {"schedule_id": sid})
    assert user_only.events(1) == [("delete_schedule", cal_id, sid)]
    assert not user_only.receiver.posts


def test_all_api_writes_send_callbacks(every_write: Setup) -> None:
    api = every_write.api
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily())
    assert every_write.events(1) == [("add_schedule", cal_id, sid)]
    split = api.ok(C.SCHEDULE_UPDATE, {"op_mode": 1, "op_start_time": T0 + DAY, "schedule": {
        "schedule_id": sid, "start_time": T0 + DAY, "end_time": T0 + DAY + HOUR}})
    assert every_write.events(2) == [("modify_schedule", cal_id, sid),
                                     ("add_schedule", cal_id, split["schedule_id"])]
    api.ok(C.SCHEDULE_ADD_ATTENDEES, {"schedule_id": sid, "attendees": [{"userid": "a"}]})
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + 2 * DAY})
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid})
    assert every_write.events(3) == [("modify_schedule", cal_id, sid),
                                     ("modify_schedule", cal_id, sid),
                                     ("delete_schedule", cal_id, sid)]
    api.ok(C.CALENDAR_UPDATE, {"calendar": {"cal_id": cal_id, "summary": "x",
                                            "color": "#000000"}})
    api.ok(C.CALENDAR_DEL, {"cal_id": cal_id})
    assert every_write.events(2) == [("modify_calendar", cal_id, None),
                                     ("delete_calendar", cal_id, None)]
    # a refused write sends nothing; the app names itself by its agentid
    assert api.post(C.SCHEDULE_DEL, {"schedule_id": "0" * 32})["errcode"] != 0
    every_write.admin("admin_delete_calendar", {"cal_id": api.add_calendar()})
    event = every_write.receiver.next_event()
    assert event["Event"] == "delete_calendar"  # calendar/add itself sends nothing


def test_an_api_write_names_the_app(every_write: Setup) -> None:
    api = every_write.api
    api.add_schedule(api.add_calendar())
    assert every_write.receiver.next_event()["FromUserName"] == "1000002"


# --- a member's "only this occurrence" and "this and all future" edits ---------------


def test_member_edits_only_this_occurrence(user_only: Setup) -> None:
    api = user_only.api
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, location="Room 1", attendees=[{"userid": "a"}],
                           reminders=daily())
    answer = user_only.admin("admin_edit", {"schedule_id": sid, "op_mode": 1,
                                            "op_start_time": T0 + 2 * DAY, "userid": "a",
                                            "changes": {"summary": "moved",
                                                        "start_time": T0 + 2 * DAY + HOUR,
                                                        "end_time": T0 + 2 * DAY + 2 * HOUR}})
    new = answer["new_schedule_id"]
    assert user_only.events(2) == [("modify_schedule", cal_id, sid),
                                   ("add_schedule", cal_id, new)]
    series, single = api.get(sid), api.get(new)
    assert series["reminders"]["exclude_time_list"] == [{"start_time": T0 + 2 * DAY}]
    assert series["summary"] == "Meeting"
    assert single["reminders"]["is_repeat"] == 0
    # what the member did not touch stays: the location, the attendees
    assert (single["summary"], single["location"], single["start_time"]) == (
        "moved", "Room 1", T0 + 2 * DAY + HOUR)
    assert [a["userid"] for a in single["attendees"]] == ["a"]


def test_member_edits_this_and_all_future(user_only: Setup) -> None:
    api = user_only.api
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily(repeat_until=T0 + 9 * DAY))
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + DAY})
    api.ok(C.SCHEDULE_DEL, {"schedule_id": sid, "op_mode": 1, "op_start_time": T0 + 5 * DAY})
    answer = user_only.admin("admin_edit", {"schedule_id": sid, "op_mode": 2,
                                            "op_start_time": T0 + 3 * DAY,
                                            "changes": {"summary": "from day 3"}})
    new = answer["new_schedule_id"]
    assert [e["event"] for e in answer["events"]] == ["modify_schedule", "add_schedule"]
    assert user_only.events(2) == [("modify_schedule", cal_id, sid),
                                   ("add_schedule", cal_id, new)]
    old, tail = api.get(sid), api.get(new)
    assert old["reminders"]["repeat_until"] == T0 + 2 * DAY
    assert old["reminders"]["exclude_time_list"] == [{"start_time": T0 + DAY}]
    assert (tail["summary"], tail["start_time"]) == ("from day 3", T0 + 3 * DAY)
    assert tail["reminders"]["is_repeat"] == 1
    assert tail["reminders"]["repeat_until"] == T0 + 9 * DAY
    # the occurrence deleted before the split stays deleted on the new series
    assert tail["reminders"]["exclude_time_list"] == [{"start_time": T0 + 5 * DAY}]


def test_member_this_and_all_future_from_the_first_occurrence_edits_the_series(
        user_only: Setup) -> None:
    api = user_only.api
    cal_id = api.add_calendar()
    sid = api.add_schedule(cal_id, reminders=daily())
    answer = user_only.admin("admin_edit", {"schedule_id": sid, "op_mode": 2,
                                            "op_start_time": T0,
                                            "changes": {"summary": "all of it"}})
    assert "new_schedule_id" not in answer
    assert user_only.events(1) == [("modify_schedule", cal_id, sid)]
    assert [s["summary"] for s in api.listing(cal_id)] == ["all of it"]


@pytest.mark.parametrize("body", [
    {"op_mode": 1, "op_start_time": T0 + HOUR},  # not an occurrence
    {"op_mode": 3, "op_start_time": T0 + DAY},
    {"op_mode": 1},
    {"op_mode": 1, "op_start_time": T0 + DAY, "changes": {"reminders": {"is_repeat": 1}}},
])
def test_bad_member_split_edits_are_400(user_only: Setup, body: dict[str, Any]) -> None:
    api = user_only.api
    sid = api.add_schedule(api.add_calendar(), reminders=daily())
    response = user_only.client.post("/_emulator/admin_edit",
                                     json={"schedule_id": sid, "changes": {}, **body})
    assert response.status_code == 400, response.text
    single = api.add_schedule(api.add_calendar())
    response = user_only.client.post("/_emulator/admin_edit", json={
        "schedule_id": single, "changes": {}, "op_mode": 1, "op_start_time": T0})
    assert response.status_code == 400
