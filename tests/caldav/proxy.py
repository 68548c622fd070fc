"""A small HTTP proxy in front of a real CalDAV server, for what the servers
themselves never do: ask for Digest auth, redirect, answer slowly, fail one
item with a 5xx, drop an ETag, or send an item that does not parse.

It runs on a thread of the test process (ThreadingHTTPServer) and forwards
each request to the upstream server with the client's own Authorization header
(so the upstream checks it), or, when it checks Digest itself, with the
upstream's Basic credentials.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from tests.caldav.servers import DavServer

REALM = "wesync-tests"
NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
_DAV = "{DAV:}"
_CAL = "{urn:ietf:params:xml:ns:caldav}"
ElementTree.register_namespace("d", "DAV:")
ElementTree.register_namespace("c", "urn:ietf:params:xml:ns:caldav")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class Faults:
    digest: bool = False  #: demand Digest auth (checked here) instead of passing Basic on
    delay: float = 0.0  #: seconds before each answer
    #: a request path starting with a key is redirected (308) to the value + the rest
    redirects: dict[str, str] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)  #: item names answered with a 500
    no_etag: set[str] = field(default_factory=set)  #: item names listed without an ETag
    garbage: set[str] = field(default_factory=set)  #: item names whose data is not iCalendar
    no_sync: bool = False  #: hide sync-collection (no DAV:sync-token; the REPORT fails)


class DavProxy:
    def __init__(self, upstream: DavServer, faults: Faults | None = None) -> None:
        self.upstream = upstream
        self.faults = faults or Faults()
        self.seen: Counter[str] = Counter()  #: requests by method
        self.auth_headers: list[str] = []
        self._http = upstream.http()
        self._auth = self._http.auth
        self._http.auth = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def proxied(self, upstream_url: str) -> str:
        """The proxy's URL for an upstream URL."""
        return self.url + upstream_url.removeprefix(self.upstream.base_url)

    # -- handling ------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_MKCALENDAR = _any
            do_OPTIONS = do_HEAD = _any

        return Handler

    def _reply(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _digest_ok(self, h: BaseHTTPRequestHandler) -> bool:
        header = h.headers.get("Authorization", "")
        self.auth_headers.append(header)
        if not header.lower().startswith("digest "):
            return False
        parts = {
            k.lower(): (v[1:-1] if v.startswith('"') else v)
            for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]*)', header[7:])
        }
        ha1 = _md5(f"{self.upstream.username}:{REALM}:{self.upstream.password}")
        ha2 = _md5(f"{h.command}:{parts.get('uri', '')}")
        want = _md5(
            f"{ha1}:{NONCE}:{parts.get('nc', '')}:{parts.get('cnonce', '')}:"
            f"{parts.get('qop', '')}:{ha2}"
        )
        return parts.get("username") == self.upstream.username and parts.get("response") == want

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        f = self.faults
        self.seen[h.command] += 1
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if f.delay:
            time.sleep(f.delay)
        if f.digest and not self._digest_ok(h):
            challenge = f'Digest realm="{REALM}", qop="auth", nonce="{NONCE}", algorithm=MD5'
            self._reply(h, 401, b"", {"WWW-Authenticate": challenge})
            return
        if not f.digest:
            self.auth_headers.append(h.headers.get("Authorization", ""))
        for prefix, target in f.redirects.items():
            if h.path.startswith(prefix):
                self._reply(h, 308, b"", {"Location": target + h.path[len(prefix) :]})
                return
        name = unquote(h.path.rsplit("/", 1)[-1])
        if name in f.fail or (h.command == "REPORT" and any(n.encode() in body for n in f.fail)):
            self._reply(h, 500, b"simulated failure")
            return
        if f.no_sync and h.command == "REPORT" and b"sync-collection" in body:
            self._reply(h, 501, b"no sync-collection here")
            return
        headers = {
            k: v
            for k, v in h.headers.items()
            if k.lower() in ("depth", "content-type", "if-match", "if-none-match")
        }
        auth = None if f.digest else h.headers.get("Authorization")
        if auth is not None:
            headers["Authorization"] = auth  # the upstream checks the client's own
        answer = self._http.request(
            h.command, h.path, headers=headers, content=body, auth=self._auth if f.digest else None
        )
        content = answer.content
        if answer.status_code == 207:
            content = self._rewrite(content)
        elif h.command == "GET" and name in f.garbage and answer.status_code == 200:
            content = b"this is not\niCalendar at all\n"
        out = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() in ("content-type", "etag", "location", "www-authenticate")
        }
        if name in f.no_etag:
            out.pop("etag", None)
            out.pop("ETag", None)
        self._reply(h, answer.status_code, content, out)

    def _rewrite(self, content: bytes) -> bytes:
        f = self.faults
        if not (f.no_etag or f.garbage or f.no_sync):
            return content
        root = ElementTree.fromstring(content)
        for response in root.iter(f"{_DAV}response"):
            href = response.findtext(f"{_DAV}href") or ""
            name = unquote(href.rstrip("/").rsplit("/", 1)[-1])
            for prop in response.iter(f"{_DAV}prop"):
                for child in list(prop):
                    if child.tag == f"{_DAV}getetag" and name in f.no_etag:
                        prop.remove(child)
                    elif child.tag == f"{_CAL}calendar-data" and name in f.garbage:
                        child.text = "this is not\niCalendar at all\n"
                    elif child.tag == f"{_DAV}sync-token" and f.no_sync:
                        prop.remove(child)
        return ElementTree.tostring(root, xml_declaration=True, encoding="utf-8")
