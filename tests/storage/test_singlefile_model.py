"""Random sequences of writes against a plain dict: the file must always agree."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storage.ics import calendar, item, summaries, vevent
from wesync.errors import ItemParseError, StorageError
from wesync.storage.singlefile import SingleFileStorage

TODO = "BEGIN:VTODO\r\nUID:todo\r\nSUMMARY:untouched\r\nEND:VTODO\r\n"
UIDS = ["a", "b", "c", "d"]

operation = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(UIDS), st.sampled_from(["x", "y", "z"])),
    st.tuples(st.just("delete"), st.sampled_from(UIDS), st.just("")),
    st.tuples(st.just("flush"), st.just(""), st.just("")),
    st.tuples(st.just("reopen"), st.just(""), st.just("")),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(operation, max_size=25))
def test_file_always_matches_the_model(ops: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cal.ics"
        original = calendar(vevent("a", "start"), TODO)
        path.write_bytes(original)
        model = {"a": "start"}
        storage = SingleFileStorage(path)
        for op, uid, summary in ops:
            etags = dict(storage.list())
            if op == "put" and uid in model:
                storage.update(uid, item(uid, summary), etags[uid])
                model[uid] = summary
            elif op == "put":
                assert storage.create(uid, item(uid, summary))[0] == uid
                model[uid] = summary
            elif op == "delete" and uid in model:
                storage.delete(uid, etags[uid])
                del model[uid]
            elif op == "flush":
                storage.flush()
            elif op == "reopen":
                storage.flush()
                storage = SingleFileStorage(path)
            listed = dict(storage.list())
            assert set(listed) == set(model)
            for uid_, summary_ in model.items():
                assert summaries(storage.get(uid_)[0]) == {uid_: [summary_]}
        storage.flush()
        written = path.read_bytes()
        found = summaries(written)
        assert found == {uid: [summary] for uid, summary in model.items()}
        assert TODO.encode() in written
        assert written.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n")
        assert dict(SingleFileStorage(path).list()) == dict(storage.list())


MANGLE_BASE = calendar(
    vevent("a", "A"),
    vevent("a", "A moved", recurrence_id="20260112T090000"),
    vevent("b", "B"),
    TODO,
)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mangled_files_never_crash_the_storage(data: st.DataObject) -> None:
    lines = MANGLE_BASE.split(b"\r\n")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(lines) - 1))
        if data.draw(st.booleans()):
            lines.insert(at, lines[data.draw(st.integers(0, len(lines) - 1))])
        else:
            del lines[at]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cal.ics"
        path.write_bytes(b"\r\n".join(lines))
        storage = SingleFileStorage(path)
        try:
            listed = dict(storage.list())
        except ItemParseError as exc:
            assert str(path) in str(exc)
            return
        assert all(isinstance(p, StorageError) for p in storage.problems)
        for href, etag in listed.items():
            assert storage.get(href)[1] == etag
        problem_uids = {getattr(p, "uid", None) for p in storage.problems}
        assert not problem_uids & set(listed)
        if listed:
            href = next(iter(listed))
            storage.update(href, item(href, "rewritten"), listed[href])
            storage.flush()
            again = SingleFileStorage(path)
            assert summaries(again.get(href)[0]) == {href: ["rewritten"]}
            assert {getattr(p, "uid", None) for p in again.problems} == problem_uids
