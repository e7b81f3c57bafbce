"""A schedule someone outside the admins has read never becomes live again unnoticed.

An analyst may read a policy version once its shift is over; every such read is
recorded (who, when, which version) in the store, in the transaction that checks the
shift. Activating or rolling back to a version read by a non-admin is refused with 409,
with nothing written, unless an admin forces it with a reason that the activation
history keeps.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import func, select
from tests.service.conftest import Svc, setup_port

from portwatch.store import eventlog
from portwatch.store import service_store as ss
from portwatch.store.database import Database
from portwatch.store.schema import event_log
from portwatch.store.service_tables import policy_reads


def _two_shifts(svc: Svc) -> tuple[int, int]:
    """v1 activated and then replaced by v2: v1's shift is over, v2 is live."""
    return setup_port(svc, 0.1), setup_port(svc, 0.3)


def _stored(svc: Svc) -> tuple[list[Any], int, list[Any]]:
    """The activation history, the number of event-log records, the recorded reads."""
    with svc.state.db.reading() as conn:
        history = [tuple(r) for r in ss.activations(conn)]
        records = conn.execute(select(func.count()).select_from(event_log)).scalar_one()
        reads = [tuple(r) for r in conn.execute(select(policy_reads)
                                                .order_by(policy_reads.c.id))]
    return history, int(records), reads


def _read(svc: Svc, role: str, version: int) -> int:
    return svc.client.get(f"/v1/policies/{version}", headers=svc.h(role)).status_code


def test_a_rollback_to_a_schedule_an_analyst_read_is_refused(svc: Svc) -> None:
    v1, v2 = _two_shifts(svc)
    assert _read(svc, "analyst", v1) == 200
    before = _stored(svc)
    for path in ("/v1/policies/rollback", f"/v1/policies/{v1}/activate"):
        r = svc.client.post(path, headers=svc.h("admin"))
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert "\n" not in detail and detail.startswith(f"policy {v1}: read by analyst at ")
        assert "store a newly planned policy and activate it instead" in detail
        assert _stored(svc) == before  # nothing written: no activation, no audit record
    index = svc.client.get("/v1/policies", headers=svc.h("admin")).json()
    assert index["active_version"] == v2
    arrival = {"mode": "truck", "plate": "P1", "port_code": "2506"}
    d = svc.client.post("/v1/arrivals", json=arrival, headers=svc.h("officer")).json()
    assert d["policy_version"] == v2


def test_the_refusal_names_when_the_schedule_was_read(svc: Svc) -> None:
    v1, _ = _two_shifts(svc)
    assert _read(svc, "analyst", v1) == 200
    assert _read(svc, "analyst", v1) == 200
    _, _, reads = _stored(svc)
    last_at = reads[-1][2]
    detail = svc.client.post("/v1/policies/rollback", headers=svc.h("admin")).json()["detail"]
    assert f"read by analyst at {last_at}" in detail and "2 reads by non-admins" in detail


def test_every_read_by_an_analyst_is_recorded_with_who_when_and_which(svc: Svc) -> None:
    v1, v2 = _two_shifts(svc)
    assert _read(svc, "analyst", v2) == 403  # live: refused, and not a read
    assert _stored(svc)[2] == []
    assert _read(svc, "analyst", v1) == 200
    (row,) = _stored(svc)[2]
    _, version, read_at, read_by, role, log_id = row
    assert (version, role) == (v1, "analyst") and read_by.startswith("analyst:ana#")
    with svc.state.db.reading() as conn:
        rec = conn.execute(select(event_log.c.kind, event_log.c.subject, event_log.c.body,
                                  event_log.c.recorded_at)
                           .where(event_log.c.id == log_id)).one()
    assert (rec.kind, rec.subject, rec.recorded_at) == ("service.policy.read", str(v1),
                                                        read_at)
    assert read_by in rec.body
    assert svc.state.db.audit().problems == ()
    index = svc.client.get("/v1/policies", headers=svc.h("analyst")).json()
    seen = {v["version"]: (v["non_admin_reads"], v["last_read_at"]) for v in index["versions"]}
    assert seen == {v1: (1, read_at), v2: (0, None)}


def test_an_unread_version_rolls_back(svc: Svc) -> None:
    v1, v2 = _two_shifts(svc)
    r = svc.client.post("/v1/policies/rollback", headers=svc.h("admin"))
    assert r.status_code == 200 and r.json()["version"] == v1
    assert r.json()["override_reason"] is None
    # v2's shift is over now, and nobody read it: activating it again is fine too
    assert svc.client.post(f"/v1/policies/{v2}/activate",
                           headers=svc.h("admin")).status_code == 200


