"""Run the real `python -m wesync daemon` process and listen to its sd_notify messages."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def wait_for(cond: Callable[[], Any], *, within: float = 15.0, what: str = "condition") -> Any:
    """Poll `cond` until it returns something truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class DaemonProcess:
    """One daemon with its own notify socket; `messages` collects what it told systemd."""

    def __init__(self, config: Path, workdir: Path, *, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.log_path = workdir / f"daemon-{time.monotonic_ns()}.log"
        self.notify_path = workdir / f"notify-{time.monotonic_ns()}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.notify_path))
        self.sock.settimeout(0.05)
        self.messages: list[dict[str, str]] = []
        self._closing = threading.Event()
        # drain like systemd does, so the daemon's datagrams never pile up
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        full_env = {
            **os.environ,
            "NOTIFY_SOCKET": str(self.notify_path),
            "WATCHDOG_USEC": "1000000",
            "PYTHONUNBUFFERED": "1",
        }
        full_env.pop("WESYNC_CORPSECRET", None)
        full_env.pop("CREDENTIALS_DIRECTORY", None)
        full_env.update(env or {})
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-X",
                "faulthandler",
                "-m",
                "wesync",
                "-c",
                str(config),
                "-v",
                "daemon",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=ROOT,
        )

    # ------------------------------------------------------------- notify socket

    def _read(self) -> None:
        while not self._closing.is_set():
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            self.messages.append(fields)

    def drain(self) -> list[dict[str, str]]:
        return list(self.messages)

    def saw(self, key: str, value: str | None = None) -> bool:
        return any(key in m and (value is None or m[key] == value) for m in self.drain())

    def statuses(self) -> list[str]:
        return [m["STATUS"] for m in self.drain() if "STATUS" in m]

    def wait_ready(self, within: float = 15.0) -> None:
        wait_for(
            lambda: self.saw("READY", "1") or self.proc.poll() is not None,
            within=within,
            what="READY=1",
        )
        assert self.proc.poll() is None, self.log()

    def syncs_done(self) -> int:
        """How many STATUS lines reported a finished sync."""
        return sum(1 for s in self.statuses() if s.startswith("last sync"))

    def wait_syncs(self, count: int, within: float = 15.0) -> None:
        try:
            wait_for(lambda: self.syncs_done() >= count, within=within, what=f"{count} syncs")
        except AssertionError:
            raise AssertionError(f"only {self.syncs_done()} syncs:\n{self.log()}") from None

    # ----------------------------------------------------------------- lifecycle

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self, within: float = 12.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait()
            raise AssertionError(f"daemon did not stop in {within}s:\n{self.log()}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        self._closing.set()
        self._reader.join(timeout=2)
        self.sock.close()
