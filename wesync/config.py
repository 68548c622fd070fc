"""The TOML configuration: lookup, validation and defaults (CONTRACT.md).

`load_config` returns frozen dataclasses or raises `ConfigError` naming the
file and the key. Unknown keys are errors, never ignored. Relative paths are
resolved against the config file's directory. The secret is not read here:
`resolve_secret` reads it when a command needs it, so `wesync status` works
without credentials.
"""

from __future__ import annotations

import enum
import os
import re
import stat
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wesync.errors import ConfigError

if TYPE_CHECKING:
    from wesync.caldav.settings import CalDavConfig

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
EMULATOR_CORPID = "wwemulator"
EMULATOR_CORPSECRET = "emulator-secret"
PAIR_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
#: schedules WeCom lets one app create per day (wecom-api: 每个应用每天创建的日程数量上限为2万个)
DEFAULT_DAILY_ADD_QUOTA = 20000


class Direction(enum.Enum):
    """Which way changes flow for a pair."""

    TWO_WAY = "two-way"  #: both sides are written
    TO_WECOM = "to-wecom"  #: the files are the truth; WeCom is written
    FROM_WECOM = "from-wecom"  #: WeCom is the truth; the files are written


class ConflictPolicy(enum.Enum):
    """What happens when both sides changed the same event differently."""

    WECOM_WINS = "wecom-wins"  #: WeCom's version overwrites the file
    LOCAL_WINS = "local-wins"  #: the file's version overwrites WeCom
    KEEP_BOTH = "keep-both"  #: WeCom's version wins; the local one becomes a new event


class Fallback(enum.Enum):
    """What to do with a recurrence WeCom cannot express exactly."""

    EXPAND = "expand"  #: one single schedule per occurrence inside a rolling window
    SKIP = "skip"  #: leave the event out of WeCom, warn once


class Backend(enum.Enum):
    HTTP = "http"  #: talk HTTP to base_url (WeCom, or a running `wesync emulator`)
    EMULATOR = "emulator"  #: the in-process emulator, no network


