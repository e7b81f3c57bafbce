"""``portwatch simulate southern-border --per-port``: every port on its own, added up."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.cli.main import run
from portwatch.twin.process.metrics import summarise
from portwatch.twin.scenario.build import port_scenario
from portwatch.twin.scenario.schema import parse_scenario
from portwatch.twin.study import border
from portwatch.twin.study.replications import ReplicationTask, run_replication
from portwatch.twin.study.runner import rules_policy

SMALL_PORTS = ("naco", "columbus")  # two small ports keep the test quick


@pytest.fixture
def two_ports(monkeypatch):
    ports = [parse_scenario(port_scenario(p), p) for p in SMALL_PORTS]
    monkeypatch.setattr(border, "border_ports", lambda year=2018: ports)
    return ports


def test_the_border_is_the_sum_of_its_ports(two_ports):
    policy = rules_policy()
    result = border.run_border_study(policy, "naive", days=2, replications=2, seed=8)
    seqs = np.random.SeedSequence(8).spawn(2)
    for r in range(2):
        alone = [
            summarise(sc, run_replication(ReplicationTask(
                sc, (policy,), "naive", {}, 2, 0, r, seq)).totals["rules"])
            for sc, seq in zip(two_ports, seqs[r].spawn(2), strict=True)
        ]
        pooled = result.per_replication["rules"][r]
        for key in ("crossings", "arrivals", "loads_attempted", "loads_interdicted",
                    "inspected", "delay_cost_usd"):
            assert pooled[key] == pytest.approx(sum(a[key] for a in alone)), key
        truck_waits = [a["wait_s"]["truck"] for a in alone]
        mean = sum(w["mean"] * w["count"] for w in truck_waits) / sum(
            w["count"] for w in truck_waits)
        assert pooled["wait_s"]["truck"]["mean"] == pytest.approx(mean)
        assert pooled["wait_s"]["truck"]["max"] == max(w["max"] for w in truck_waits)
    cons = result.conservation["rules"]
    assert cons["arrived"] == cons["left"] + cons["in_port"]


def test_per_port_from_the_command_line(two_ports, capsys):
    code = run(["simulate", "southern-border", "--per-port", "--days", "1", "-r", "1",
                "--workers", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["scenario"] == "southern-border (per port)"
    assert data["crossings"] > 0 and "truck" in data["wait_s"]


def test_per_port_needs_the_southern_border(capsys):
    assert run(["simulate", "otay-mesa", "--per-port"]) == 2
    assert "--per-port" in capsys.readouterr().err


def test_southern_border_runs_per_port_unless_pooled(two_ports, capsys):
    code = run(["simulate", "southern-border", "--days", "1", "-r", "1", "--workers", "1",
                "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["scenario"] == "southern-border (per port)"
    code = run(["simulate", "southern-border", "--pooled", "--days", "1", "-r", "1",
                "--workers", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["scenario"] == "southern-border"
