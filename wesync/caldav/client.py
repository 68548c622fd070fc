"""A small async WebDAV/CalDAV client for one calendar collection, over httpx.

Items are named by their last path segment inside the collection (like a
vdir's file names); the client turns names into percent-encoded paths and the
server's hrefs back into names, ignoring anything outside the collection.

Every failure raises a wesync.errors.StorageError naming the item's URL (or
the collection's): ItemNotFound for a 404, PreconditionFailed for a 412 on a
conditional write (someone else changed the item; nothing was overwritten).
The password never reaches a message or a log line: it is registered with
wesync.logs and only ever travels in the Authorization header.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import Counter
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx

from wesync import __version__
from wesync.caldav import xml
from wesync.config import Secret
from wesync.errors import ItemNotFound, PreconditionFailed, StorageError
from wesync.logs import RedactingFilter, register_secret

#: hrefs per calendar-multiget (a few hundred KB of iCalendar per answer)
MULTIGET_BATCH = 100
MAX_REDIRECTS = 5
_XML = "application/xml; charset=utf-8"
_SAFE_IN_NAME = "@+-._~!$&'()*,;=:"


@dataclass(frozen=True)
class Fetched:
    data: bytes
    etag: str


@dataclass(frozen=True)
class Delta:
    """What sync-collection reported since the token (or everything, with none)."""

    changed: dict[str, str | None]  #: name -> etag (None: the server gave none)
    removed: set[str]
    token: str


class SyncTokenExpired(StorageError):
    """The server no longer knows the sync token: list everything again."""


class _ServerAuth(httpx.Auth):
    """Basic or Digest, whichever the server asks for.

    The first request goes out without credentials unless the scheme is already
    known (the storage remembers it between runs); a 401 names the scheme and
    the request is sent again with it. So a password never travels as Basic to
    a server that asked for Digest.
    """

    requires_request_body = True

    def __init__(self, username: str, password: Secret, scheme: str | None) -> None:
        self._basic = httpx.BasicAuth(username, password.reveal())
        self._digest = httpx.DigestAuth(username, password.reveal())
        self.scheme = scheme if scheme in ("basic", "digest") else None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        if self.scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        offered = " ".join(response.headers.get_list("www-authenticate")).lower()
        if "digest" in offered:
            self.scheme = "digest"
            yield from self._digest.auth_flow(request)
        elif "basic" in offered:
            self.scheme = "basic"
            yield from self._basic.auth_flow(request)


def ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's `verify` from the config's: a bool, or the path of a CA bundle."""
    if isinstance(verify, bool):
        return verify
    try:
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise StorageError(f"cannot use the CA bundle: {exc}", path=verify) from None


def _scrub_httpx_logs() -> None:
    # httpx logs each request line; nothing secret is in a CalDAV URL, but a
    # scrubber on its loggers keeps it so whatever handler is installed
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


