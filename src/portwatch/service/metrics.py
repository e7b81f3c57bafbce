"""Prometheus metrics of one service process (its own registry, so several apps can
live in one process, as in the tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                     2.5, 5.0)

STAGE_BUCKETS_S = (0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.025,
                   0.05, 0.1, 0.25, 1.0)
DECISION_STAGES = ("wait", "decide", "append", "commit")


class _AlertCollector(Collector):
    """Stored alerts by kind, counted from the database at scrape time."""

    def __init__(self) -> None:
        self.count: Callable[[], dict[str, int]] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("portwatch_alerts", "Stored alerts by kind.",
                                   labels=["kind"])
        if self.count is not None:
            for kind, n in sorted(self.count().items()):
                family.add_metric([kind], n)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("portwatch_http_requests", "HTTP requests.",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("portwatch_http_request_seconds", "HTTP request latency.",
                                 ["route"], buckets=LATENCY_BUCKETS_S, registry=r)
        self.decisions = Counter("portwatch_decisions", "Lane decisions.", ["lane"],
                                 registry=r)
        self.telemetry = Counter("portwatch_telemetry_messages", "Seal messages received.",
                                 ["result", "via"], registry=r)
        self.ingest_lag = Histogram(
            "portwatch_ingest_lag_seconds",
            "From a seal message's device timestamp to its commit.",
            buckets=(1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 86400), registry=r)
        self.decision_groups = Histogram(
            "portwatch_decision_group_size",
            "Arrival decisions committed together in one transaction.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r)
        self.decision_stage = Histogram(
            "portwatch_decision_stage_seconds",
            "Where an arrival's decision spends its time: 'wait' for its group to start, "
            "'decide' (policy, secondary queue, engine), 'append' (audit records and "
            "decision rows), 'commit' (the commit, with its flush to disk; on PostgreSQL "
            "with the writes, which 'append' only builds).",
            ["stage"], buckets=STAGE_BUCKETS_S, registry=r)
        self.alerts = _AlertCollector()
        r.register(self.alerts)

    def render(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["DECISION_STAGES", "LATENCY_BUCKETS_S", "STAGE_BUCKETS_S", "Metrics"]