class Secret:
    """A string that never shows itself in a repr, str or log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, kw_only=True)
class WeComConfig:
    corpid: str
    corpsecret: Secret | None = field(default=None, repr=False)
    corpsecret_file: Path | None = None
    base_url: str = DEFAULT_BASE_URL
    backend: Backend = Backend.HTTP
    emulator_state: Path | None = None
    #: the in-process emulator's variants, checked: ((key, value), ...), hashable
    emulator_variants: tuple[tuple[str, str | int], ...] = ()
    rate_limit: int = 6000  #: calls per minute per API, kept under WeCom's 10,000
    max_concurrency: int = 8  #: requests in flight at once
    timeout: float = 30.0  #: seconds per HTTP request
    #: schedules created per app per WeCom day (UTC+8) at most; 0: no limit of wesync's own
    daily_add_quota: int = DEFAULT_DAILY_ADD_QUOTA
    origin: str = "[wecom]"  #: where this table came from, for error messages


@dataclass(frozen=True, kw_only=True)
class CallbackConfig:
    listen: str
    token: Secret = field(repr=False)
    encoding_aes_key: Secret = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class DaemonConfig:
    interval: float = 300.0  #: seconds
    health_listen: str | None = None
    callback: CallbackConfig | None = None


@dataclass(frozen=True, kw_only=True)
class PairConfig:
    name: str
    #: the vdir folder or .ics file; None when the pair's side is `caldav`
    local: Path | None
    cal_id: str
    direction: Direction = Direction.TWO_WAY
    conflict: ConflictPolicy = ConflictPolicy.KEEP_BOTH
    default_timezone: str = "Asia/Shanghai"
    fallback: Fallback = Fallback.EXPAND
    expand_window_days: int = 365
    user_domain: str | None = None
    users: Mapping[str, str] = field(default_factory=dict)  #: email (lower case) -> userid
    caldav: CalDavConfig | None = None  #: wesync.caldav.settings

    @property
    def is_single_file(self) -> bool:
        """A pair whose `local` is one .ics file rather than a vdir folder."""
        return (
            self.local is not None
            and self.local.suffix.lower() == ".ics"
            and not self.local.is_dir()
        )

    @property
    def where(self) -> str:
        """The iCalendar side, for messages: the folder, the file or the collection URL."""
        if self.caldav is not None:
            return self.caldav.url.rstrip("/")
        return str(self.local)


@dataclass(frozen=True, kw_only=True)
class Config:
    path: Path | None
    wecom: WeComConfig
    state_dir: Path
    daemon: DaemonConfig
    pairs: tuple[PairConfig, ...]

    def pair(self, name: str) -> PairConfig:
        for p in self.pairs:
            if p.name == name:
                return p
        raise ConfigError(f"unknown pair {name!r} (known: {', '.join(self.pair_names)})")

    @property
    def pair_names(self) -> list[str]:
        return [p.name for p in self.pairs]

    def select_pairs(self, names: tuple[str, ...] | list[str]) -> list[PairConfig]:
        """The named pairs in the order given, or every pair when none is named."""
        if not names:
            return list(self.pairs)
        return [self.pair(n) for n in names]


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """`$WESYNC_CONFIG`, else `$XDG_CONFIG_HOME/wesync/config.toml`."""
    env = os.environ if env is None else env
    if env.get("WESYNC_CONFIG"):
        return Path(env["WESYNC_CONFIG"]).expanduser()
    xdg = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg).expanduser() / "wesync" / "config.toml"


def parse_duration(value: object, *, where: str) -> float:
    """Seconds from a number or a string like "30s", "5m", "1h", "1d"."""
    if isinstance(value, bool):
        raise ConfigError('expected a duration like 300, "30s", "5m" or "1h"', where=where)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value)
        if not m:
            raise ConfigError(
                f'{value!r} is not a duration (use 300, "30s", "5m" or "1h")', where=where
            )
        seconds = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    else:
        raise ConfigError('expected a duration like 300, "30s", "5m" or "1h"', where=where)
    if seconds <= 0:
        raise ConfigError("must be greater than zero", where=where)
    return seconds


class _Table:
    """Reads one TOML table, checking types and rejecting keys nobody asked for."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where
        self.seen: set[str] = set()

    def _get(self, key: str, kinds: tuple[type, ...], what: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                raise ConfigError(f"missing required key {key!r}", where=self.where)
            return None
        value = self.data[key]
        if isinstance(value, bool) and bool not in kinds:
            raise ConfigError(f"{key!r} must be {what}, not {value!r}", where=self.where)
        if not isinstance(value, kinds):
            raise ConfigError(f"{key!r} must be {what}, not {value!r}", where=self.where)
        return value

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._get(key, (str,), "a string", required)
        if value is not None and not value.strip():
            raise ConfigError(f"{key!r} must not be empty", where=self.where)
        return value  # type: ignore[no-any-return]

    def integer(self, key: str) -> int | None:
        return self._get(key, (int,), "a whole number", False)  # type: ignore[no-any-return]

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key)

    def table(self, key: str) -> Mapping[str, Any] | None:
        return self._get(key, (dict,), "a table", False)  # type: ignore[no-any-return]

    def enum(self, key: str, kind: type[enum.Enum], default: Any) -> Any:
        value = self.text(key)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            choices = " | ".join(str(m.value) for m in kind)
            raise ConfigError(
                f"{key!r} must be one of {choices}, not {value!r}", where=self.where
            ) from None

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise ConfigError(f"unknown key {unknown[0]!r}", where=self.where)


