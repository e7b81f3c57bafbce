"""``portwatch serve --replay``: the twin's day and the sealed trucks drive the
service; stepped here on a simulated clock, no wall time involved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from portwatch.custody.tripgen import DEFAULT_START
from portwatch.service import Settings
from portwatch.service.replay import Replay
from portwatch.service.state import ServiceState
from portwatch.store import service_store as ss


def test_replay_feeds_telemetry_arrivals_and_inspections(tmp_path: Path) -> None:
    now = [DEFAULT_START]
    state = ServiceState.open(Settings(database_url=str(tmp_path / "replay.db"),
                                       environment="development", seed=5),
                              clock=lambda: now[0])
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "test-port.toml"
    feed = Replay(state, str(scenario), seed=1)
    feed.setup()
    for _ in range(24):  # six simulated hours in 15-minute ticks
        now[0] += timedelta(minutes=15)
        feed.step(now[0])
    assert feed.decisions > 100  # the twin's arrivals of the afternoon
    with state.db.reading() as conn:
        rows = ss.decision_rows(conn, DEFAULT_START.isoformat())
        inspected = ss.inspection_rows(conn, limit=1000)
        kinds = {r.kind for r in ss.alert_rows(conn, limit=10_000)}
    sealed = [r for r in rows if r.shipment_id]
    assert sealed, "sealed trucks reached the border and were decided with their custody"
    assert {r.custody for r in sealed} >= {"broken"}
    assert {"clean"} & {r.custody for r in sealed}
    assert inspected and all(r.decision_id for r in inspected)
    assert "bad_signature" in kinds and len(kinds) >= 3  # attacks caught live
    assert state.db.audit().records > 0
    state.close()


def test_replay_clock_is_where_the_feed_got_to() -> None:
    from portwatch.service.replay import ReplayClock

    clock = ReplayClock(speed=3600, wall0=0.0)
    assert clock() == DEFAULT_START  # nothing fed yet, however much wall time passed
    assert clock.target() > DEFAULT_START
    clock.now = DEFAULT_START + timedelta(hours=1)
    assert clock() == DEFAULT_START + timedelta(hours=1)


def test_serve_replay_drives_the_running_service(tmp_path: Path) -> None:
    import time

    import httpx
    from tests.service.serverproc import free_port, start

    from portwatch.service.auth import create_token
    from portwatch.store.database import Database

    db = str(tmp_path / "live.db")
    d = Database(db)
    token = create_token(d, "analyst", "watch").token
    d.close()
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "test-port.toml"
    port = free_port()
    proc = start(db, port, tmp_path / "serve.log", "--replay", str(scenario), "--speed", "600")
    try:
        seen = 0
        for _ in range(600):  # until the feed has decided something, at most ~60 s
            r = httpx.get(f"http://127.0.0.1:{port}/v1/stats",
                          headers={"Authorization": f"Bearer {token}"})
            seen = r.json()["decisions"]
            if seen:
                break
            time.sleep(0.1)
        assert seen > 0
        alerts = httpx.get(f"http://127.0.0.1:{port}/v1/alerts",
                           headers={"Authorization": f"Bearer {token}"})
        assert alerts.status_code == 200 and isinstance(alerts.json(), list)
    finally:
        proc.kill()
        proc.wait()


def test_replay_scores_each_arrival_with_the_ports_learned_model(tmp_path: Path) -> None:
    """The twin's traffic carries no risk of its own: the replay scores it with the
    port's model, and the risk policy it activates refers on that score."""
    import numpy as np

    from portwatch.service.decisions import Arrival
    from portwatch.twin import draw_legit, load_scenario
    from portwatch.twin.study.riskmodel import port_risk_lookup

    now = [DEFAULT_START]
    state = ServiceState.open(Settings(database_url=str(tmp_path / "risk.db"),
                                       environment="development", seed=5),
                              clock=lambda: now[0])
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "test-port.toml"
    feed = Replay(state, str(scenario), seed=1)
    arrivals = [e.payload for e in feed.events if isinstance(e.payload, Arrival)]
    # the same day drawn again, scored through the lookup's own ``score`` (not the
    # replay's path): the replayed arrivals are its conveyances from 14:00 on
    sc = load_scenario(str(scenario))
    day = draw_legit(sc, 0, np.random.default_rng(1))
    expected = port_risk_lookup(sc).score(day.advance_info(sc))
    start_s = DEFAULT_START.hour * 3600 + DEFAULT_START.minute * 60
    expected = expected[day.arrive_at_s >= start_s]
    assert len(arrivals) == expected.size > 100
    got = np.array([a.risk for a in arrivals])
    np.testing.assert_allclose(got, expected)
    assert (got > 0).mean() > 0.5 and got.max() >= feed.risk_threshold
    risk_of = {a.plate: a.risk for a in arrivals}
    feed.setup()
    for _ in range(24):  # six simulated hours
        now[0] += timedelta(minutes=15)
        feed.step(now[0])
    with state.db.reading() as conn:
        rows = [r for r in ss.decision_rows(conn, DEFAULT_START.isoformat())
                if r.plate in risk_of]
    by_risk = [r for r in rows if r.reason == "risk at or above threshold"]
    assert by_risk, "the replay's risk policy referred on the learned score"
    assert all(risk_of[r.plate] >= feed.risk_threshold for r in by_risk)
    assert all(r.referral for r in by_risk)
    state.close()
