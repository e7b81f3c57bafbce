"""A generator of labelled crossings whose link strengths are explicit (and assumed).

It exists to test the risk model's machinery against theory: the true probability of
every row is known, so the best achievable AUC and lift (the oracle's) can be computed
and the learned model compared with them. It is not a model of any port, and figures
from it are not results about borders.
"""

from __future__ import annotations

import numpy as np

from portwatch.targeting.risk import RiskTable

#: Log-odds per unit of each feature (assumed, chosen only to give a learnable signal).
LINK_STRENGTHS: dict[str, float] = {
    "shipper_history_years": -0.35,
    "declared_value_per_kg_log": 0.8,
    "route_deviation_km": 0.12,
    "new_consignee": 1.1,
    "night_arrival": 0.6,
    "noise": 0.0,
}
INTERCEPT = -3.6  # assumed: about a 5% base rate
DAY_S = 86_400.0


def generate(rng: np.random.Generator, n: int, days: float = 90.0,
             drift_per_day: float = 0.0) -> tuple[RiskTable, np.ndarray]:
    """(table, true probability per row); ``drift_per_day`` moves the intercept over time."""
    cols = {
        "shipper_history_years": rng.exponential(5.0, n),
        "declared_value_per_kg_log": rng.normal(1.0, 0.8, n),
        "route_deviation_km": rng.exponential(3.0, n),
        "new_consignee": (rng.random(n) < 0.15).astype(float),
        "night_arrival": (rng.random(n) < 0.25).astype(float),
        "noise": rng.normal(0.0, 1.0, n),
    }
    time_s = np.sort(rng.uniform(0.0, days * DAY_S, n))
    logit = INTERCEPT + drift_per_day * time_s / DAY_S + sum(
        LINK_STRENGTHS[k] * v for k, v in cols.items())
    p = 1.0 / (1.0 + np.exp(-logit))
    label = rng.random(n) < p
    names = tuple(cols)
    table = RiskTable(np.column_stack([cols[k] for k in names]), names, label, time_s)
    return table, p
