"""What `wesync probe` found out about a tenant's WeCom, kept in the state directory.

One small JSON file, `<state>/wecom-answers.json`, keyed by corpid (one state
directory may have served more than one tenant over time):

    {"ww0123...": {"sequence": "per-change", "listing": "sample", ...,
                   "probed_at": 1767225600}}

The sync engine reads `sequence` and `update_exclusions`, each only while a
pair has learned nothing of it itself (wesync.sync.sequence, the engine's
EXCLUSIONS_KEY): what a pair learns from its own writes is newer evidence than
a probe that may have run months ago.

Written atomically (temp file, fsync, rename) with mode 0600 like the token
cache: it names the corpid, which a user may not want world-readable.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from wesync.storage.atomic import replace

log = logging.getLogger(__name__)

ANSWERS_NAME = "wecom-answers.json"
#: the keys `wesync probe` answers, with the values each may take (the emulator's variants)
KEYS: dict[str, tuple[str, ...]] = {
    "sequence": ("per-change", "frozen", "absent"),
    "listing": ("sample", "full"),
    "update_exclusions": ("keep", "clear"),
    "get": ("all-or-nothing", "partial"),
    "order": ("creation", "start-time"),
}


def answers_path(state_dir: Path) -> Path:
    return state_dir / ANSWERS_NAME


def _load_all(state_dir: Path) -> dict[str, Any]:
    path = answers_path(state_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        # a broken file only costs what the probe would have saved: sync learns itself
        log.warning("%s: cannot read the probe's answers (%s); ignoring them", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def load_answers(state_dir: Path, corpid: str) -> dict[str, str]:
    """The answers recorded for `corpid`, only the known keys with valid values."""
    entry = _load_all(state_dir).get(corpid)
    if not isinstance(entry, dict):
        return {}
    return {k: v for k, v in entry.items() if k in KEYS and v in KEYS[k]}


def probed(state_dir: Path, corpid: str | None, key: str) -> str | None:
    """The probe's answer to `key` for `corpid`, or None when there is none."""
    if not corpid:
        return None
    return load_answers(state_dir, corpid).get(key)


def probed_sequence(state_dir: Path, corpid: str | None) -> str | None:
    """The probe's `sequence` answer for `corpid`, or None when there is none."""
    return probed(state_dir, corpid, "sequence")


def save_answers(state_dir: Path, corpid: str, answers: dict[str, str], *, now: int) -> Path:
    """Record `answers` for `corpid`, keeping other tenants' entries."""
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = _load_all(state_dir)
    data[corpid] = {**{k: answers[k] for k in KEYS if k in answers}, "probed_at": now}
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path = answers_path(state_dir)
    replace(path, text.encode("utf-8"), mode=0o600)
    return path
