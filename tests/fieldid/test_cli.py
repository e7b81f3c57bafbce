"""End to end: the commands an inspector or analyst types."""

from __future__ import annotations

import json
import subprocess
import sys

from portwatch.cli.main import run
from portwatch.fieldid.identify import load_thresholds
from portwatch.fieldid.readers import write_columns

from .fieldid_helpers import DATA, simulate


def _write(tmp_path, table, name, contents, **kw):
    path = tmp_path / name
    write_columns(simulate(table, contents, **kw), path)
    return path


def test_identify_batch_json_keeps_going_past_a_bad_file(tmp_path, table, capsys):
    drug = _write(tmp_path, table, "bag1.csv", [("fentanyl", 1.0)], bag="polyethylene", share=0.4)
    sugar = _write(tmp_path, table, "bag2.csv", [("lactose", 1.0)])
    broken = tmp_path / "bag3.csv"
    broken.write_text("shift,intensity\n100,1\n200,oops\n")
    code = run(["identify", str(drug), str(broken), str(sugar), "--json", "--laser", "1064"])
    assert code == 2
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["file"] for d in lines] == [str(drug), str(broken), str(sugar)]
    assert lines[0]["verdict"] == "controlled" and lines[0]["action"] == "seize-and-secure"
    assert lines[0]["components"][0]["name"] == "fentanyl"
    assert {"name", "class", "fraction", "confidence"} <= set(lines[0]["components"][0])
    assert "bag3.csv" in lines[1]["error"] and "line 3" in lines[1]["error"]
    assert lines[2]["verdict"] == "benign" and lines[2]["action"] == "release"


def test_identify_human_output_and_exit_zero(tmp_path, table, capsys):
    path = _write(tmp_path, table, "x.csv", [("cocaine_hcl", 1.0)], laser=785, fl=3.0)
    assert run(["identify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "CONTROLLED -> seize-and-secure" in out and "Cocaine HCl" in out


def test_identify_rejects_other_lasers(tmp_path, table, capsys):
    path = _write(tmp_path, table, "x.csv", [("lactose", 1.0)])
    assert run(["identify", str(path), "--laser", "532"]) == 2
    assert "785 or 1064" in capsys.readouterr().err


def test_library_build_add_list(tmp_path, table, capsys):
    lib = tmp_path / "lib.json"
    assert run(["fieldid", "library", "build", "--out", str(lib)]) == 0
    ref = _write(tmp_path, table, "lactose_measured.csv", [("lactose", 1.0)], snr=300)
    code = run(
        [
            "fieldid",
            "library",
            "add",
            "lactose",
            str(ref),
            "--class",
            "cutting_agent",
            "--library",
            str(lib),
            "--source",
            "lab bench, 1064 nm",
        ]
    )
    assert code == 0
    assert "revision 2" in capsys.readouterr().out
    assert run(["fieldid", "library", "list", "--library", str(lib), "--laser", "1064"]) == 0
    out = capsys.readouterr().out
    assert "lactose\tcutting_agent\t1064 nm\tmeasured\tlab bench, 1064 nm" in out
    sugar = _write(tmp_path, table, "sugar.csv", [("lactose", 1.0)], seed=9)
    assert run(["identify", str(sugar), "--library", str(lib), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # the added reference is the best hit; a release further needs the fit to exclude
    # every drug above the release bound, which this draw does not (urea nitrate up to
    # 8%): the lab, never a drug named
    assert doc["top_hits"][0]["name"] == "lactose"
    assert doc["verdict"] == "benign" or doc["reason_code"] == "cannot_exclude", doc["reason"]


def test_library_add_conflict_is_one_line_error(tmp_path, table, capsys):
    lib = tmp_path / "lib.json"
    ref = _write(tmp_path, table, "r.csv", [("lactose", 1.0)])
    args = ["fieldid", "library", "add", "lactose", str(ref), "--library", str(lib)]
    assert run([*args, "--class", "controlled"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: lactose: already in the library") and "\n" not in err
    assert not lib.exists()


def test_evaluate_small_run_writes_outputs(tmp_path, capsys, real_data_dir):
    out = tmp_path / "eval"
    code = run(
        [
            "fieldid",
            "evaluate",
            "--seed",
            "5",
            "--repeats",
            "1",
            "--calibration-repeats",
            "1",
            "--out",
            str(out),
            "--laser",
            "1064",
            "--thresholds-out",
            str(tmp_path / "thresholds.json"),
            "--data-dir",
            str(real_data_dir),
        ]
    )
    assert code == 0
    assert set(load_thresholds(tmp_path / "thresholds.json")) == {1064}
    assert "Confusion matrix" in capsys.readouterr().out
    report = json.loads((out / "evaluation.json").read_text())
    assert (out / "sensitivity_vs_fraction.png").stat().st_size > 10_000
    assert set(report["samples"]) == {"1064"} and report["samples"]["1064"] > 300
    # no benign sample seized; pure drugs mostly named (the 95% target is reported, not met)
    assert report["pure"]["1064"]["all"] >= 0.7
    # the target is per laser for pure drugs; explosives are reported beside them
    assert report["pure"]["1064"]["drugs"] >= 0.7 and report["pure"]["1064"]["explosives"] >= 0
    assert report["false_alarms"]["1064"]["controlled_verdicts"] == 0
    real = json.loads((out / "real.json").read_text())
    assert real["samples"] == {"1064": 30} and real["alarms"] == {"1064": 0}


def test_real_subprocess_on_measured_file():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "portwatch",
            "identify",
            "--json",
            "--laser",
            "785",
            str(DATA / "PST02_iRPlus785_Z050_100_3200ms.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["verdict"] == "benign"
    assert doc["components"][0]["name"] == "polystyrene"
