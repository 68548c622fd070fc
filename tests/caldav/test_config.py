"""`[pairs.caldav]`: parsing, the password's sources, and `wesync check`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.caldav.servers import DavServer
from wesync.caldav.settings import resolve_caldav_password
from wesync.cli import cli
from wesync.config import Secret, load_config, warn_if_secret_exposed
from wesync.errors import ConfigError

WECOM = '[wecom]\nbackend = "emulator"\n'


def write(tmp_path: Path, pair: str, *, mode: int = 0o600, top: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'{WECOM}[state]\ndir = "{tmp_path / "state"}"\n{top}\n'
        f'[[pairs]]\nname = "team"\ncal_id = "wc1"\n{pair}',
        encoding="utf-8",
    )
    path.chmod(mode)
    return path


CALDAV = """
[pairs.caldav]
url = "https://cloud.example.com/remote.php/dav/calendars/alice/team"
username = "alice"
password = "hunter2-secret"
"""


def test_a_caldav_pair(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not checked here")
    cfg = load_config(write(tmp_path, CALDAV + 'verify = "ca.pem"\ntimeout = "10s"\n'))
    [pair] = cfg.pairs
    assert pair.local is None
    assert pair.caldav is not None
    assert pair.caldav.url == "https://cloud.example.com/remote.php/dav/calendars/alice/team/"
    assert pair.caldav.verify == tmp_path / "ca.pem"
    assert pair.caldav.timeout == 10.0
    assert pair.where == "https://cloud.example.com/remote.php/dav/calendars/alice/team"
    assert "hunter2" not in repr(cfg)
    assert resolve_caldav_password(pair, env={}) == Secret("hunter2-secret")


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("", "exactly one of 'local'"),
        ('local = "cal"\n' + CALDAV, "exactly one of 'local'"),
        ('[pairs.caldav]\nurl = "ftp://example.com/cal/"\n', "must be an http"),
        ('[pairs.caldav]\nurl = "https://alice:pw@example.com/cal/"\n', "must not hold"),
        (CALDAV + "colour = 1\n", "unknown key 'colour'"),
        (CALDAV + "verify = 3\n", "'verify' must be true, false or the path"),
        (CALDAV + 'verify = "missing.pem"\n', "no CA bundle at"),
        ('[pairs.caldav]\nurl = "https://example.com/c/"\npassword = "x"\n', "needs a 'username'"),
    ],
)
def test_config_errors_name_the_pair(tmp_path: Path, pair: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(write(tmp_path, pair))
    assert "'team'" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_pair_without_a_side_exits_2_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(write(tmp_path, "")), "sync"])
    assert result.exit_code == 2
    assert "'team'" in result.output and "exactly one of" in result.output


def test_password_sources_in_order(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, CALDAV + 'password_file = "pw"\n'))
    [pair] = cfg.pairs
    (tmp_path / "pw").write_text("from-file\n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "caldav-team").write_text("from-credential\n")
    env = {"WESYNC_CALDAV_PASSWORD": "from-env", "CREDENTIALS_DIRECTORY": str(creds)}
    assert resolve_caldav_password(pair, env=env) == Secret("from-credential")
    del env["CREDENTIALS_DIRECTORY"]
    assert resolve_caldav_password(pair, env=env) == Secret("from-file")
    no_file = load_config(write(tmp_path, CALDAV)).pairs[0]
    assert resolve_caldav_password(no_file, env=env) == Secret("from-env")
    assert resolve_caldav_password(no_file, env={}) == Secret("hunter2-secret")


def test_a_username_without_any_password_is_an_error(tmp_path: Path) -> None:
    pair = load_config(
        write(tmp_path, '[pairs.caldav]\nurl = "https://e.com/c/"\nusername = "a"\n')
    ).pairs[0]
    with pytest.raises(ConfigError, match=r"no CalDAV password.*caldav-team"):
        resolve_caldav_password(pair, env={})
    (tmp_path / "empty").write_text("")
    with_file = load_config(
        write(
            tmp_path,
            '[pairs.caldav]\nurl = "https://e.com/c/"\nusername = "a"\npassword_file = "empty"\n',
        )
    ).pairs[0]
    with pytest.raises(ConfigError, match="empty"):
        resolve_caldav_password(with_file, env={})


def test_a_readable_config_holding_the_password_warns(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, CALDAV, mode=0o644))
    warning = warn_if_secret_exposed(cfg)
    assert warning is not None and "chmod 600" in warning
    assert "hunter2" not in warning
    file_only = CALDAV.replace('password = "hunter2-secret"', 'password_file = "pw"')
    assert warn_if_secret_exposed(load_config(write(tmp_path, file_only, mode=0o644))) is None


def caldav_config(tmp_path: Path, server: DavServer, url: str, password: str) -> Path:
    verify = f'"{server.verify}"' if isinstance(server.verify, str) else "true"
    (tmp_path / "pw").write_text(password)
    return write(
        tmp_path,
        f'[pairs.caldav]\nurl = "{url}"\nusername = "{server.username}"\n'
        f'password_file = "pw"\nverify = {verify}\n',
    )


def test_check_validates_the_caldav_credentials(
    tmp_path: Path, dav_server: DavServer, calendar_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = caldav_config(tmp_path, dav_server, calendar_url, dav_server.password)
    result = CliRunner().invoke(cli, ["-c", str(good), "check"])
    assert result.exit_code == 0, result.output
    assert "CalDAV calendar reachable, credentials accepted (sync-collection)" in result.output
    bad = caldav_config(tmp_path, dav_server, calendar_url, "not-the-password-42")
    result = CliRunner().invoke(cli, ["-c", str(bad), "check"])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "refused the username or password" in result.output
    assert "not-the-password-42" not in result.output + caplog.text
    assert dav_server.password not in result.output + caplog.text
