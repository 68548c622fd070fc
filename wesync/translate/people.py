"""ATTENDEE / ORGANIZER <-> WeCom userids, attendees, admins and responses.

- An address maps through options.users (email, lower case), then
  options.user_domain (NAME@domain -> NAME), then the `wecom:USERID` URI
  wesync writes for userids that have no email (so they read back).
- The mapped ORGANIZER is an attendee and an admin; ATTENDEEs with
  ROLE=CHAIR are admins too (WeCom allows 3: more is reported).
- Unmapped attendees are reported and stay in the file; they are not sent.
- PARTSTAT <- response_status: 0 NEEDS-ACTION, 1 TENTATIVE, 2 and 3 ACCEPTED,
  4 DECLINED.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import icalendar

from wesync.translate.canonical import Problem, ProblemKind
from wesync.translate.options import TranslateOptions
from wesync.wecom.constants import ADMINS_MAX, ATTENDEES_MAX

WECOM_SCHEME = "wecom:"
PARTSTAT = {0: "NEEDS-ACTION", 1: "TENTATIVE", 2: "ACCEPTED", 3: "ACCEPTED", 4: "DECLINED"}


@dataclass(frozen=True)
class People:
    attendees: tuple[str, ...]
    admins: tuple[str, ...]
    problems: tuple[Problem, ...]


def _address(prop: Any) -> str:
    return str(prop).strip()


def userid_for(address: str, options: TranslateOptions) -> str | None:
    """The userid an ATTENDEE/ORGANIZER address stands for, or None."""
    lower = address.lower()
    if lower.startswith(WECOM_SCHEME):
        userid = unquote(address[len(WECOM_SCHEME) :])
        return userid or None
    email = lower.removeprefix("mailto:")
    if email in options.users:
        return options.users[email]
    if options.user_domain and "@" in email:
        name, _, domain = email.rpartition("@")
        if domain == options.user_domain and name:
            # Userids keep their own case in WeCom; take the address's spelling.
            return address.split(":", 1)[-1].rpartition("@")[0]
    return None


def address_for(userid: str, options: TranslateOptions) -> str:
    """The CAL-ADDRESS wesync writes for a userid."""
    email = options.emails_by_userid.get(userid)
    if email:
        return f"mailto:{email}"
    if options.user_domain:
        return f"mailto:{userid}@{options.user_domain}"
    return WECOM_SCHEME + quote(userid, safe="@._-")


def _props(event: icalendar.Event, name: str) -> list[Any]:
    value = event.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def read_people(event: icalendar.Event, options: TranslateOptions) -> People:
    problems: list[Problem] = []
    attendees: list[str] = []
    chairs: list[str] = []

    def mapped(name: str, prop: Any, unmapped: str) -> str | None:
        """The userid of an ATTENDEE or ORGANIZER, or None and a problem."""
        address = _address(prop)
        userid = userid_for(address, options)
        if userid is None:
            problems.append(
                Problem(
                    kind=ProblemKind.ATTENDEE_UNMAPPED,
                    message=f"{name} {address} has no WeCom userid ({unmapped})",
                )
            )
        return userid

    for prop in _props(event, "ATTENDEE"):
        userid = mapped("ATTENDEE", prop, "kept in the file, not sent")
        if userid is None:
            continue
        if userid not in attendees:
            attendees.append(userid)
        if str(prop.params.get("ROLE", "")).upper() == "CHAIR" and userid not in chairs:
            chairs.append(userid)
    admins: list[str] = []
    organizer = event.get("ORGANIZER")
    if organizer is not None:
        userid = mapped("ORGANIZER", organizer, "not an admin in WeCom")
        if userid is not None:
            admins.append(userid)
            if userid not in attendees:
                attendees.append(userid)
    admins += [c for c in sorted(chairs) if c not in admins]
    if len(admins) > ADMINS_MAX:
        problems.append(
            Problem(
                kind=ProblemKind.UNSUPPORTED,
                message=f"{len(admins)} admins (ORGANIZER and ROLE=CHAIR); WeCom keeps "
                f"{ADMINS_MAX}: {', '.join(admins[ADMINS_MAX:])} left out",
            )
        )
        admins = admins[:ADMINS_MAX]
    if len(attendees) > ATTENDEES_MAX:
        dropped = len(attendees) - ATTENDEES_MAX
        problems.append(
            Problem(
                kind=ProblemKind.UNSUPPORTED,
                message=f"{len(attendees)} attendees; WeCom keeps {ATTENDEES_MAX} "
                f"({dropped} left out)",
            )
        )
        others = [a for a in sorted(attendees) if a not in admins]
        attendees = admins + others[: ATTENDEES_MAX - len(admins)]
    return People(tuple(sorted(attendees)), tuple(sorted(admins)), tuple(problems))
