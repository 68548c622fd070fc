"""Small builders for emulator tests: documented JSON bodies, nothing from the client."""

from __future__ import annotations

from typing import Any

import httpx

from wesync.wecom import constants as C

T0 = 1_893_456_000  # 2030-01-01T00:00:00Z: safely in the future for 90706 checks
HOUR = 3600
DAY = 86400


class Api:
    """Calls the emulated WeCom with plain httpx and the documented JSON."""

    def __init__(self, client: httpx.Client, corpid: str = "wwemulator",
                 corpsecret: str = "emulator-secret") -> None:
        self.client = client
        self.corpid = corpid
        self.corpsecret = corpsecret
        self.token = ""

    def gettoken(self) -> dict[str, Any]:
        response = self.client.get(
            C.GETTOKEN_PATH, params={"corpid": self.corpid, "corpsecret": self.corpsecret}
        )
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        if body["errcode"] == 0:
            self.token = body["access_token"]
        return body

    def post(self, path: str, body: Any) -> dict[str, Any]:
        if not self.token:
            self.gettoken()
        response = self.client.post(path, params={"access_token": self.token}, json=body)
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        assert isinstance(result["errcode"], int) and isinstance(result["errmsg"], str)
        return result

    def ok(self, path: str, body: Any) -> dict[str, Any]:
        result = self.post(path, body)
        assert result["errcode"] == 0, result
        return result

    def add_calendar(self, **fields: Any) -> str:
        cal = {"summary": "Team", "color": "#FF3030", **fields}
        cal_id: str = self.ok(C.CALENDAR_ADD, {"calendar": cal})["cal_id"]
        return cal_id

    def add_schedule(self, cal_id: str, **fields: Any) -> str:
        sched = {"cal_id": cal_id, "start_time": T0, "end_time": T0 + HOUR,
                 "summary": "Meeting", **fields}
        schedule_id: str = self.ok(C.SCHEDULE_ADD, {"schedule": sched})["schedule_id"]
        return schedule_id

    def get(self, schedule_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.ok(
            C.SCHEDULE_GET, {"schedule_id_list": [schedule_id]})["schedule_list"][0]
        return found

    def listing(self, cal_id: str, **page: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.ok(
            C.SCHEDULE_GET_BY_CALENDAR, {"cal_id": cal_id, **page})["schedule_list"]
        return items


def weekly(days: list[int], **more: Any) -> dict[str, Any]:
    return {"is_repeat": 1, "repeat_type": C.REPEAT_WEEKLY, "is_custom_repeat": 1,
            "repeat_interval": 1, "repeat_day_of_week": days, **more}


def daily(**more: Any) -> dict[str, Any]:
    return {"is_repeat": 1, "repeat_type": C.REPEAT_DAILY, **more}
