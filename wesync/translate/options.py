"""What a pair's configuration tells the translator (and nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from wesync.config import Fallback, PairConfig


@dataclass(frozen=True, kw_only=True)
class TranslateOptions:
    default_timezone: str = "Asia/Shanghai"  #: for floating times
    fallback: Fallback = Fallback.EXPAND
    expand_window_days: int = 365
    expand_cap: int = 500  #: max occurrences per event; more -> Problem EXPANSION_CAPPED
    users: Mapping[str, str] = field(default_factory=dict)  #: email (lower case) -> userid
    user_domain: str | None = None  #: mailto:NAME@domain <-> userid NAME

    def __post_init__(self) -> None:
        # Keys are compared in lower case; normalising once here keeps every
        # lookup in people.py a plain dict access.
        users = {k.lower().removeprefix("mailto:"): v for k, v in self.users.items()}
        object.__setattr__(self, "users", MappingProxyType(users))
        if self.user_domain is not None:
            object.__setattr__(self, "user_domain", self.user_domain.lstrip("@").lower())

    @property
    def emails_by_userid(self) -> Mapping[str, str]:
        """The reverse of `users`; the first email listed wins for a userid."""
        out: dict[str, str] = {}
        for email, userid in self.users.items():
            out.setdefault(userid, email)
        return out

    @classmethod
    def from_pair(cls, pair: PairConfig) -> TranslateOptions:
        return cls(
            default_timezone=pair.default_timezone,
            fallback=pair.fallback,
            expand_window_days=pair.expand_window_days,
            users=dict(pair.users),
            user_domain=pair.user_domain,
        )
