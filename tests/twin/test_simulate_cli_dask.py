"""``portwatch simulate --scheduler ADDRESS`` on a local in-process Dask cluster."""

from __future__ import annotations

import json

import pytest

from portwatch.cli.main import run

distributed = pytest.importorskip("dask.distributed")


def test_replications_run_on_a_dask_cluster_and_match_a_local_run(capsys):
    args = ["simulate", "test-port", "--days", "1", "--replications", "2", "--seed", "5",
            "-a", "naive", "--json"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        code = run([*args, "--scheduler", cluster.scheduler_address])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    on_dask = json.loads(captured.out)
    assert run([*args, "--workers", "1"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert on_dask["policies"] == local["policies"]


def test_unreachable_scheduler_is_one_line(capsys):
    code = run(["simulate", "test-port", "--days", "1", "--replications", "1",
                "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: --scheduler tcp://127.0.0.1:1")
