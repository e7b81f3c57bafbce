"""End to end: every command a user types, in process and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from portwatch.cli.main import run
from portwatch.custody.tripgen import EXPECTED_KIND, Attack


def _json(capsys) -> object:
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("attack", list(Attack))
def test_each_trace_through_the_cli_gets_its_verdict(tmp_path, capsys, attack):
    out, db = tmp_path / "trip", str(tmp_path / "pw.db")
    assert run(["custody", "simulate-trip", "--attack", attack.value, "--out", str(out),
                "--seed", "3"]) == 0
    made = capsys.readouterr()
    shipment_id = made.out.strip()
    # a seal that falls silent is judged when its truck reaches the crossing
    as_of = made.err.split("--as-of ")[1].strip() if attack is Attack.SILENT else None
    assert (as_of is None) is (attack is not Attack.SILENT)
    assert run(["custody", "register", str(out / "shipment.json"), "--db", db]) == 0
    assert capsys.readouterr().out.strip() == f"{shipment_id} registered"
    assert run(["custody", "ingest", str(out / "events.jsonl"), "--db", db, "--json"]) == 0
    report = _json(capsys)
    assert report["accepted"] > (10 if attack is Attack.SILENT else 50)
    when = [] if as_of is None else ["--as-of", as_of]
    assert run(["custody", "verdict", shipment_id, "--db", db, "--json", *when]) == 0
    verdict = _json(capsys)
    assert verdict["shipment_id"] == shipment_id
    kinds = {a["kind"] for a in verdict["alerts"]}
    assert all({"kind", "severity", "at"} <= a.keys() for a in verdict["alerts"])
    if attack is Attack.NONE:
        assert verdict["verdict"] == "clean" and verdict["lane"] == "express"
    elif attack is Attack.FORGERY:
        # a forged line is evidence against the channel, not the container
        assert verdict["verdict"] == "review" and verdict["lane"] == "free"
        assert EXPECTED_KIND[attack].value in kinds
    else:
        assert verdict["verdict"] == "broken" and verdict["lane"] == "full_search"
        assert EXPECTED_KIND[attack].value in kinds
    assert run(["custody", "audit", "--db", db, "--json"]) == 0
    assert _json(capsys)["ok"] is True


def test_status_alerts_and_human_output(tmp_path, capsys):
    out, db = tmp_path / "trip", str(tmp_path / "pw.db")
    run(["custody", "simulate-trip", "--attack", "long-stop", "--out", str(out)])
    sid = capsys.readouterr().out.strip()
    run(["custody", "register", str(out / "shipment.json"), "--db", db])
    run(["custody", "ingest", str(out / "events.jsonl"), "--db", db])
    capsys.readouterr()
    assert run(["custody", "status", sid, "--db", db, "--json"]) == 0
    assert _json(capsys)["state"] == "delivered"
    assert run(["custody", "verdict", sid, "--db", db]) == 0
    assert "broken -> full_search" in capsys.readouterr().out
    assert run(["custody", "alerts", "--shipment", sid, "--db", db, "--json"]) == 0
    assert {a["kind"] for a in _json(capsys)} == {"unauthorised_stop"}


def test_seal_keygen_and_sign_produce_accepted_traffic(tmp_path, capsys):
    assert run(["seal", "keygen", "--seal-id", "SEAL-CLI", "--out", str(tmp_path),
                "--json"]) == 0
    pub = _json(capsys)["public_key"]
    unsigned = tmp_path / "unsigned.jsonl"
    unsigned.write_text(json.dumps({
        "seal_id": "SEAL-CLI", "shipment_id": "SHP-CLI", "seq": 1,
        "at": "2025-06-02T14:00:00Z", "kind": "armed", "lat": 32.5302, "lon": -116.9268,
        "accuracy_m": 6, "battery_pct": 95}) + "\n")
    signed = tmp_path / "signed.jsonl"
    assert run(["seal", "sign", "--key", str(tmp_path / "SEAL-CLI.key"), str(unsigned),
                "--out", str(signed)]) == 0
    doc = json.loads((Path(__file__).parents[2] / "examples/otay-mesa/shipment.json")
                     .read_text())
    doc.update(shipment_id="SHP-CLI", seal={"seal_id": "SEAL-CLI", "public_key": pub})
    (tmp_path / "shipment.json").write_text(json.dumps(doc))
    db = str(tmp_path / "pw.db")
    assert run(["custody", "register", str(tmp_path / "shipment.json"), "--db", db]) == 0
    capsys.readouterr()
    assert run(["custody", "ingest", str(signed), "--db", db, "--json"]) == 0
    assert _json(capsys)["accepted"] == 1


def test_user_mistakes_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "shipment.json"
    bad.write_text('{"shipment_id": "S"}')
    assert run(["custody", "register", str(bad), "--db", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: shipment.json: ") and err.count("\n") == 1
    # read-only commands never create a database
    for cmd in (["verdict", "NOPE"], ["status", "NOPE"], ["alerts"], ["audit"]):
        assert run(["custody", *cmd, "--db", str(tmp_path / "x.db")]) == 2
        assert capsys.readouterr().err.endswith("x.db: no such database file\n")
        assert not (tmp_path / "x.db").exists()
    example = Path(__file__).parents[2] / "examples/otay-mesa/shipment.json"
    assert run(["custody", "register", str(example), "--db", str(tmp_path / "x.db")]) == 0
    capsys.readouterr()
    assert run(["custody", "verdict", "NOPE", "--db", str(tmp_path / "x.db")]) == 2
    assert capsys.readouterr().err == "error: shipment NOPE: not registered\n"
    assert run(["custody", "alerts", "--shipment", "NOPE", "--db", str(tmp_path / "x.db")]) == 2
    assert capsys.readouterr().err == "error: shipment NOPE: not registered\n"


def test_custody_demo_as_a_subprocess():
    done = subprocess.run([sys.executable, "-m", "portwatch", "custody", "demo", "--json"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {r["trip"]: r for r in json.loads(done.stdout)}
    assert rows["none"]["verdict"] == "clean"
    assert rows["forgery"]["verdict"] == "review"  # unauthenticated: never broken
    assert all(r["verdict"] == "broken" for t, r in rows.items()
               if t not in ("none", "forgery"))


def test_ingest_keeps_valid_lines_and_exits_2_on_a_malformed_line(tmp_path, capsys):
    out, db = tmp_path / "trip", str(tmp_path / "pw.db")
    assert run(["custody", "simulate-trip", "--out", str(out), "--seed", "4"]) == 0
    shipment_id = capsys.readouterr().out.strip()
    assert run(["custody", "register", str(out / "shipment.json"), "--db", db]) == 0
    lines = (out / "events.jsonl").read_text().splitlines()
    bad = out / "bad.jsonl"
    bad.write_text("\n".join([*lines[:5], "{not json", *lines[5:]]) + "\n")
    capsys.readouterr()
    assert run(["custody", "ingest", str(bad), "--db", db]) == 2
    captured = capsys.readouterr()
    assert "line 6: rejected (malformed)" in captured.err
    assert "1 rejected" in captured.out
    assert run(["custody", "verdict", shipment_id, "--db", db, "--json"]) == 0
    assert _json(capsys)["verdict"] == "clean"
