"""The daemon's small parts: lock, sd_notify, metrics and health."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from wesync.daemon.lock import AlreadyRunning, DaemonLock
from wesync.daemon.metrics import Metrics
from wesync.daemon.sdnotify import Notifier


def test_lock_refuses_a_second_holder_and_names_the_pid(tmp_path: Path) -> None:
    first = DaemonLock(tmp_path / "state")
    first.acquire()
    assert (tmp_path / "state" / "daemon.lock").read_text().strip() == str(os.getpid())
    with pytest.raises(AlreadyRunning) as info:
        DaemonLock(tmp_path / "state").acquire()
    assert str(info.value) == (
        f"another wesync daemon (pid {os.getpid()}) is running for {tmp_path / 'state'}"
    )
    first.release()
    with DaemonLock(tmp_path / "state"):
        pass


def test_lock_file_left_by_a_dead_process_does_not_block(tmp_path: Path) -> None:
    (tmp_path / "daemon.lock").write_text("999999\n")
    with DaemonLock(tmp_path) as lock:
        assert lock.path.read_text().strip() == str(os.getpid())


def _receiver(address: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + address[1:] if address.startswith("@") else address)
    s.settimeout(2)
    return s


@pytest.mark.parametrize("abstract", [False, True])
def test_notify_writes_datagrams(tmp_path: Path, abstract: bool) -> None:
    address = (
        f"@wesync-test-{os.getpid()}-{time.monotonic_ns()}"
        if abstract
        else str(tmp_path / "notify.sock")
    )
    with _receiver(address) as rx:
        n = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "120000000"})
        assert n.enabled and n.watchdog_interval == 60.0
        assert n.ready("syncing")
        assert rx.recv(4096).decode().split("\n")[:2] == ["READY=1", "STATUS=syncing"]
        assert n.watchdog()
        assert rx.recv(4096) == b"WATCHDOG=1"
        assert n.stopping()
        assert rx.recv(4096) == b"STOPPING=1"


def test_notify_without_socket_is_a_no_op() -> None:
    n = Notifier({})
    assert not n.enabled
    assert not n.ready("x")
    assert n.watchdog_interval is None


def test_watchdog_for_another_pid_is_ignored() -> None:
    n = Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert n.watchdog_interval is None


def test_notify_to_a_missing_socket_warns_but_does_not_raise(tmp_path: Path) -> None:
    assert not Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).ready("x")


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_health_follows_the_two_interval_rule() -> None:
    clock = FakeClock(1000.0)
    m = Metrics(interval=60, started=1000.0, clock=clock)
    m.set_pairs(["a", "b"])
    assert m.health()[0]  # nothing ran yet, but the daemon is young
    clock.now = 1121
    assert not m.health()[0]  # two intervals and still no run
    m.record("a", ok=True, duration=0.5, error=None)
    m.record("b", ok=True, duration=0.2, error=None)
    assert m.health()[0]
    clock.now = 1200
    m.record("b", ok=False, duration=0.1, error="boom")
    healthy, body = m.health()
    assert healthy  # b failed, but its last success is recent
    clock.now = 1242
    m.record("b", ok=False, duration=0.1, error="boom")
    healthy, body = m.health()
    assert not healthy
    pairs = body["pairs"]
    assert isinstance(pairs, dict)
    assert pairs["b"]["error"] == "boom" and pairs["a"]["healthy"] is True
    assert "failing: b" in m.status_line() and "1 pairs ok" in m.status_line()


def test_prometheus_text() -> None:
    clock = FakeClock(1700000000.0)
    m = Metrics(
        interval=60,
        clock=clock,
        api_calls=lambda: {("/cgi-bin/oa/schedule/add", "0"): 3, ("/cgi-bin/gettoken", "0"): 1},
    )
    m.set_pairs(['we"ird'])
    m.record('we"ird', ok=True, duration=1.5, error=None)
    m.record('we"ird', ok=False, duration=0.5, error="x")
    text = m.prometheus()
    assert 'wesync_syncs_total{pair="we\\"ird",result="ok"} 1' in text
    assert 'wesync_syncs_total{pair="we\\"ird",result="failed"} 1' in text
    assert 'wesync_sync_failures_total{pair="we\\"ird"} 1' in text
    assert 'wesync_last_success_timestamp_seconds{pair="we\\"ird"} 1700000000.000' in text
    assert 'wesync_sync_duration_seconds_sum{pair="we\\"ird"} 2.000000' in text
    assert 'wesync_sync_duration_seconds_count{pair="we\\"ird"} 2' in text
    assert 'wesync_api_calls_total{endpoint="/cgi-bin/oa/schedule/add",errcode="0"} 3' in text
    assert "# TYPE wesync_sync_duration_seconds summary" in text
    assert text.endswith("\n")


def test_set_pairs_keeps_survivors() -> None:
    m = Metrics(interval=60)
    m.set_pairs(["a", "b"])
    m.record("a", ok=True, duration=1, error=None)
    m.set_pairs(["a", "c"])
    assert set(m.pairs) == {"a", "c"} and m.pairs["a"].runs_ok == 1


def test_log_lines_carry_the_pair(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from wesync.logs import current_pair, setup_logging

    setup_logging(verbosity=0, log_format="text")
    try:
        token = current_pair.set("team")
        logging.getLogger("wesync.test").info("sync done")
        current_pair.reset(token)
        logging.getLogger("wesync.test").info("outside", extra={"pair": "other"})
        logging.getLogger("wesync.test").info("no pair here")
        err = capsys.readouterr().err.splitlines()
        assert err[0].endswith("[team] sync done")
        assert err[1].endswith("[other] outside")
        assert err[2].endswith(": no pair here")
        setup_logging(verbosity=0, log_format="json")
        token = current_pair.set("team")
        logging.getLogger("wesync.test").info("as json")
        current_pair.reset(token)
        import json

        line = json.loads(capsys.readouterr().err.splitlines()[-1])
        assert line["pair"] == "team" and line["message"] == "as json"
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
