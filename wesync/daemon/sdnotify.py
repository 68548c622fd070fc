"""systemd's notify protocol, written by hand: one datagram per message to $NOTIFY_SOCKET.

No dependency on libsystemd or python-systemd. A path starting with "@" is
an abstract socket (a leading NUL byte). Without NOTIFY_SOCKET every call
is a no-op, so the daemon behaves the same outside systemd.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("wesync.daemon")


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET") or None
        self.watchdog_interval = _watchdog_interval(env)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, **fields: str) -> bool:
        """Send KEY=VALUE lines; True when the datagram went out."""
        if self.address is None:
            return False
        message = "\n".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8")
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.connect(target)
                # never block the event loop on a slow reader: a full queue drops
                # this one message (the next STATUS or WATCHDOG follows soon)
                s.send(message, socket.MSG_DONTWAIT)
        except BlockingIOError:
            log.debug("sd_notify queue full; dropped %s", message.split(b"=", 1)[0].decode())
            return False
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", self.address, exc.strerror)
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.notify(READY="1", STATUS=status, MAINPID=str(os.getpid()))

    def status(self, status: str) -> bool:
        return self.notify(STATUS=status)

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG="1")

    def reloading(self) -> bool:
        # systemd >= 253 wants the monotonic time with RELOADING=1
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify(RELOADING="1", MONOTONIC_USEC=str(usec))

    def stopping(self) -> bool:
        return self.notify(STOPPING="1")


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between WATCHDOG=1 pings: half of WATCHDOG_USEC, if it is meant for us."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1_000_000 / 2
