"""A table of bad inputs for every subcommand: each must end in exactly one line on
stderr (``error: ...`` naming the option, field or file and the problem), no traceback,
and a non-zero exit.

Rows marked ``xfail(strict=True, reason="owned by <branch>")`` are failures whose fix
belongs inside a package another branch owns; strict, so the row turns red (XPASS) the
day the fix lands and its mark must then be removed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from portwatch.cli.main import run

SCENARIOS = (Path(__file__).resolve().parents[2] / "src" / "portwatch" / "twin" / "scenario"
             / "shipped")
SPECTRUM = (Path(__file__).resolve().parents[1] / "fieldid" / "data"
            / "PST02_iRPlus785_Z050_100_3200ms.txt")

# Keep any row that could be accepted small: if a check is missing, it runs, it must
# not run for long.
ONE = ["--days", "1", "-r", "1", "--workers", "1"]


def _policy_file(folder: Path, file_name: str, **changes: object) -> None:
    from portwatch.targeting.policy import Policy

    doc = Policy.uniform(0.05).to_dict()
    doc.update(changes)
    (folder / file_name).write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a simulated trip registered in ``c.db``, a seal key, spectra,
    scenario, policy and thresholds files (good and bad), a file and a folder."""
    d = tmp_path_factory.mktemp("bad-inputs")
    assert run(["custody", "simulate-trip", "--out", str(d / "trip")]) == 0
    assert run(["custody", "register", str(d / "trip" / "shipment.json"),
                "--db", str(d / "c.db")]) == 0
    (d / "keys").mkdir()
    assert run(["seal", "keygen", "--seal-id", "S1", "--out", str(d / "keys")]) == 0
    (d / "afile").write_text("x\n")
    (d / "adir").mkdir()
    shutil.copy(SPECTRUM, d / "spec.txt")
    port = (SCENARIOS / "test-port.toml").read_text()
    (d / "inf-volume.toml").write_text(port.replace("daily_volume = 600", "daily_volume = inf"))
    (d / "id-high.toml").write_text(port.replace("marijuana = 0.9,", "marijuana = 1.9,"))
    (d / "id-negative.toml").write_text(port.replace("marijuana = 0.9,", "marijuana = -5,"))
    (d / "bad.toml").write_text("name = = 1\n")
    (d / "gap-inf.toml").write_text("gap_periods = inf\n")
    (d / "gap-type.toml").write_text("gap_periods = 'two'\n")
    _policy_file(d, "pol-ok.json")
    (d / "crossings.csv").write_text("t,y,x\n1,0,0.5\n2,1,0.7\n3,0,0.2\n4,1,0.9\n")
    _policy_file(d, "pol-threshold-type.json", risk_threshold="high")
    _policy_file(d, "pol-referral-type.json", referral_prob="x")
    _policy_file(d, "pol-name-type.json", name=["a"])
    _policy_file(d, "pol-threshold-high.json", risk_threshold=1.9)
    _policy_file(d, "pol-capacity-type.json", capacity_rule=5)
    _policy_file(d, "pol-triage-type.json", triage="yes")
    (d / "pol-list.json").write_text("[1, 2]")
    msg = {"seal_id": "S1", "shipment_id": "X", "seq": 1, "at": "2026-01-01T00:00:00Z",
           "kind": "position", "lat": 32.5, "lon": -116.9}
    (d / "msg-ok.jsonl").write_text(json.dumps(msg) + "\n")
    (d / "msg-inf.jsonl").write_text(json.dumps(msg).replace("32.5", "1e999") + "\n")
    (d / "msg-seq.jsonl").write_text(json.dumps({**msg, "seq": "one"}) + "\n")
    return d


def owned(branch: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"owned by {branch}")


def row(argv: str, expected: str, code: int = 2, *, owner: str | None = None):  # noqa: ANN201
    """One row: ``argv`` split on spaces (``''`` is the empty string); ``expected`` is a
    substring of the error line, or several alternatives separated by ``|``."""
    args = ["" if a == "''" else a for a in argv.split()]
    marks = [owned(owner)] if owner else []
    return pytest.param(args, code, expected, marks=marks, id=argv)


