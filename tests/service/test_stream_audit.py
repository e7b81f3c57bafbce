"""Decisions are audited on parallel chains (``portwatch.store.streams``): someone with
write access to the database who edits, deletes, reorders, replays or moves a stream
record, or cuts a stream short, is found by the audit, which names the stream and the
record (``custody audit`` too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, insert, select, update

from portwatch.cli.main import run
from portwatch.custody.service import CustodyService
from portwatch.service import Settings
from portwatch.service.decisions import Arrival, GroupCommit, decide
from portwatch.service.metrics import Metrics
from portwatch.service.state import ServiceState
from portwatch.store import service_store as ss
from portwatch.store.anchor import Anchor
from portwatch.store.database import Database
from portwatch.store.schema import stream_heads, stream_log
from portwatch.targeting.policy import Policy


def _decided(path: Path, n: int = 12, anchored: bool = True) -> Database:
    """A database (anchored by default) with ``n`` decisions on two streams."""
    db = Database(path, Anchor.beside(path) if anchored else None)
    state = ServiceState(Settings(database_url=str(path), environment="development", seed=3),
                         db, CustodyService(db), np.random.default_rng(3), Metrics(),
                         decisions=GroupCommit(streams=2))
    with db.transaction() as conn:
        log_id = ss.audit(conn, "2026-01-01T00:00:00", "admin:a", "policy.create", "1", {})
        ss.add_policy(conn, {"version": 1, "name": "u", "created_at": "-",
                             "document": Policy.uniform(0.3).to_json(), "created_by": "a",
                             "log_id": log_id})
        ss.add_activation(conn, {"version": 1, "action": "activate", "activated_at": "-",
                                 "activated_by": "a", "log_id": log_id})
    for i in range(n):
        decide(state, Arrival("truck", f"P{i}", None, None, "2506"), "officer:b")
    # one group on stream 2, so that both streams hold records
    with db.transaction() as conn:
        ss.stream_audits(conn, 2, "2026-01-01T01:00:00",
                         [("officer:b", "arrival.decide", f"D-s2-{k}", {"k": k})
                          for k in range(3)])
    assert db.check().ok
    return db


def _record(conn: Any, stream: int, seq: int) -> Any:
    return conn.execute(select(stream_log).where(stream_log.c.stream == stream,
                                                 stream_log.c.seq == seq)).one()


def _edit(conn: Any) -> None:
    conn.execute(update(stream_log).where(stream_log.c.stream == 1, stream_log.c.seq == 4)
                 .values(body=_record(conn, 1, 4).body.replace("officer:b", "officer:x")))


def _delete(conn: Any) -> None:
    conn.execute(delete(stream_log).where(stream_log.c.stream == 1, stream_log.c.seq == 4))


def _reorder(conn: Any) -> None:
    for old, new in ((3, -1), (4, 3), (-1, 4)):  # records 3 and 4 swap places
        conn.execute(update(stream_log).where(stream_log.c.stream == 1,
                                              stream_log.c.seq == old).values(seq=new))


def _replay(conn: Any) -> None:
    """The record of an earlier decision appended again as the stream's newest."""
    old = _record(conn, 1, 2)._asdict()
    last, last_hash = conn.execute(select(stream_heads.c.last_seq, stream_heads.c.last_hash)
                                   .where(stream_heads.c.stream == 1)).one()
    conn.execute(insert(stream_log).values({**old, "seq": last + 1, "prev_hash": last_hash}))
    conn.execute(update(stream_heads).where(stream_heads.c.stream == 1)
                 .values(last_seq=last + 1, last_hash=old["hash"]))


def _move(conn: Any) -> None:
    """Stream 2's newest record moved, hash and all, to the end of stream 1."""
    rec = _record(conn, 2, 3)._asdict()
    last, last_hash = conn.execute(select(stream_heads.c.last_seq, stream_heads.c.last_hash)
                                   .where(stream_heads.c.stream == 1)).one()
    conn.execute(delete(stream_log).where(stream_log.c.stream == 2, stream_log.c.seq == 3))
    conn.execute(insert(stream_log).values({**rec, "stream": 1, "seq": last + 1,
                                            "prev_hash": last_hash}))
    conn.execute(update(stream_heads).where(stream_heads.c.stream == 1)
                 .values(last_seq=last + 1, last_hash=rec["hash"]))


def _truncate(conn: Any) -> None:
    """The newest two records of stream 1 deleted and its head set back to match."""
    last = conn.execute(select(stream_heads.c.last_seq)
                        .where(stream_heads.c.stream == 1)).scalar_one()
    keep = _record(conn, 1, last - 2)
    conn.execute(delete(stream_log).where(stream_log.c.stream == 1,
                                          stream_log.c.seq > keep.seq))
    conn.execute(update(stream_heads).where(stream_heads.c.stream == 1)
                 .values(last_seq=keep.seq, last_hash=keep.hash))


CASES = {
    "edit": (_edit, "stream 1: record 4"),
    "delete": (_delete, "stream 1: record 4 is missing"),
    "reorder": (_reorder, "stream 1: record 3"),
    "replay": (_replay, "stream 1: record"),
    "move": (_move, "stream 1: record"),
    "truncate": (_truncate, "stream 1 truncated or rolled back"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_tampered_stream_is_found_and_named(tmp_path: Path, case: str) -> None:
    path = tmp_path / "pw.db"
    db = _decided(path)
    tamper, named = CASES[case]
    with db.engine.begin() as conn:
        tamper(conn)
    problems = Database(path, Anchor.beside(path)).check().problems
    assert any(named in p for p in problems), problems


def test_without_the_anchor_only_a_cut_tail_goes_unseen(tmp_path: Path) -> None:
    """The limit the anchor exists for, as for the event log: the tail of a chain cut
    and its head set back is consistent, unless a checkpoint outside remembers it."""
    cut = {}
    for anchored in (False, True):
        path = tmp_path / f"pw-{anchored}.db"
        db = _decided(path, anchored=anchored)
        with db.engine.begin() as conn:
            _truncate(conn)
        cut[anchored] = Database(path, Anchor.beside(path) if anchored else None).check().ok
    assert cut == {False: True, True: False}


def test_stream_checkpoints_do_not_pass_for_each_other(tmp_path: Path) -> None:
    """A checkpoint line of stream 1 relabelled as stream 2's (or the event log's)
    fails its MAC."""
    path = tmp_path / "pw.db"
    _decided(path)
    anchor = Anchor.beside(path)
    lines = anchor.checkpoint_path.read_text().splitlines()
    one = next(json.loads(x) for x in lines if json.loads(x).get("stream") == 1)
    forged = [json.dumps({**one, "stream": 2}), json.dumps({k: v for k, v in one.items()
                                                            if k != "stream"})]
    anchor.checkpoint_path.write_text("\n".join([*lines, *forged]) + "\n")
    problems = Database(path, Anchor.beside(path)).check().problems
    assert sum("not authentic" in p for p in problems) == 2


def test_cli_audit_names_a_tampered_decision_record(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "pw.db"
    db = _decided(path)
    assert run(["custody", "audit", "--db", str(path)]) == 0
    capsys.readouterr()
    with db.engine.begin() as conn:
        _edit(conn)
    assert run(["custody", "audit", "--db", str(path), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert any("stream 1: record 4 (service.arrival.decide" in p for p in doc["problems"])
