"""A CalDAV calendar collection behind the storage interface (wesync.storage.base).

    load:  sync-collection since the kept token (one small REPORT when nothing
           changed), else PROPFIND depth 1; then calendar-multiget, in batches,
           of every item whose etag the mirror does not hold bytes for
    read:  list() and get() answer from the listing and the mirror
    write: PUT with If-None-Match: * (create) or If-Match (update), DELETE with
           If-Match; a 412 is someone else's edit: PreconditionFailed, nothing
           overwritten, and the next load reads the item again

A failed listing raises (it is never an empty collection). An item the server
lists without an ETag, or cannot send, stays listed and raises from get()
naming its URL, so the engine holds that one item and nothing else.

Requests run on the CalDAV I/O loop (wesync.caldav.ioloop): the `a`-prefixed
methods await them without blocking the caller's loop; the plain methods wait.
"""

from __future__ import annotations

import re
import uuid
import weakref
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from wesync.caldav import ioloop
from wesync.caldav.client import DavClient, Delta, SyncTokenExpired
from wesync.caldav.mirror import Mirror
from wesync.config import Secret
from wesync.errors import ItemNotFound, PreconditionFailed, StorageError
from wesync.storage.base import Etag, Href

_T = TypeVar("_T")
_SAFE_UID = re.compile(r"[A-Za-z0-9_.@+-]+")
MAX_UID_NAME = 200
_CREATE_ATTEMPTS = 5


def check_name(href: Href, where: str) -> str:
    """`href` as an item name, refusing anything that could leave the collection."""
    if (
        not href
        or href in (".", "..")
        or any(c in href for c in "/\\\x00")
        or any(ord(c) < 32 for c in href)
    ):
        raise StorageError(f"refusing unsafe href {href!r}", path=where)
    return href


def looks_like_icalendar(data: bytes) -> bool:
    """Whether bytes are worth keeping in the mirror (the engine parses them properly)."""
    head, tail = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n"), data[-512:].rstrip()
    return head[:15].upper() == b"BEGIN:VCALENDAR" and tail[-13:].upper() == b"END:VCALENDAR"


def mirror_path(state_dir: Path, pair: str) -> Path:
    return state_dir / f"{pair}.caldav.sqlite"


