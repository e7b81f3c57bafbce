"""Keys and seals: one live binding per seal, closed shipments accept nothing, revoked
keys, and a fresh position near the crossing before express."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portwatch.cli.main import run
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import AlertKind, Verdict
from portwatch.store.anchor import Anchor
from portwatch.store.database import Database

from .conftest import NOW, T0_MS, north, registered, shipment_doc, straight_trip

T0 = datetime.fromtimestamp(T0_MS / 1000, UTC)


def test_a_second_live_binding_of_a_seal_is_a_clone_on_both(service, key, make_line):
    registered(service, shipment_doc(key, "SHP-A"))
    service.ingest([make_line(1, 0, "armed", 32.50, shipment_id="SHP-A")])
    registered(service, shipment_doc(key, "SHP-B"))
    for sid in ("SHP-A", "SHP-B"):
        v = service.verdict(sid, T0 + timedelta(seconds=30))
        assert AlertKind.CLONE in {a.kind for a in v.alerts}, sid
        assert v.verdict is Verdict.BROKEN


def test_a_seal_reused_after_delivery_is_not_a_clone(service, key, make_line):
    registered(service, shipment_doc(key, "SHP-A"))
    svc = service
    lines_a = [make_line(i + 1, 60.0 * i, k, lat, shipment_id="SHP-A")
               for i, (k, lat) in enumerate(_trip_points())]
    svc.ingest(lines_a)
    assert svc.verdict("SHP-A").verdict is Verdict.CLEAN
    registered(svc, shipment_doc(key, "SHP-B"))
    assert not [a for a in svc.verdict("SHP-A").alerts if a.kind is AlertKind.CLONE]


def _trip_points() -> list[tuple[str, float]]:
    n = 20
    pts = [("armed", 32.50)]
    pts += [("position", north(32.50, min(600 * i, 11_088))) for i in range(1, n)]
    pts.append(("disarmed", 32.60))
    return pts


def _delivered_then_rebound(service, key, make_line) -> int:
    lines_a = [make_line(i + 1, 60.0 * i, k, lat, shipment_id="SHP-A")
               for i, (k, lat) in enumerate(_trip_points())]
    registered(service, shipment_doc(key, "SHP-A"))
    service.ingest(lines_a)
    registered(service, shipment_doc(key, "SHP-B"))
    seq_b = len(lines_a) + 1
    service.ingest([make_line(seq_b, 86_400, "armed", 32.50, shipment_id="SHP-B")])
    return seq_b


def test_a_leaked_key_cannot_sign_for_an_older_delivered_shipment(service, key, make_line):
    seq_b = _delivered_then_rebound(service, key, make_line)
    before = service.verdict("SHP-A").verdict
    forged = make_line(seq_b + 50, 86_500, "position", 32.55, shipment_id="SHP-A")
    report = service.ingest([forged])
    assert report.accepted == 0 and report.rejected
    assert before is Verdict.CLEAN
    assert service.status("SHP-A").messages == len(_trip_points())
    kinds_b = {a.kind for a in service.verdict("SHP-B", T0 + timedelta(seconds=86_430)).alerts}
    assert kinds_b & {AlertKind.CLONE, AlertKind.REPLAY}


def test_a_closed_shipment_accepts_nothing_new(service, key, make_line):
    registered(service, shipment_doc(key, "SHP-A"))
    pts = _trip_points()
    service.ingest([make_line(i + 1, 60.0 * i, k, lat, shipment_id="SHP-A")
                    for i, (k, lat) in enumerate(pts)])
    late = make_line(len(pts) + 5, 60.0 * len(pts) + 7200, "position", 32.55,
                     shipment_id="SHP-A")
    report = service.ingest([late])
    assert report.accepted == 0
    assert report.rejected and "closed" in report.rejected[0].detail


def test_revoked_key_messages_signed_after_revocation_are_rejected(tmp_path, key, make_line,
                                                                    capsys):
    db = str(tmp_path / "pw.db")
    # every writer shares the database's anchor (the CLI's default: beside the file)
    svc = CustodyService(Database(db, Anchor.beside(tmp_path / "pw.db")), Thresholds(),
                         clock=lambda: NOW)
    registered(svc, shipment_doc(key))
    lines = straight_trip(make_line)
    svc.ingest(lines[:5])
    revoke_at = (T0 + timedelta(seconds=250)).isoformat().replace("+00:00", "Z")
    assert run(["seal", "revoke", "SEAL-T1", "--at", revoke_at, "--db", db]) == 0
    assert "SEAL-T1" in capsys.readouterr().out
    svc2 = CustodyService(Database(db, Anchor.beside(tmp_path / "pw.db")), Thresholds(),
                          clock=lambda: NOW)
    report = svc2.ingest(lines[5:])
    assert report.accepted == 0
    assert {r.kind for r in report.rejected} == {AlertKind.REVOKED_KEY}
    v = svc2.verdict("SHP-T1", T0 + timedelta(seconds=260))
    assert v.verdict is not Verdict.CLEAN
    assert any("revoked" in r for r in v.reasons)
    assert run(["seal", "revoke", "SEAL-NOPE", "--db", db]) == 2


def test_express_needs_a_fresh_position_near_the_crossing(service, key, make_line):
    registered(service, shipment_doc(key))
    # armed at the factory and never moved: the seal sits there, the truck is elsewhere
    lines = [make_line(1 + i, 60.0 * i, "armed" if i == 0 else "position", 32.50)
             for i in range(120)]
    service.ingest(lines)
    at_border = T0 + timedelta(seconds=60 * 119 + 30)
    v = service.verdict("SHP-T1", at_border)
    assert v.verdict is Verdict.REVIEW
    assert any("near" in r and "crossing" in r for r in v.reasons)


def test_a_fresh_fix_in_the_crossing_zone_allows_express(service, key, make_line):
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)[:10]  # up to 540 s: inside the crossing zone
    service.ingest(lines)
    assert service.verdict("SHP-T1", T0 + timedelta(seconds=560)).verdict is Verdict.CLEAN
    stale = CustodyService(Database(":memory:"),
                           Thresholds(border_fix_max_age_s=10.0), clock=lambda: NOW)
    registered(stale, shipment_doc(key))
    stale.ingest(lines)
    assert stale.verdict("SHP-T1", T0 + timedelta(seconds=560)).verdict is Verdict.REVIEW


def test_seal_ids_that_name_files_cannot_escape_the_folder(tmp_path, capsys):
    for bad in ("../escape", "a/b", "", "..", "x" * 65):
        assert run(["seal", "keygen", "--seal-id", bad, "--out", str(tmp_path)]) == 2
        assert "--seal-id" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path.parent / "escape.key").exists()
