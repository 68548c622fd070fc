"""Two-way sync: listings + status -> plan (pure) -> execute, with a status store beside.

    local.py    the files' side: list, and parse only what changed
    listing.py  WeCom's side: get_by_calendar pages, `get` only for what changed
    prepare.py  settle interrupted writes, pair up first-sync twins, snapshots
    plan.py     the decision table: one pure function, no I/O
    actions.py  the plan as data (Create/Update/Delete by Side, KeepBoth, ...)
    safety      plan.deletion_guard and engine's emptied-side check (--force)
    execute.py  local writes, one flush, then WeCom writes; status as it goes
    remote.py   one event's WeCom calls (series, exclusions, overrides, 90706)
    status.py   the SQLite status database (all of the SQL)
    engine.py   run_pair (one pair, one run) and sync_command (the CLI's)

Public entry points: `wesync.sync.engine.run_pair`, `wesync.sync.engine.sync_command`,
`wesync.sync.report.PairReport`.
"""
