"""Random sequences of writes against a plain dict: the file must always agree."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storage.ics import calendar, item, summaries, vevent
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
