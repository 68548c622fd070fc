"""README.zh-CN.md keeps step with README.md (and the systemd guide and the config
example with theirs): the same sections, the same commands
and config keys in its code blocks, the same names in backticks, in the same order.
(Prose is free to differ; this is what a reader copies.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```", re.S | re.M)
TOML_KEY = re.compile(r"^\s*([A-Za-z_][\w.-]*|\[\[?[\w.-]+\]\]?)\s*(=|$)")


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _headings(text: str) -> list[int]:
    prose = FENCE.sub("", text)
    return [len(m.group(1)) for m in re.finditer(r"^(#{1,6}) ", prose, re.M)]


def _code_words(text: str) -> list[str]:
    """Each code line's command or config key (comments stripped: they are prose)."""
    words = []
    for block in FENCE.findall(text):
        for line in block.splitlines()[1:-1]:
            line = line.split(" #", 1)[0].rstrip()
            if line.startswith("#") or not line.strip():
                continue
            key = TOML_KEY.match(line)
            if key:
                words.append(key.group(1))
            elif re.match(r"wesync/\S*\s", line):
                words.append(line.split()[0])  # the layout: a path, then prose
            elif line.lstrip().startswith(("wesync", "python", "sudo", "systemctl", "pip")):
                words.append(line.strip())
    return words


def _backticked(text: str) -> list[str]:
    # a span may run over a line break (Markdown allows it)
    spans = re.findall(r"`([^`]+)`", FENCE.sub("", text))
    return [" ".join(span.split()) for span in spans]


def test_both_readmes_link_to_each_other() -> None:
    assert "README.zh-CN.md" in _read("README.md").splitlines()[0]
    assert "README.md" in _read("README.zh-CN.md").splitlines()[0]


PAIRS = [("README.md", "README.zh-CN.md"), ("docs/systemd.md", "docs/systemd.zh-CN.md")]


def test_the_systemd_guides_link_to_each_other() -> None:
    assert "systemd.zh-CN.md" in _read("docs/systemd.md").splitlines()[0]
    assert "systemd.md" in _read("docs/systemd.zh-CN.md").splitlines()[0]


def test_the_config_examples_hold_the_same_config() -> None:
    english = tomllib.loads(_read("config.example.toml"))
    assert tomllib.loads(_read("config.example.zh-CN.toml")) == english


@pytest.mark.parametrize(("en", "zh"), PAIRS)
def test_the_same_sections_in_the_same_order(en: str, zh: str) -> None:
    assert _headings(_read(en)) == _headings(_read(zh)), f"{zh}'s sections differ from {en}'s"


@pytest.mark.parametrize(("en", "zh"), PAIRS)
def test_the_same_commands_and_config_keys(en: str, zh: str) -> None:
    assert _code_words(_read(en)) == _code_words(_read(zh))


@pytest.mark.parametrize(("en", "zh"), PAIRS)
def test_the_same_names_in_backticks(en: str, zh: str) -> None:
    english, chinese = _backticked(_read(en)), _backticked(_read(zh))
    missing = [name for name in english if name not in chinese]
    extra = [name for name in chinese if name not in english]
    assert not missing and not extra, f"only in README.md: {missing}; only in zh-CN: {extra}"
    assert english == chinese