def _path(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def load_config(path: Path | str) -> Config:
    """Read and validate a config file. Raises `ConfigError` naming what is wrong."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", where=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(path)) from None
    return parse_config(data, path=path.resolve())


def parse_config(data: Mapping[str, Any], *, path: Path | None) -> Config:
    base = path.parent if path is not None else Path.cwd()
    loc = str(path) if path is not None else "<config>"
    top = _Table(data, loc)

    wecom = _parse_wecom(top.table("wecom") or {}, base, f"{loc} [wecom]")
    state = _Table(top.table("state") or {}, f"{loc} [state]")
    state_dir = _path(base, state.text("dir") or "~/.local/state/wesync")
    state.finish()
    if wecom.backend is Backend.EMULATOR and wecom.emulator_state is None:
        wecom = _replace(wecom, emulator_state=state_dir / "wecom-emulator.json")
    daemon = _parse_daemon(top.table("daemon") or {}, f"{loc} [daemon]")

    raw_pairs = top.raw("pairs")
    if raw_pairs is None:
        raw_pairs = []
    if not isinstance(raw_pairs, list) or not all(isinstance(p, dict) for p in raw_pairs):
        raise ConfigError("'pairs' must be an array of tables ([[pairs]])", where=loc)
    pairs: list[PairConfig] = []
    for i, raw in enumerate(raw_pairs):
        pair = _parse_pair(raw, base, f"{loc} [[pairs]] #{i + 1}")
        if any(p.name == pair.name for p in pairs):
            raise ConfigError(f"pair name {pair.name!r} is used twice", where=loc)
        pairs.append(pair)
    top.finish()
    return Config(path=path, wecom=wecom, state_dir=state_dir, daemon=daemon, pairs=tuple(pairs))


def _replace(cfg: WeComConfig, **changes: Any) -> WeComConfig:
    from dataclasses import replace

    return replace(cfg, **changes)


def _parse_wecom(raw: Mapping[str, Any], base: Path, where: str) -> WeComConfig:
    t = _Table(raw, where)
    backend = t.enum("backend", Backend, Backend.HTTP)
    corpid = t.text("corpid")
    secret = t.text("corpsecret")
    secret_file = t.text("corpsecret_file")
    base_url = t.text("base_url") or DEFAULT_BASE_URL
    if not re.match(r"^https?://[^/\s]+", base_url):
        raise ConfigError(f"'base_url' must be an http(s):// URL, not {base_url!r}", where=where)
    emulator_state = t.text("emulator_state")
    raw_variants = t.table("emulator_variants")
    variants = _emulator_variants(raw_variants, where) if raw_variants is not None else ()
    if variants and backend is not Backend.EMULATOR:  # ignored, they would mislead a test
        raise ConfigError("'emulator_variants' needs backend = \"emulator\"", where=where)
    rate_limit = t.integer("rate_limit")
    if rate_limit is not None and rate_limit < 1:
        raise ConfigError("'rate_limit' must be at least 1 call per minute", where=where)
    concurrency = t.integer("max_concurrency")
    if concurrency is not None and not 1 <= concurrency <= 64:
        raise ConfigError("'max_concurrency' must be between 1 and 64", where=where)
    timeout = t.raw("timeout")
    quota = t.integer("daily_add_quota")
    if quota is not None and quota < 0:
        raise ConfigError(
            f"'daily_add_quota' must be 0 (no limit) or more schedules a day, not {quota}",
            where=where,
        )
    t.finish()
    if backend is Backend.EMULATOR:
        corpid = corpid or EMULATOR_CORPID
        if secret is None and secret_file is None:
            secret = EMULATOR_CORPSECRET
    elif corpid is None:
        raise ConfigError(
            "missing required key 'corpid' (or set backend = \"emulator\" to try wesync)",
            where=where,
        )
    return WeComConfig(
        corpid=corpid,
        corpsecret=Secret(secret) if secret is not None else None,
        corpsecret_file=_path(base, secret_file) if secret_file else None,
        base_url=base_url.rstrip("/"),
        backend=backend,
        emulator_state=_path(base, emulator_state) if emulator_state else None,
        emulator_variants=variants,
        rate_limit=rate_limit or 6000,
        max_concurrency=concurrency or 8,
        timeout=parse_duration(timeout, where=f"{where} timeout") if timeout is not None else 30.0,
        daily_add_quota=DEFAULT_DAILY_ADD_QUOTA if quota is None else quota,
        origin=where,
    )


def _emulator_variants(raw: Mapping[str, Any], where: str) -> tuple[tuple[str, str | int], ...]:
    """`emulator_variants = {KEY = VALUE, ...}`, checked by the emulator's own table."""
    from wesync.emulator.variants import VariantError, parse_value

    checked: list[tuple[str, str | int]] = []
    for key, value in raw.items():
        try:
            checked.append((key, parse_value(key, value)))
        except VariantError as exc:
            raise ConfigError(f"'emulator_variants': {exc}", where=where) from None
    return tuple(checked)


def _parse_daemon(raw: Mapping[str, Any], where: str) -> DaemonConfig:
    t = _Table(raw, where)
    interval_raw = t.raw("interval")
    interval = (
        parse_duration(interval_raw, where=f"{where} interval")
        if interval_raw is not None
        else 300.0
    )
    health = t.text("health_listen")
    if health is not None:
        _check_listen(health, f"{where} health_listen")
    cb_raw = t.table("callback")
    callback = None
    if cb_raw is not None:
        c = _Table(cb_raw, f"{where[:-1]}.callback]")
        listen = c.text("listen", required=True)
        assert listen is not None
        _check_listen(listen, f"{c.where} listen")
        token = c.text("token", required=True)
        key = c.text("encoding_aes_key", required=True)
        assert token is not None and key is not None
        if not re.fullmatch(r"[A-Za-z0-9]{1,32}", token):
            raise ConfigError("'token' must be 1 to 32 letters or digits", where=c.where)
        if not re.fullmatch(r"[A-Za-z0-9+/]{43}", key):
            raise ConfigError("'encoding_aes_key' must be 43 base64 characters", where=c.where)
        c.finish()
        callback = CallbackConfig(listen=listen, token=Secret(token), encoding_aes_key=Secret(key))
    t.finish()
    return DaemonConfig(interval=interval, health_listen=health, callback=callback)


def _check_listen(value: str, where: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{value!r} is not HOST:PORT (like 127.0.0.1:8080)", where=where)
    return host.strip("[]"), int(port)


def parse_listen(value: str) -> tuple[str, int]:
    """("127.0.0.1", 8080) from "127.0.0.1:8080"."""
    return _check_listen(value, "listen")


def _parse_pair(raw: Mapping[str, Any], base: Path, where: str) -> PairConfig:
    t = _Table(raw, where)
    name = t.text("name", required=True)
    assert name is not None
    if not PAIR_NAME_RE.match(name):
        raise ConfigError(f"pair name {name!r} may only use A-Z a-z 0-9 _ -", where=where)
    where = f"{where.rsplit(' #', 1)[0]} {name!r}"
    t.where = where
    local = t.text("local")
    caldav_raw = t.table("caldav")
    if (local is None) == (caldav_raw is None):
        raise ConfigError(
            "a pair needs exactly one of 'local' (a folder or .ics file) and [pairs.caldav]",
            where=where,
        )
    caldav = None
    if caldav_raw is not None:
        from wesync.caldav.settings import parse_caldav

        caldav = parse_caldav(caldav_raw, base, f"{where} [pairs.caldav]")
    cal_id = t.text("cal_id", required=True)
    assert cal_id is not None
    direction = t.enum("direction", Direction, Direction.TWO_WAY)
    conflict = t.enum("conflict", ConflictPolicy, ConflictPolicy.KEEP_BOTH)
    tz = t.text("default_timezone") or "Asia/Shanghai"
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"'default_timezone' {tz!r} is not a known time zone", where=where
        ) from None
    fallback = t.enum("fallback", Fallback, Fallback.EXPAND)
    window = t.integer("expand_window_days")
    if window is not None and not 1 <= window <= 3650:
        raise ConfigError("'expand_window_days' must be between 1 and 3650", where=where)
    domain = t.text("user_domain")
    if domain is not None:
        domain = domain.lstrip("@").lower()
    users_raw = t.table("users") or {}
    users: dict[str, str] = {}
    for email, userid in users_raw.items():
        if not isinstance(userid, str) or not userid:
            raise ConfigError(f"users.{email!r} must be a WeCom userid string", where=where)
        if len(userid.encode()) > 64:
            raise ConfigError(f"users.{email!r}: a userid is at most 64 bytes", where=where)
        users[email.lower().removeprefix("mailto:")] = userid
    t.finish()
    return PairConfig(
        name=name,
        local=_path(base, local) if local is not None else None,
        caldav=caldav,
        cal_id=cal_id,
        direction=direction,
        conflict=conflict,
        default_timezone=tz,
        fallback=fallback,
        expand_window_days=window or 365,
        user_domain=domain,
        users=users,
    )


def resolve_secret(cfg: WeComConfig, env: Mapping[str, str] | None = None) -> Secret:
    """The corpsecret: systemd credential, corpsecret_file, $WESYNC_CORPSECRET, then the config.

    Raises ConfigError when none is set or a named file cannot be read.
    """
    env = os.environ if env is None else env
    cred_dir = env.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        cred = Path(cred_dir) / "corpsecret"
        if cred.is_file():
            return Secret(_read_secret_file(cred))
    if cfg.corpsecret_file is not None:
        return Secret(_read_secret_file(cfg.corpsecret_file))
    if env.get("WESYNC_CORPSECRET"):
        return Secret(env["WESYNC_CORPSECRET"])
    if cfg.corpsecret is not None:
        return cfg.corpsecret
    raise ConfigError(
        "no corpsecret: set corpsecret_file, $WESYNC_CORPSECRET, corpsecret, "
        "or a systemd credential named corpsecret",
        where=cfg.origin,
    )


def _read_secret_file(path: Path) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the secret file: {exc.strerror}", where=str(path)) from None
    if not value:
        raise ConfigError("the secret file is empty", where=str(path))
    return value


def warn_if_secret_exposed(config: Config) -> str | None:
    """A warning when a config file that holds a secret can be read by others."""
    path = config.path
    has_secret = config.wecom.corpsecret is not None and config.wecom.backend is Backend.HTTP
    if config.daemon.callback is not None:
        has_secret = True
    if any(p.caldav is not None and p.caldav.password is not None for p in config.pairs):
        has_secret = True
    if path is None or not has_secret:
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        msg = (
            f"{path} holds a secret and is readable by other users; "
            f"run: chmod 600 {path} (or move the secret to corpsecret_file or password_file)"
        )
        return msg
    return None


# for the tables other modules parse ([pairs.caldav]: wesync.caldav.settings)
Table = _Table
resolve_path = _path
read_secret_file = _read_secret_file
