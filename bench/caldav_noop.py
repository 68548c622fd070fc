"""A no-op of a CalDAV collection: wesync's load against vdirsyncer's sync into a vdir.

    python -m bench.caldav_noop [--events 1000] [--repeat 3]

Starts Radicale on loopback (tests/caldav/servers.py), uploads the generated
events, and puts a counting proxy in front of it (tests/caldav/proxy.py), so
both clients' requests are counted alike. Then, in the same run:

- wesync: a `CalDavStorage` load in a process of its own (the first one fills
  the mirror; then `--repeat` no-op loads): wall time of the process, requests;
- vdirsyncer (when installed): a caldav -> filesystem pair, `discover`, the
  first sync, then `--repeat` no-op syncs: wall time of the command, requests.

It prints the figures and the ratio of the medians. Speed is measured here,
never asserted in a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.generate import write_vdir
from bench.vdirsyncer_baseline import find_vdirsyncer
from tests.caldav.proxy import DavProxy
from tests.caldav.servers import start_radicale

VDIRSYNCER = """\
[general]
status_path = "{root}/status/"

[pair bench]
a = "bench_dav"
b = "bench_dir"
collections = null
conflict_resolution = "a wins"

[storage bench_dav]
type = "caldav"
url = "{url}"
username = "{username}"
password = "{password}"

[storage bench_dir]
type = "filesystem"
path = "{root}/dir/"
fileext = ".ics"
"""

LOAD = """
import sys
from pathlib import Path
from wesync.caldav.storage import open_caldav
from wesync.config import Secret
url, user, password, mirror = sys.argv[1:5]
s = open_caldav(url, username=user, password=Secret(password), mirror=Path(mirror))
s.load()
print(len(list(s.list())), s.last_load)
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout.strip()


def upload(base: str, auth: tuple[str, str], folder: Path) -> None:
    with httpx.Client(auth=auth, timeout=60) as http:
        for path in sorted(folder.glob("*.ics")):
            r = http.put(
                base + path.name,
                content=path.read_bytes(),
                headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
            )
            if r.status_code not in (201, 204):
                raise RuntimeError(f"upload of {path.name}: {r.status_code}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = start_radicale(root / "radicale")
        proxy = DavProxy(server)
        try:
            url = server.new_calendar("bench")
            write_vdir(root / "source", args.events)
            upload(url, (server.username, server.password), root / "source")
            via = proxy.proxied(url)
            creds = [server.username, server.password]
            load = [sys.executable, "-c", LOAD, via, *creds, str(root / "mirror.sqlite")]
            proxy.seen.clear()
            first, out = timed(load)
            first_requests = dict(proxy.seen)
            print(f"wesync first load: {first:.2f} s, {out}, requests {first_requests}")
            noops = []
            for _ in range(args.repeat):
                proxy.seen.clear()
                noops.append(timed(load)[0])
            wesync_requests = dict(proxy.seen)
            wesync = statistics.median(noops)
            print(f"wesync no-op load: median {wesync:.2f} s of {noops}")
            print(f"  requests of one no-op: {wesync_requests}")
            exe = find_vdirsyncer()
            if exe is None:
                print("vdirsyncer is not installed (pip install vdirsyncer): no ratio")
                return 0
            work = root / "vdirsyncer"
            (work / "dir").mkdir(parents=True)
            config = work / "config"
            config.write_text(
                VDIRSYNCER.format(
                    root=work, url=via, username=server.username, password=server.password
                )
            )
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(work),
                "VDIRSYNCER_CONFIG": str(config),
                "LANG": "C.UTF-8",
            }
            timed([exe, "discover", "bench"], env)
            first_v, _ = timed([exe, "sync"], env)
            files = len(list((work / "dir").glob("*.ics")))
            print(f"vdirsyncer first sync: {first_v:.2f} s, {files} files")
            vnoops = []
            for _ in range(args.repeat):
                proxy.seen.clear()
                vnoops.append(timed([exe, "sync"], env)[0])
            v_requests = dict(proxy.seen)
            vdir = statistics.median(vnoops)
            print(f"vdirsyncer no-op sync: median {vdir:.2f} s of {vnoops}")
            print(f"  requests of one no-op: {v_requests}")
            print(f"wesync / vdirsyncer = {wesync / vdir:.2f} (no-op, {args.events} events)")
        finally:
            proxy.close()
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