def test_an_admins_own_read_does_not_block_and_is_not_a_leak(svc: Svc) -> None:
    v1, v2 = _two_shifts(svc)
    assert _read(svc, "admin", v1) == 200 and _read(svc, "admin", v2) == 200
    assert _stored(svc)[2] == []
    r = svc.client.post("/v1/policies/rollback", headers=svc.h("admin"))
    assert r.status_code == 200 and r.json()["version"] == v1


def test_officers_and_the_others_still_may_not_read_and_leave_nothing(svc: Svc) -> None:
    v1, _ = _two_shifts(svc)
    for role in ("gateway", "carrier", "officer", "other_officer"):
        assert _read(svc, role, v1) == 403
    assert _stored(svc)[2] == []
    assert svc.client.post("/v1/policies/rollback",
                           headers=svc.h("admin")).status_code == 200


def test_an_admin_may_force_with_a_reason_the_history_keeps(svc: Svc) -> None:
    v1, _ = _two_shifts(svc)
    assert _read(svc, "analyst", v1) == 200
    before = _stored(svc)
    for body in ({"force": True}, {"force": True, "reason": ""},
                 {"force": True, "reason": "line one\nline two"},
                 {"force": True, "reason": "x" * 501}, {"force": "yes", "reason": "r"},
                 {"reason": "a reason without force"}, {"force": True, "reason": "r", "x": 1}):
        r = svc.client.post("/v1/policies/rollback", json=body, headers=svc.h("admin"))
        assert r.status_code == 422, (body, r.text)
        assert _stored(svc) == before
    why = "v2 refers too many trucks; the analyst who read v1 is on leave"
    r = svc.client.post("/v1/policies/rollback", json={"force": True, "reason": why},
                        headers=svc.h("admin"))
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["override_reason"]) == (v1, why)
    last = svc.client.get("/v1/policies", headers=svc.h("analyst")).json()["history"][-1]
    assert (last["version"], last["action"], last["override_reason"]) == (v1, "rollback", why)
    with svc.state.db.reading() as conn:
        body = conn.execute(select(event_log.c.body).where(
            event_log.c.kind == "service.policy.rollback")).scalars().all()[-1]
    assert why in body and '"non_admin_reads":1' in body


def test_a_read_schedule_needs_force_every_time_it_comes_back(svc: Svc) -> None:
    """A forced return does not make the schedule secret again: the next return of the
    same version is refused too, unless forced again."""
    v1, v2 = _two_shifts(svc)
    assert _read(svc, "analyst", v1) == 200
    assert svc.client.post(f"/v1/policies/{v1}/activate", json={"force": True, "reason": "r"},
                           headers=svc.h("admin")).status_code == 200
    assert svc.client.post(f"/v1/policies/{v2}/activate",
                           headers=svc.h("admin")).status_code == 200
    assert svc.client.post("/v1/policies/rollback",
                           headers=svc.h("admin")).status_code == 409


def test_a_read_racing_an_activation_elsewhere_waits_and_is_refused(svc: Svc) -> None:
    """Another instance activates v1 again; an analyst's read of v1 that starts before that
    commit waits for it and then finds v1 live (403), instead of reading a schedule that
    goes live a moment later."""
    v1, _ = _two_shifts(svc)
    other = Database(svc.db_url)
    got: dict[str, int] = {}
    reader = threading.Thread(target=lambda: got.setdefault("status", _read(svc, "analyst", v1)))
    try:
        with other.transaction() as conn:
            eventlog.head(conn, lock=True)
            at = "2026-12-04T00:00:00+00:00"
            log_id = ss.audit(conn, at, "admin:elsewhere", "policy.activate", str(v1), {})
            ss.add_activation(conn, {"version": v1, "action": "activate", "activated_at": at,
                                     "activated_by": "admin:elsewhere", "log_id": log_id})
            reader.start()
            _wait_until_writing_or_done(svc, reader)
            assert "status" not in got  # still waiting for this commit
    finally:
        reader.join(30)
        other.close()
    assert got == {"status": 403}
    assert _stored(svc)[2] == []


def _wait_until_writing_or_done(svc: Svc, reader: threading.Thread) -> None:
    """Until the read has answered, or has entered a write transaction of the service
    (holds its lock) and had a moment to reach the database's lock."""
    lock = svc.state.custody_lock  # an RLock: held by another thread, it is not ours
    while reader.is_alive():
        if not lock.acquire(blocking=False):
            time.sleep(0.2)
            return
        lock.release()
        time.sleep(0.01)
