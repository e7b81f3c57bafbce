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


def main() -> None:
    """Print the generator check quoted in docs/targeting.md (not a result about a port)."""
    from portwatch.targeting.risk import (
        auc,
        evaluate,
        fit_risk_model,
        lift_at,
        mimicry_decay,
        time_split,
    )

    table, p = generate(np.random.default_rng(2026), 30_000)
    train, test = time_split(table, 0.25)
    model = fit_risk_model(train, rng=np.random.default_rng(1))
    p_test = p[table.time_s > train.time_s.max()]
    rep = evaluate(model, test, referral_rate=0.05, rng=np.random.default_rng(3))
    print(f"held out {rep.rows} of {table.n_rows}, base rate {rep.base_rate:.4f}")
    print(f"AUC {rep.auc.value:.3f} ({rep.auc.low:.3f}-{rep.auc.high:.3f}), oracle "
          f"{auc(p_test, test.label):.3f}")
    print(f"lift at 5% {rep.lift.value:.2f} ({rep.lift.low:.2f}-{rep.lift.high:.2f}), oracle "
          f"{lift_at(p_test, test.label, 0.05):.2f}")
    print(f"Brier {rep.brier:.4f}, expected calibration error {rep.ece:.4f}")
    fakeable = tuple(k for k, v in LINK_STRENGTHS.items() if v)
    for share, r in mimicry_decay(model, test, fakeable, shares=(0.0, 0.25, 0.5, 0.75, 1.0),
                                  referral_rate=0.05, rng=np.random.default_rng(4)):
        print(f"mimicry {share:.0%}: AUC {r.auc.value:.3f}, lift {r.lift.value:.2f} "
              f"({r.lift.low:.2f}-{r.lift.high:.2f})")


if __name__ == "__main__":
    main()