class CalDavStorage:
    """One calendar collection; see the module docstring."""

    def __init__(self, client: DavClient, *, mirror: Mirror, sync_collection: bool = True) -> None:
        self.client = client
        self.mirror = mirror
        self.sync_collection = sync_collection
        self._etags: dict[str, str | None] = {}
        self._errors: dict[str, StorageError] = {}
        self._unkept: dict[str, bytes] = {}  #: bytes this run read but did not keep
        self._loaded = False
        #: requests of the last load, by method (figures and tests)
        self.last_load: dict[str, int] = {}
        self._finalizer = weakref.finalize(self, _close, client, mirror)

    def __repr__(self) -> str:
        return f"CalDavStorage({self.client.url!r})"

    @property
    def url(self) -> str:
        return self.client.url

    # -- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Close the client and the mirror (also done when the storage is dropped)."""
        self._finalizer()

    async def aclose(self) -> None:
        if self._finalizer.detach() is not None:
            await ioloop.arun(self.client.aclose())
            self.mirror.close()

    def load(self) -> None:
        """List the collection and fetch what changed (waits for it)."""
        ioloop.run(self._load())

    async def aload(self) -> None:
        """The same, awaited: the caller's loop keeps running."""
        await ioloop.arun(self._load())

    async def _listing(self) -> tuple[dict[str, str | None], str | None]:
        """Every item's etag and the sync token that goes with it (None: no sync)."""
        kept = self.mirror.etags()
        token = self.mirror.meta("sync_token") if self.sync_collection else None
        if token is not None:
            try:
                delta = await self.client.sync_changes(token)
            except SyncTokenExpired:
                pass
            else:
                listing = {name: etag for name, (etag, _) in kept.items()}
                for name in delta.removed:
                    listing.pop(name, None)
                listing.update(delta.changed)
                return listing, delta.token
        if self.sync_collection and self.mirror.meta("sync") != "no":
            if await self.client.probe() is not None:
                full: Delta = await self.client.sync_changes(None)
                return dict(full.changed), full.token
            self.mirror.set_meta("sync", "no")  # the probe is not repeated every run
        return await self.client.list_etags(), None

    async def _load(self) -> None:
        before = dict(self.client.calls)
        kept = self.mirror.etags()
        listing, token = await self._listing()
        need = [n for n, e in listing.items() if e is not None and kept.get(n) != (e, True)]
        got, failed = await self.client.multiget(need)
        errors: dict[str, StorageError] = {}
        unkept: dict[str, bytes] = {}
        with self.mirror.transaction():
            self.mirror.remove([n for n in kept if n not in listing])
            for name, etag in list(listing.items()):
                if name in got:
                    fetched = got[name]
                    listing[name] = fetched.etag  # read after the listing: the newer one
                    if looks_like_icalendar(fetched.data):
                        self.mirror.put(name, fetched.etag, fetched.data)
                    else:
                        # kept for this run only: fetched again next run, in case
                        # the answer was damaged on its way
                        self.mirror.put(name, fetched.etag, None)
                        unkept[name] = fetched.data
                elif isinstance(failed.get(name), ItemNotFound):
                    del listing[name]  # removed between the listing and the fetch
                    self.mirror.remove([name])
                    continue
                elif name not in kept or kept[name][0] != etag or name in failed:
                    self.mirror.put(name, etag, None)
                if name in failed:
                    errors[name] = failed[name]
                elif etag is None:
                    errors[name] = StorageError(
                        "the server lists it without an ETag; not synced",
                        path=self.client.item_url(name),
                    )
            if None in listing.values():
                # an item listed without an ETag is not in a later delta unless it
                # changes: list everything again next run, until the server sends one
                token = None
            self.mirror.set_meta("sync_token", token)
            self.mirror.set_meta("auth", self.client.learned_scheme)
        self._etags, self._errors, self._loaded = listing, errors, True
        self._unkept = unkept
        self.last_load = {
            k: v - before.get(k, 0) for k, v in self.client.calls.items() if v != before.get(k, 0)
        }

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return ioloop.run(coro)

    # -- reading -----------------------------------------------------------------

    def list(self) -> Iterator[tuple[Href, Etag]]:
        """Every item's name and etag ("" when the server gave none: get() says so)."""
        self._ensure()
        return iter(sorted((name, etag or "") for name, etag in self._etags.items()))

    def _listed(self, href: Href) -> str:
        name = check_name(href, self.url)
        if not self._loaded:
            raise StorageError("used before it was loaded", path=self.url)
        if name not in self._etags:
            raise ItemNotFound("no such item", path=self.client.item_url(name))
        return name

    def _kept(self, name: str) -> tuple[bytes, Etag] | None:
        error = self._errors.get(name)
        if error is not None:
            raise error
        etag = self._etags[name]
        if etag is None:
            return None
        data = self._unkept.get(name) or self.mirror.data(name, etag)
        return (data, etag) if data is not None else None

    def _ensure(self) -> None:
        if not self._loaded:
            self.load()

    async def _aensure(self) -> None:
        if not self._loaded:
            await self.aload()

    def get(self, href: Href) -> tuple[bytes, Etag]:
        self._ensure()
        name = self._listed(href)
        kept = self._kept(name)
        return kept if kept is not None else self._run(self._fetch(name))

    async def aget(self, href: Href) -> tuple[bytes, Etag]:
        await self._aensure()
        name = self._listed(href)
        kept = self._kept(name)
        return kept if kept is not None else await ioloop.arun(self._fetch(name))

    async def _fetch(self, name: str) -> tuple[bytes, Etag]:
        fetched = await self.client.get(name)
        self._remember(name, fetched.etag, fetched.data)
        return fetched.data, fetched.etag

    def _remember(self, name: str, etag: str, data: bytes | None) -> None:
        self._etags[name] = etag
        self._errors.pop(name, None)
        self._unkept.pop(name, None)
        if data is not None and not looks_like_icalendar(data):
            self._unkept[name], data = data, None
        self.mirror.put(name, etag, data)

    # -- writing -----------------------------------------------------------------

    def _name_for_uid(self, uid: str) -> str | None:
        if len(uid) > MAX_UID_NAME or uid.startswith(".") or not _SAFE_UID.fullmatch(uid):
            return None
        name = uid + ".ics"
        if name.lower() in {n.lower() for n in self._etags}:
            return None
        return name

    def create(self, uid: str, data: bytes) -> tuple[Href, Etag]:
        self._ensure()
        return self._run(self._create(uid, data))

    async def acreate(self, uid: str, data: bytes) -> tuple[Href, Etag]:
        await self._aensure()
        return await ioloop.arun(self._create(uid, data))

    async def _create(self, uid: str, data: bytes) -> tuple[Href, Etag]:
        name = self._name_for_uid(uid)
        for _ in range(_CREATE_ATTEMPTS):
            if name is None:
                name = uuid.uuid4().hex + ".ics"
            try:
                etag = await self.client.put(name, data, etag=None)
            except PreconditionFailed:
                name = None  # taken on the server meanwhile: never overwritten
                continue
            return name, await self._written(name, etag, data)
        raise StorageError("could not find a free item name", path=self.url)

    async def _written(self, name: str, etag: str | None, data: bytes) -> Etag:
        if etag is None:
            # the server did not say which etag the bytes have (it may have
            # changed them): read back what it holds
            return (await self._fetch(name))[1]
        self._remember(name, etag, data)
        return etag

    def update(self, href: Href, data: bytes, etag: Etag) -> Etag:
        self._ensure()
        name = self._listed(href)
        return self._run(self._update(name, data, etag))

    async def aupdate(self, href: Href, data: bytes, etag: Etag) -> Etag:
        await self._aensure()
        name = self._listed(href)
        return await ioloop.arun(self._update(name, data, etag))

    async def _update(self, name: str, data: bytes, etag: Etag) -> Etag:
        new = await self.client.put(name, data, etag=etag)
        return await self._written(name, new, data)

    def delete(self, href: Href, etag: Etag) -> None:
        self._ensure()
        name = self._listed(href)
        self._run(self._delete(name, etag))

    async def adelete(self, href: Href, etag: Etag) -> None:
        await self._aensure()
        name = self._listed(href)
        await ioloop.arun(self._delete(name, etag))

    async def _delete(self, name: str, etag: Etag) -> None:
        try:
            await self.client.delete(name, etag)
        except ItemNotFound:
            self._forget(name)
            raise
        self._forget(name)

    def _forget(self, name: str) -> None:
        self._unkept.pop(name, None)
        self._etags.pop(name, None)
        self._errors.pop(name, None)
        self.mirror.remove([name])

    def flush(self) -> None:
        """Every write is on the server when it returns."""

    async def aflush(self) -> None:
        """Every write is on the server when it returns."""


def _close(client: DavClient, mirror: Mirror) -> None:
    ioloop.post(client.aclose())
    mirror.close()


def open_caldav(
    url: str,
    *,
    username: str | None,
    password: Secret | None,
    verify: bool | str = True,
    timeout: float = 30.0,
    mirror: Path | None,
    readonly: bool = False,
) -> CalDavStorage:
    """A storage for the collection at `url`, its mirror kept at `mirror` (None: in
    memory; `readonly`: read from that file, never written back). Not loaded yet:
    call load() or aload()."""
    kept = Mirror(mirror, url=url, readonly=readonly)
    client = DavClient(
        url,
        username=username,
        password=password,
        verify=verify,
        timeout=timeout,
        auth_scheme=kept.meta("auth"),
    )
    return CalDavStorage(client, mirror=kept)