ROWS = [
    # ---- portwatch simulate / scenarios
    row("simulate test-port --days 1000000000", "--days: must be <= 3660"),
    row("simulate test-port --days 0", "days: must be >= 1"),
    row("simulate test-port --replications 0", "replications: must be >= 1"),
    row("simulate test-port --replications 100000", "--replications: must be <= 10000"),
    row("simulate test-port --seed -1", "--seed: must be >= 0, got -1"),
    row("simulate test-port --warmup-days -1", "warmup_days: must be >= 0"),
    row("simulate test-port --warmup-days 100000", "--warmup-days: must be <= 3660"),
    row("simulate test-port --workers -1", "--workers"),
    row("simulate test-port --policy uniform:1.9", "rate: must be in [0, 1], got 1.9"),
    row("simulate test-port --policy uniform:nan", "rate: must be in [0, 1], got nan"),
    row("simulate test-port --policy uniform:inf", "rate: must be in [0, 1], got inf"),
    row("simulate test-port --policy risk:-5 " + " ".join(ONE), "risk_threshold"),
    row("simulate test-port --policy risk:1.9 " + " ".join(ONE), "risk_threshold"),
    row("simulate test-port --policy risk:0.5:1.9", "base_rate: must be in [0, 1], got 1.9"),
    row("simulate test-port --policy nope", "--policy nope: use uniform:RATE"),
    row("simulate test-port --policy missing.json", "missing.json: cannot read policy file"),
    row("simulate test-port --policy adir", "--policy adir"),
    row("simulate test-port --policy pol-list.json", "pol-list.json: must be a JSON object"),
    row("simulate test-port --policy afile", "afile: not JSON"),
    row("simulate test-port --policy pol-capacity-type.json", "capacity_rule: Input should be"),
    row("simulate test-port --policy pol-threshold-type.json", "risk_threshold"),
    row("simulate test-port --policy pol-referral-type.json", "referral_prob"),
    row("simulate test-port --policy pol-name-type.json " + " ".join(ONE), "name"),
    row("simulate test-port --policy pol-threshold-high.json " + " ".join(ONE),
        "risk_threshold"),
    row("simulate test-port --policy pol-triage-type.json " + " ".join(ONE), "triage"),
    row("simulate test-port --adversary nope", "adversary 'nope': not found"),
    row("simulate test-port --adversary-param nope=1", "nope"),
    row("simulate test-port --adversary-param =1", "--adversary-param =1: use KEY=VALUE"),
    row("simulate test-port --out afile " + " ".join(ONE),
        "--out afile: exists and is not a folder"),
    row("simulate test-port --per-port", "--per-port"),
    row("simulate inf-volume.toml " + " ".join(ONE), "daily_volume"),
    row("simulate id-high.toml " + " ".join(ONE), "identify_prob"),
    row("simulate id-negative.toml " + " ".join(ONE), "identify_prob"),
    row("simulate bad.toml", "bad.toml: not valid TOML"),
    row("simulate missing.toml", "missing.toml: no such scenario file"),
    row("simulate adir", "adir: is a folder|adir: is a directory|adir: Is a directory"),
    row("simulate no-such-port", "scenario 'no-such-port': not found"),
    row("scenarios --bogus", "No such option: --bogus"),
    row("sensitivity test-port --seed -1", "--seed: must be >= 0, got -1"),
    row("sensitivity test-port --days 0", "days: must be >= 1"),
    row("sensitivity no-such-port", "scenario 'no-such-port': not found"),
    row("sensitivity test-port --set canine.teams=-1", "canine.teams: must be >= 0"),
    row("sensitivity test-port --policy risk:-5", "risk_threshold"),
    row("no-such-command", "No such command 'no-such-command'"),
    # ---- portwatch identify / fieldid
    row("identify missing.txt", "missing.txt: no such file"),
    row("identify adir", "adir: is a folder|adir: is a directory|adir: Is a directory"),
    row("identify afile", "afile: no numeric"),
    row("identify spec.txt --laser 532", "--laser: must be 785 or 1064, got 532"),
    row("identify spec.txt --library adir", "--library adir: is a folder, not a file"),
    row("identify spec.txt --library missing.json", "missing.json: no such library file"),
    row("identify spec.txt --library afile", "afile: not JSON"),
    row("fieldid library list --library adir", "--library adir: is a folder, not a file"),
    row("fieldid library list --laser 0", "--laser: must be 785 or 1064, got 0"),
    row("fieldid library add x missing.txt --class controlled --library lib.json",
        "missing.txt"),
    row("fieldid library add x spec.txt --class opioid --library lib.json", "'--class'"),
    row("fieldid library add x spec.txt --class controlled --library adir", "adir"),
    row("fieldid library build --out adir", "--out adir: is a folder, not a file"),
    row("fieldid fetch-data --data-dir afile", "afile"),
    row("fieldid evaluate --seed -1", "--seed: must be >= 0, got -1"),
    row("fieldid evaluate --repeats 0", "--repeats"),
    row("fieldid evaluate --repeats 100000", "--repeats: must be <= 50"),
    row("fieldid evaluate --calibration-repeats 100000",
        "--calibration-repeats: must be <= 50"),
    row("fieldid evaluate --out afile", "--out afile: exists and is not a folder"),
    row("fieldid evaluate --thresholds-out adir", "--thresholds-out adir: is a folder"),
    row("fieldid evaluate --laser 532", "--laser: must be 785 or 1064, got 532"),
    # ---- portwatch seal
    row("seal keygen --seal-id a/b --out keys", "--seal-id: must not contain '/'"),
    row("seal keygen --seal-id ../escape --out keys", "--seal-id: must not contain '/'"),
    row("seal keygen --seal-id '' --out keys", "--seal-id: must not be empty"),
    row("seal keygen --seal-id .. --out keys", "--seal-id: must not contain '..'"),
    row("seal keygen --seal-id S1 --out keys", "already exists; refusing to overwrite"),
    row("seal keygen --seal-id S2 --out afile", "--out afile: not a directory"),
    row("seal keygen --seal-id S2 --out nodir", "--out nodir: not a directory"),
    row("seal sign --key missing.key msg-ok.jsonl", "missing.key: cannot read key file"),
    row("seal pubkey missing.key", "missing.key: cannot read key file"),
    row("seal revoke NOPE --db missing.db", "--db missing.db: no such database file"),
    row("solve missing.json", "missing.json: cannot read"),
    row("solve missing.json --seed -1", "--seed: must be >= 0, got -1"),
    # ---- portwatch plan / compare
    row("plan test-port --out o.json --blocks 5", "--blocks: must divide 24 hours, got 5"),
    row("plan test-port --out o.json --triage dog", "--triage: must be bay, nii_scan"),
    row("plan test-port --out o.json --risk-tiers 1.5",
        "--risk-tiers: the high tier's share must be in (0, 1), got 1.5"),
    row("compare test-port --adversaries pirate", "--adversaries: unknown 'pirate'"),
    row("compare test-port --out afile", "--out afile: not a folder"),
    # ---- portwatch risk / policy
    row("risk evaluate missing.csv --label y --time t", "missing.csv: cannot read"),
    row("risk evaluate afile --label y --time t", "afile: needs a header row"),
    row("risk evaluate crossings.csv --label nope --time t", "--label column 'nope'"),
    row("risk evaluate crossings.csv --label y --time t --holdout 1.9",
        "holdout_share: must be in (0, 1), got 1.9"),
    row("risk evaluate crossings.csv --label y --time t --referral-rate nan",
        "--referral-rate: must be in (0, 1], got nan"),
    row("risk evaluate crossings.csv --label y --time t --seed -1",
        "--seed: must be >= 0, got -1"),
    row("simulate test-port --risk-model missing.json " + " ".join(ONE),
        "missing.json: cannot read"),
    row("simulate test-port --risk-model afile " + " ".join(ONE), "afile: not JSON"),
    row("simulate test-port --risk-model pol-ok.json " + " ".join(ONE),
        "pol-ok.json: not a risk model"),
    row("risk train nosuch-port", "scenario 'nosuch-port': not found"),
    row("risk train test-port --holdout 1.9", "--holdout: must be in (0, 1), got 1.9"),
    row("risk train test-port --referral-rate nan", "--referral-rate: must be in (0, 1]"),
    row("risk train test-port --mimicry-shares 0,2",
        "--mimicry-shares: each share must be in [0, 1], got 2"),
    row("risk train test-port --out adir", "--out adir: is a directory"),
    row("risk train test-port --set advance.mimicry=3", "advance.mimicry: must be <= 1, got 3"),
    row("risk train test-port --days 2", "--days"),
    row("policy show missing.json", "missing.json: cannot read"),
    row("policy show afile", "afile: not JSON"),
    row("policy show pol-threshold-high.json", "risk_threshold"),
    row("policy override pol-ok.json --mode truck --lane general --blocks 0 --prob 1.9 "
        "--reason r --out o.json", "1.9"),
    row("policy override pol-ok.json --mode boat --lane general --blocks 0 --prob 0.5 "
        "--reason r --out o.json", "boat"),
    row("policy override pol-ok.json --mode truck --lane general --blocks 0 --prob 0.5 "
        "--reason r --out adir", "adir"),
    row("solve pol-list.json", "pol-list.json: must be a JSON object"),
    row("policy show pol-triage-type.json", "pol-triage-type.json: triage"),
    row("policy show adir", "adir: cannot read"),
    row("policy override pol-list.json --mode truck --lane general --blocks 0 --prob 0 "
        "--reason x --out o.json", "pol-list.json: must be a JSON object"),
    row("seal sign --key adir msg-ok.jsonl", "adir: cannot read key file"),
    row("seal sign --key afile msg-ok.jsonl", "afile: not a base64 Ed25519 key"),
    row("seal sign --key keys/S1.key msg-inf.jsonl", "msg-inf.jsonl line 1:"),
    row("seal sign --key keys/S1.key msg-seq.jsonl", "msg-seq.jsonl line 1:"),
    row("seal sign --key keys/S1.key afile", "afile line 1:"),
    row("seal sign --key keys/S1.key adir", "adir: cannot read"),
    row("seal sign --key keys/S1.key missing.jsonl", "missing.jsonl: cannot read"),
    row("seal sign --key keys/S1.key msg-ok.jsonl --out adir", "--out adir: is a folder"),
    # ---- portwatch custody
    row("custody register missing.json --db c2.db", "missing.json: cannot read"),
    row("custody register adir --db c2.db", "adir: cannot read"),
    row("custody register afile --db c2.db", "afile: not JSON"),
    row("custody register pol-list.json --db c2.db", "pol-list.json: must hold a JSON object"),
    row("custody register trip/shipment.json --db adir", "adir"),
    row("custody register trip/shipment.json --db mysql://x/y", "mysql://x/y"),
    row("custody ingest missing.jsonl --db c.db", "missing.jsonl: cannot read"),
    row("custody ingest adir --db c.db", "adir: cannot read"),
    row("custody ingest trip/events.jsonl --db c.db --thresholds gap-inf.toml",
        "gap_periods"),
    row("custody ingest trip/events.jsonl --db c.db --thresholds gap-type.toml",
        "gap-type.toml: gap_periods"),
    row("custody ingest trip/events.jsonl --db c.db --thresholds bad.toml",
        "bad.toml: not valid TOML"),
    row("custody ingest trip/events.jsonl --db c.db --thresholds adir", "adir: cannot read"),
    row("custody ingest trip/events.jsonl --db c.db --batch-size 0", "'--batch-size'"),
    row("custody status NOPE --db c.db", "shipment NOPE: not registered"),
    row("custody status NOPE --db missing.db", "--db missing.db: no such database file"),
    row("custody status NOPE --db c.db --as-of garbage", "--as-of 'garbage'"),
    row("custody verdict NOPE --db c.db", "shipment NOPE: not registered"),
    row("custody verdict NOPE --db missing.db", "--db missing.db: no such database file"),
    row("custody alerts --shipment NOPE --db c.db", "NOPE"),
    row("custody alerts --db missing.db", "--db missing.db: no such database file"),
    row("custody audit --db missing.db", "--db missing.db: no such database file"),
    row("custody simulate-trip --out t2 --seed -1", "'--seed': Input should be greater"),
    row("custody simulate-trip --out t2 --attack diversion --size 1e12",
        "--size: must be <= 100000 m"),
    row("custody simulate-trip --out t2 --attack diversion --size inf",
        "--size: must be finite"),
    row("custody simulate-trip --out t2 --attack long-stop --size nan",
        "--size: must be finite"),
    row("custody simulate-trip --out t2 --attack jamming --size -5", "--size: must be > 0"),
    row("custody simulate-trip --out t2 --attack silent --size 1e9",
        "--size: must be <= 86400 s"),
    row("custody simulate-trip --out t2 --attack replay --size 5",
        "--size: the replay attack takes no size"),
    row("custody simulate-trip --out afile", "--out afile: exists and is not a folder"),
    row("custody simulate-trip --out t2 --attack nope", "--attack 'nope': must be one of"),
    row("custody evaluate --clean -1", "'--clean'"),
    row("custody evaluate --clean 1000000000000", "'--clean': Input should be less"),
    row("custody evaluate --attacked 1000000000000", "'--attacked': Input should be less"),
    row("custody evaluate --clean 1 --attacked 1 --seed -1", "'--seed': Input should be greater"),
    row("custody evaluate --clean 1 --attacked 1 --doc adir", "--doc adir: is a directory"),
    row("custody demo --seed -1", "'--seed': Input should be greater"),
    # ---- portwatch serve / service
    row("serve --port 0", "--port: must be in 1..65535"),
    row("serve --replay test-port --speed 0", "--speed: must be in (0, 3600]"),
    row("serve --seed 3 --db c.db", "seed: a fixed seed makes referrals predictable"),
    row("service token create --role boss --name x --db c.db", "--role: must be one of"),
    row("service token create --role officer --name x --db c.db",
        "--port: an officer token needs its port code"),
    row("service token revoke nope --db c.db", "token nope: no such token"),
    row("service token list --db adir/none/t.db", "does not exist"),
    row("service consume --nats http://x --db c.db", "--nats: must be a nats://"),
    row("service publish --nats nats://127.0.0.1:4222 missing.jsonl",
        "missing.jsonl: cannot read"),
    # ---- portwatch demo
    row("demo --workers 0", "'--workers'"),
]


