"""The study's files: CSV and JSON agree, the plots exist, the HTML stands alone."""

from __future__ import annotations

import csv
import json

import pytest

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import Policy
from portwatch.twin import load_scenario
from portwatch.twin.study.replications import run_study
from portwatch.twin.study.report import FILES, headline_table, write_report


@pytest.fixture(scope="module")
def study():
    sc = load_scenario("test-port")
    result = run_study(sc, [Policy.uniform(0.05), Policy.uniform(0.2, capacity_rule="hold")],
                       "shotgun", days=1, replications=2, seed=9)
    return sc, result


@pytest.fixture(scope="module")
def folder(study, tmp_path_factory):
    """The report written once into a folder that already held a file of the user's."""
    sc, result = study
    out = tmp_path_factory.mktemp("report")
    (out / "notes.txt").write_text("mine")
    written = write_report(result, sc, out / "out")
    assert [p.name for p in written] == list(FILES)
    return out


def test_every_file_is_written_and_agrees_with_the_json(study, folder):
    sc, result = study
    tmp_path = folder
    data = json.loads((tmp_path / "out" / "study.json").read_text())
    assert data == json.loads(result.to_json())
    with (tmp_path / "out" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    by_key = {(r["policy"], r["metric"]): r for r in rows}
    row = by_key[("uniform-0.05", "loads_interdicted")]
    first = data["policies"]["uniform-0.05"]
    assert float(row["mean"]) == pytest.approx(first["loads_interdicted"])
    low, high = data["policies"]["uniform-0.05"]["ci95"]["loads_interdicted"]
    assert float(row["ci95_low"]) == pytest.approx(low)
    assert float(row["ci95_high"]) == pytest.approx(high)
    with (tmp_path / "out" / "replications.csv").open() as f:
        reps = list(csv.DictReader(f))
    assert len(reps) == 4  # two policies x two replications
    with (tmp_path / "out" / "by_drug.csv").open() as f:
        drugs = {r["drug"] for r in csv.DictReader(f)}
    assert drugs == set(sc.drugs)
    for png in ("queue_by_hour.png", "wait_distribution.png", "interdiction_by_drug.png"):
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_one_self_contained_page(folder):
    page = (folder / "out" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    for name in ("uniform-0.05", "shotgun", "seed 9", "share crossed uninspected",
                 "truck primary wait, p95 (min)", "ATRI"):
        assert name in page, name
    assert 'src="http' not in page  # nothing fetched from elsewhere


def test_other_files_in_the_folder_are_left_alone(folder):
    assert (folder / "notes.txt").read_text() == "mine"
    assert not [p for p in folder.iterdir() if p.name.startswith(".portwatch-report-")]


def test_out_that_is_a_file_is_refused(study, tmp_path):
    sc, result = study
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        write_report(result, sc, target)


def test_terminal_table_has_intervals(study):
    _, result = study
    rows = dict(headline_table(result.to_dict()))
    assert len(rows["loads attempted / day"]) == 2
    assert all(" [" in v for v in rows["conveyances crossed / day"])
    # a share's interval stays in [0, 1]; the paired difference row names its base
    for v in rows["share of loads interdicted"] + rows["share crossed uninspected"]:
        low, high = (float(x) for x in v.split("[")[1].rstrip("]").split(","))
        assert 0.0 <= low <= high <= 1.0
    diffs = [k for k in rows if k.startswith("paired difference vs ")]
    assert diffs and all(rows[k][0] == "(base)" for k in diffs)
    assert rows["replications"] == [str(result.replications)] * 2
