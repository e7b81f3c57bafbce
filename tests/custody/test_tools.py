"""Tools for testers: the seal's key from simulate-trip, a key's public half, verdicts
of several shipments at once, and a CLI module that loads nothing heavy up front."""

from __future__ import annotations

import json
import subprocess
import sys

from portwatch.cli.custody import ATTACKS
from portwatch.cli.main import run
from portwatch.custody.tripgen import Attack


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_write_key_and_pubkey_let_a_tester_resign_an_altered_trip(tmp_path, capsys):
    out = tmp_path / "trip"
    assert run(["custody", "simulate-trip", "--out", str(out), "--seed", "5",
                "--write-key"]) == 0
    sid = capsys.readouterr().out.strip()
    doc = json.loads((out / "shipment.json").read_text())
    key_file = out / f"{doc['seal']['seal_id']}.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    assert run(["seal", "pubkey", str(key_file)]) == 0
    assert capsys.readouterr().out.strip() == doc["seal"]["public_key"]
    # alter the trip (the door opens on the way) and re-sign it with the written key
    lines = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]
    msgs = sorted({m["seq"]: m for m in lines}.values(), key=lambda m: m["seq"])
    target = msgs[len(msgs) // 3]
    unsigned = {"seal_id": target["seal_id"], "shipment_id": sid, "seq": target["seq"],
                "at": target["at"], "kind": "opened", "lat": (target["lat_e7"] or 0) / 1e7,
                "lon": (target["lon_e7"] or 0) / 1e7, "accuracy_m": 8}
    (tmp_path / "u.jsonl").write_text(json.dumps(unsigned) + "\n")
    assert run(["seal", "sign", "--key", str(key_file), str(tmp_path / "u.jsonl"),
                "--out", str(tmp_path / "s.jsonl")]) == 0
    altered = [x for x in (out / "events.jsonl").read_text().splitlines()
               if json.loads(x)["seq"] != target["seq"]]
    altered.append((tmp_path / "s.jsonl").read_text().strip())
    (tmp_path / "altered.jsonl").write_text("\n".join(altered) + "\n")
    db = str(tmp_path / "pw.db")
    assert run(["custody", "register", str(out / "shipment.json"), "--db", db]) == 0
    assert run(["custody", "ingest", str(tmp_path / "altered.jsonl"), "--db", db]) == 0
    capsys.readouterr()
    assert run(["custody", "verdict", sid, "--db", db, "--json"]) == 0
    v = _json(capsys)
    assert v["verdict"] == "broken" and "seal_opened" in {a["kind"] for a in v["alerts"]}


def test_verdict_of_several_shipments_and_all(tmp_path, capsys):
    db = str(tmp_path / "pw.db")
    ids = []
    for seed, attack in ((1, "none"), (2, "long-stop")):
        out = tmp_path / f"t{seed}"
        run(["custody", "simulate-trip", "--out", str(out), "--seed", str(seed),
             "--attack", attack])
        ids.append(capsys.readouterr().out.strip())
        run(["custody", "register", str(out / "shipment.json"), "--db", db])
        run(["custody", "ingest", str(out / "events.jsonl"), "--db", db])
        capsys.readouterr()
    capsys.readouterr()
    assert run(["custody", "verdict", *ids, "--db", db, "--json"]) == 0
    assert [v["verdict"] for v in _json(capsys)] == ["clean", "broken"]
    assert run(["custody", "verdict", "--all", "--db", db, "--json"]) == 0
    assert sorted(v["shipment_id"] for v in _json(capsys)) == sorted(ids)
    assert run(["custody", "verdict", *ids, "--db", db]) == 0
    text = capsys.readouterr().out
    assert f"{ids[0]}: clean" in text and f"{ids[1]}: broken" in text
    assert run(["custody", "verdict", "--db", db]) == 2
    assert run(["custody", "verdict", ids[0], "NOPE", "--db", db]) == 2


def test_the_cli_knows_every_attack():
    assert list(ATTACKS) == [a.value for a in Attack]


def test_the_custody_cli_module_loads_nothing_heavy():
    code = ("import sys, portwatch.cli.custody; "
            "print(sorted(m for m in ('numpy', 'sqlalchemy', 'scipy', 'pyproj', 'numba') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