@dataclass
class DavClient:
    """One calendar collection at `url` (made to end in "/")."""

    url: str
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)
    verify: bool | str = True
    timeout: float = 30.0
    max_connections: int = 4
    auth_scheme: str | None = None
    transport: httpx.AsyncBaseTransport | None = None
    #: requests sent, by method (for figures and tests)
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if not self.url.endswith("/"):
            self.url += "/"
        auth: httpx.Auth | None = None
        if self.username is not None and self.password is not None:
            register_secret(self.password.reveal())
            self._auth = _ServerAuth(self.username, self.password, self.auth_scheme)
            auth = self._auth
        _scrub_httpx_logs()
        self._http = httpx.AsyncClient(
            auth=auth,
            verify=ssl_verify(self.verify),
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            transport=self.transport,
            limits=httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            ),
            headers={"User-Agent": f"wesync/{__version__}"},
        )

    @property
    def learned_scheme(self) -> str | None:
        """The auth scheme the server asked for (to remember for the next run)."""
        auth = getattr(self, "_auth", None)
        return auth.scheme if auth is not None else None

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- names and paths ---------------------------------------------------------

    @property
    def _path(self) -> str:
        return urlsplit(self.url).path

    def item_url(self, name: str) -> str:
        return self.url + quote(name, safe=_SAFE_IN_NAME)

    def name_of(self, href: str) -> str | None:
        """The item name of a server href; None for the collection itself, a
        subcollection, or anything outside the collection."""
        parts = urlsplit(urljoin(self.url, href))
        mine = urlsplit(self.url)
        if (parts.scheme, parts.netloc) != (mine.scheme, mine.netloc):
            return None
        path, base = unquote(parts.path), unquote(mine.path)
        if not path.startswith(base):
            return None
        rest = path[len(base) :]
        if not rest or "/" in rest:
            return None
        return rest

    # -- sending -----------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        self.calls[method] += 1
        try:
            response = await self._http.request(method, url, headers=headers, content=content)
        except httpx.TimeoutException:
            raise StorageError(f"{method}: no answer within {self.timeout:g}s", path=url) from None
        except httpx.TooManyRedirects:
            raise StorageError(f"{method}: more than {MAX_REDIRECTS} redirects", path=url) from None
        except httpx.TransportError as exc:
            raise StorageError(
                f"{method}: cannot reach the server ({type(exc).__name__}: {exc})", path=url
            ) from None
        if response.status_code == 401:
            raise StorageError(
                f"{method}: the server refused the username or password (401)", path=url
            )
        return response

    async def _multistatus(
        self, method: str, url: str, body: bytes, depth: str
    ) -> tuple[xml.Multistatus, httpx.Response]:
        response = await self._send(
            method, url, headers={"Depth": depth, "Content-Type": _XML}, content=body
        )
        if response.status_code == 404:
            raise StorageError(f"{method}: no such collection (404)", path=url)
        if response.status_code != 207:
            raise StorageError(f"{method}: the server answered {response.status_code}", path=url)
        try:
            return xml.parse_multistatus(response.content), response
        except xml.DavXmlError as exc:
            raise StorageError(f"{method}: {exc}", path=url) from None

    def _follow(self, response: httpx.Response) -> None:
        # a redirected collection (a missing slash, a moved calendar) is used where it went
        final = str(response.url)
        if final != self.url and response.history:
            self.url = final if final.endswith("/") else final + "/"

    # -- listing -----------------------------------------------------------------

    async def probe(self) -> str | None:
        """Check that the URL is a calendar collection; returns its sync token
        (None: the server does not offer sync-collection)."""
        status, response = await self._multistatus(
            "PROPFIND", self.url, xml.propfind_body(sync_token=True), "0"
        )
        self._follow(response)
        mine = [r for r in status.responses if self.name_of(r.href) is None]
        if not any(r.is_calendar for r in mine):
            raise StorageError("not a CalDAV calendar collection", path=self.url)
        return next((r.sync_token for r in mine if r.sync_token), None)

    async def list_etags(self) -> dict[str, str | None]:
        """Every item's name and etag, with one PROPFIND of depth 1."""
        status, response = await self._multistatus("PROPFIND", self.url, xml.propfind_body(), "1")
        self._follow(response)
        found: dict[str, str | None] = {}
        for r in status.responses:
            name = self.name_of(r.href)
            if name is None or r.is_collection or (r.status is not None and r.status >= 300):
                continue
            found[name] = r.etag
        return found

    async def sync_changes(self, token: str | None) -> Delta:
        """RFC 6578 sync-collection since `token`; follows a truncated answer (507)."""
        changed: dict[str, str | None] = {}
        removed: set[str] = set()
        for _ in range(1000):
            response = await self._send(
                "REPORT",
                self.url,
                headers={"Depth": "0", "Content-Type": _XML},
                content=xml.sync_collection_body(token),
            )
            if response.status_code in (403, 409, 412) and xml.is_invalid_sync_token(
                response.content
            ):
                raise SyncTokenExpired("the sync token is no longer valid", path=self.url)
            if response.status_code != 207:
                raise StorageError(
                    f"REPORT sync-collection: the server answered {response.status_code}",
                    path=self.url,
                )
            try:
                status = xml.parse_multistatus(response.content)
            except xml.DavXmlError as exc:
                raise StorageError(f"REPORT sync-collection: {exc}", path=self.url) from None
            if not status.sync_token:
                raise StorageError("REPORT sync-collection: answer without a token", path=self.url)
            more = False
            for r in status.responses:
                name = self.name_of(r.href)
                if name is None:
                    more = more or r.status == 507
                    continue
                if r.status == 404:
                    removed.add(name)
                    changed.pop(name, None)
                else:
                    changed[name] = r.etag
                    removed.discard(name)
            token = status.sync_token
            if not more:
                return Delta(changed=changed, removed=removed, token=token)
        raise StorageError("REPORT sync-collection never finished", path=self.url)

    # -- reading -----------------------------------------------------------------

    async def multiget(
        self, names: Sequence[str]
    ) -> tuple[dict[str, Fetched], dict[str, StorageError]]:
        """The items' bytes and etags, MULTIGET_BATCH per calendar-multiget; a batch
        the server fails is fetched again item by item, so one bad item harms only itself."""
        batch = MULTIGET_BATCH
        got: dict[str, Fetched] = {}
        failed: dict[str, StorageError] = {}
        for start in range(0, len(names), batch):
            part = names[start : start + batch]
            try:
                answer = await self._multiget_once(part)
            except StorageError:
                one_by_one = await asyncio.gather(*(self._get_or_error(n) for n in part))
                answer = dict(zip(part, one_by_one, strict=True))
            for name in part:
                got_one = answer.get(name)
                if got_one is None:
                    failed[name] = StorageError(
                        "the server left it out of its calendar-multiget answer",
                        path=self.item_url(name),
                    )
                elif isinstance(got_one, Fetched):
                    got[name] = got_one
                else:
                    failed[name] = got_one
        return got, failed

    async def _get_or_error(self, name: str) -> Fetched | StorageError:
        try:
            return await self.get(name)
        except StorageError as exc:
            return exc

    async def _multiget_once(self, names: Iterable[str]) -> dict[str, Fetched | StorageError]:
        paths = [self._path + quote(n, safe=_SAFE_IN_NAME) for n in names]
        status, _ = await self._multistatus("REPORT", self.url, xml.multiget_body(paths), "1")
        out: dict[str, Fetched | StorageError] = {}
        for r in status.responses:
            name = self.name_of(r.href)
            if name is None:
                continue
            where = self.item_url(name)
            if r.status == 404:
                out[name] = ItemNotFound("no such item", path=where)
            elif r.data is None:
                out[name] = StorageError("the server sent no calendar data", path=where)
            elif r.etag is None:
                out[name] = StorageError("the server sent no ETag", path=where)
            else:
                out[name] = Fetched(data=r.data.encode("utf-8"), etag=r.etag)
        return out

    async def get(self, name: str) -> Fetched:
        url = self.item_url(name)
        response = await self._send("GET", url)
        if response.status_code in (404, 410):
            raise ItemNotFound("no such item", path=url)
        if response.status_code != 200:
            raise StorageError(f"GET: the server answered {response.status_code}", path=url)
        etag = response.headers.get("etag")
        if not etag:
            raise StorageError("GET: the server sent no ETag", path=url)
        return Fetched(data=response.content, etag=etag)

    # -- writing -----------------------------------------------------------------

    async def put(self, name: str, data: bytes, *, etag: str | None) -> str | None:
        """Create (`etag` None: If-None-Match: *) or replace (If-Match) an item.
        Returns the new etag, or None when the server did not say it."""
        url = self.item_url(name)
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if etag is None:
            headers["If-None-Match"] = "*"
        else:
            headers["If-Match"] = etag
        response = await self._send("PUT", url, headers=headers, content=data)
        code = response.status_code
        if code in (403, 409, 412) and b"no-uid-conflict" in response.content:
            # RFC 4791 5.3.2.1: one UID per collection; the other item is left alone
            raise StorageError(
                f"PUT: another item on the server has the same UID ({code})", path=url
            )
        if code == 412:
            if etag is None:
                raise PreconditionFailed("an item of this name exists already", path=url)
            raise PreconditionFailed(
                "changed on the server since it was read; nothing was overwritten", path=url
            )
        if code == 404:
            raise ItemNotFound("no such item", path=url)
        if code not in (200, 201, 204):
            raise StorageError(f"PUT: the server answered {code}", path=url)
        return response.headers.get("etag") or None

    async def delete(self, name: str, etag: str) -> None:
        url = self.item_url(name)
        response = await self._send("DELETE", url, headers={"If-Match": etag})
        code = response.status_code
        if code == 412:
            raise PreconditionFailed(
                "changed on the server since it was read; not deleted", path=url
            )
        if code in (404, 410):
            raise ItemNotFound("no such item", path=url)
        if code not in (200, 204):
            raise StorageError(f"DELETE: the server answered {code}", path=url)
