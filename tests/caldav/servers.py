"""Real CalDAV servers on loopback for the tests: Radicale and Xandikos.

Each runs as its own process in a temporary folder (data, config, htpasswd,
certificates, HOME: nothing outside it), on a free port, and is stopped at the
end of the session. Radicale speaks plain HTTP with htpasswd Basic auth;
Xandikos accepts Basic auth only over TLS, so it serves HTTPS with a
self-signed certificate that the tests trust through a CA bundle path.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

USERNAME = "alice"
PASSWORD = "s3cret-Pässword"
READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class DavServer:
    """One running server and what a test needs to reach it."""

    name: str
    base_url: str  #: scheme://host:port, no trailing slash
    home: str  #: the user's calendar home, a path ending in "/"
    root: Path  #: the temporary folder holding everything of this server
    process: subprocess.Popen[bytes]
    verify: bool | str = True  #: True, or the path of the CA bundle to trust
    username: str = USERNAME
    password: str = PASSWORD
    log: Path = field(default_factory=Path)

    def http(self) -> httpx.Client:
        verify: bool | ssl.SSLContext = self.verify
        if isinstance(self.verify, str):
            verify = ssl.create_default_context(cafile=self.verify)
        return httpx.Client(
            base_url=self.base_url,
            auth=(self.username, self.password),
            verify=verify,
            timeout=30,
        )

    def new_calendar(self, name: str | None = None) -> str:
        """MKCALENDAR a fresh, empty collection; returns its full URL (ending in /)."""
        path = f"{self.home}{name or uuid.uuid4().hex}/"
        with self.http() as http:
            response = http.request("MKCALENDAR", path)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{self.name}: MKCALENDAR {path}: {response.status_code}")
        return self.base_url + path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "XDG_"))}
    env.update(HOME=str(root / "home"), XDG_DATA_HOME=str(root / "home" / "data"))
    (root / "home").mkdir(exist_ok=True)
    return env


def _wait_ready(server: DavServer) -> DavServer:
    """Until the server answers HTTP at all (a 401 counts: it is listening)."""
    deadline = time.monotonic() + READY_TIMEOUT
    verify = not server.base_url.startswith("https")
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}: "
                + server.log.read_text(errors="replace")[-2000:]
            )
        try:
            httpx.get(server.base_url + "/", verify=verify, timeout=2)
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer within {READY_TIMEOUT}s")


def start_radicale(root: Path) -> DavServer:
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "htpasswd").write_text(f"{USERNAME}:{PASSWORD}\n", encoding="utf-8")
    config = root / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {root / 'htpasswd'}\n"
        "htpasswd_encryption = plain\n"
        "delay = 0\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {root / 'collections'}\n"
        "[web]\n"
        "type = none\n"
        "[logging]\n"
        "level = warning\n",
        encoding="utf-8",
    )
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(root),
            cwd=root,
        )
    server = DavServer(
        name="radicale",
        base_url=f"http://127.0.0.1:{port}",
        home=f"/{USERNAME}/",
        root=root,
        process=process,
        log=log,
    )
    return _wait_ready(server)


def start_xandikos(root: Path) -> DavServer:
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    digest = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    (root / "htpasswd").write_text(f"{USERNAME}:{{SHA}}{digest}\n", encoding="utf-8")
    state = root / "state"
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xandikos",
                "serve",
                "--directory",
                str(root / "data"),
                "--defaults",
                "--current-user-principal",
                f"/{USERNAME}/",
                "--listen-address",
                "localhost",
                "--port",
                str(port),
                "--no-detect-systemd",
                "--autocert",
                "--state-dir",
                str(state),
                "--htpasswd",
                str(root / "htpasswd"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(root),
            cwd=root,
        )
    server = DavServer(
        name="xandikos",
        base_url=f"https://localhost:{port}",
        home=f"/{USERNAME}/calendars/",
        root=root,
        process=process,
        log=log,
    )
    _wait_ready(server)
    certs = sorted(state.rglob("*.pem")) + sorted(state.rglob("*.crt"))
    cert = next((c for c in certs if "key" not in c.name), None)
    if cert is None:
        server.stop()
        raise RuntimeError(f"xandikos: no certificate under {state}: {certs}")
    server.verify = str(cert)
    return server
