"""WebDAV/CalDAV request bodies and multistatus answers (RFC 4918, 4791, 6578).

Pure: builds bytes and parses bytes, no I/O. Parsing goes through defusedxml,
so a hostile server cannot make the parser expand entities or fetch anything.
Only the properties a propstat reports with status 200 count; everything else
(403 for an unknown property, 404 for a missing one) reads as absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
_STATUS = re.compile(r"^\s*HTTP/\d(?:\.\d)?\s+(\d{3})")


class DavXmlError(ValueError):
    """An answer that is not the XML the request calls for."""


def _tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'


def propfind_body(*, sync_token: bool = False) -> bytes:
    """PROPFIND for what a listing needs: the etag and the kind of each resource."""
    token = "<d:sync-token/>" if sync_token else ""
    return (
        f'{_HEAD}<d:propfind xmlns:d="DAV:"><d:prop>'
        f"<d:resourcetype/><d:getetag/>{token}</d:prop></d:propfind>"
    ).encode()


def sync_collection_body(token: str | None) -> bytes:
    """RFC 6578 sync-collection: what changed since `token` (all, when None)."""
    return (
        f'{_HEAD}<d:sync-collection xmlns:d="DAV:">'
        f"<d:sync-token>{escape(token or '')}</d:sync-token>"
        "<d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/></d:prop></d:sync-collection>"
    ).encode()


def multiget_body(paths: Iterable[str]) -> bytes:
    """RFC 4791 calendar-multiget of these (percent-encoded) paths."""
    hrefs = "".join(f"<d:href>{escape(p)}</d:href>" for p in paths)
    return (
        f'{_HEAD}<c:calendar-multiget xmlns:d="DAV:" xmlns:c="{CALDAV}">'
        f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"
    ).encode()


@dataclass(frozen=True)
class DavResponse:
    """One <response> of a multistatus."""

    href: str  #: as the server wrote it (a path or a URL, percent-encoded)
    status: int | None  #: the response's own status (404: removed / not found)
    etag: str | None = None
    data: str | None = None  #: calendar-data
    is_collection: bool = False
    is_calendar: bool = False
    sync_token: str | None = None  #: the collection's DAV:sync-token property


@dataclass(frozen=True)
class Multistatus:
    responses: tuple[DavResponse, ...]
    sync_token: str | None  #: the report's new token (sync-collection)


def parse_status(text: str | None) -> int | None:
    if not text:
        return None
    m = _STATUS.match(text)
    return int(m.group(1)) if m else None


def _parse(body: bytes) -> Element:
    try:
        root: Element = ElementTree.fromstring(body)
    except Exception as exc:  # defusedxml raises its own kinds besides ParseError
        raise DavXmlError(f"the answer is not XML ({type(exc).__name__}: {exc})") from None
    return root


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext())
    return text


def _ok_props(response: Element) -> Iterator[Element]:
    """The <prop> children of every propstat whose status is 2xx."""
    for propstat in response.iter(_tag(DAV, "propstat")):
        status = parse_status(_text(propstat.find(_tag(DAV, "status"))))
        if status is not None and not 200 <= status < 300:
            continue
        prop = propstat.find(_tag(DAV, "prop"))
        if prop is not None:
            yield from prop


def parse_multistatus(body: bytes) -> Multistatus:
    """Every response of a 207 answer; raises DavXmlError if it is not one."""
    root = _parse(body)
    if root.tag != _tag(DAV, "multistatus"):
        raise DavXmlError(f"expected a DAV:multistatus, got {root.tag!r}")
    responses = []
    for response in root.findall(_tag(DAV, "response")):
        href = (_text(response.find(_tag(DAV, "href"))) or "").strip()
        if not href:
            raise DavXmlError("a response without an href")
        status = parse_status(_text(response.find(_tag(DAV, "status"))))
        fields: dict[str, object] = {}
        for prop in _ok_props(response):
            if prop.tag == _tag(DAV, "getetag"):
                etag = (_text(prop) or "").strip()
                fields["etag"] = etag or None
            elif prop.tag == _tag(CALDAV, "calendar-data"):
                fields["data"] = _text(prop)
            elif prop.tag == _tag(DAV, "resourcetype"):
                fields["is_collection"] = prop.find(_tag(DAV, "collection")) is not None
                fields["is_calendar"] = prop.find(_tag(CALDAV, "calendar")) is not None
            elif prop.tag == _tag(DAV, "sync-token"):
                fields["sync_token"] = (_text(prop) or "").strip() or None
        responses.append(DavResponse(href=href, status=status, **fields))  # type: ignore[arg-type]
    token_el = root.find(_tag(DAV, "sync-token"))
    token = (_text(token_el) or "").strip() or None if token_el is not None else None
    return Multistatus(responses=tuple(responses), sync_token=token)


def is_invalid_sync_token(body: bytes) -> bool:
    """An error answer naming DAV:valid-sync-token (the token expired or is unknown)."""
    try:
        root = _parse(body)
    except DavXmlError:
        return False
    return root.find(f".//{_tag(DAV, 'valid-sync-token')}") is not None or root.tag == _tag(
        DAV, "valid-sync-token"
    )