@pytest.mark.parametrize(("argv", "code", "expected"), ROWS)
def test_bad_input_is_one_line(argv, code, expected, workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    got = run(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert any(alt in lines[0] for alt in expected.split("|")), err
    assert got == code, err


def test_every_subcommand_has_a_row():
    import typer

    from portwatch.cli.main import app

    def leaves(command, prefix):  # noqa: ANN001, ANN202 - a click command
        subs = getattr(command, "commands", None)
        if not subs:
            return [" ".join(prefix)]
        return [leaf for name, sub in subs.items() for leaf in leaves(sub, [*prefix, name])]

    commands = leaves(typer.main.get_command(app), [])
    covered = {" ".join(p.values[0]) for p in ROWS}
    missing = [c for c in commands if not any(args.startswith(c + " ") or args == c
                                              for args in covered)]
    assert missing == []


def test_a_read_only_command_creates_no_database(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    for command in (["custody", "status", "X"], ["custody", "verdict", "X"],
                    ["custody", "alerts"], ["custody", "audit"]):
        assert run([*command, "--db", "never.db"]) == 2
        assert not (workdir / "never.db").exists()
    capsys.readouterr()


def test_keygen_writes_nothing_outside_its_folder(workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    before = sorted(p.name for p in workdir.iterdir())
    assert run(["seal", "keygen", "--seal-id", "../escape", "--out", "keys"]) == 2
    assert sorted(p.name for p in workdir.iterdir()) == before
    capsys.readouterr()
