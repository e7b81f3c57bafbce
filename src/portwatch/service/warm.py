"""Readying a service process before its first request: what would otherwise run on
the first arrival, and a heap the garbage collector no longer walks.

Two stalls measured on the arrival path, both outside the decision's own stages:

- the first decision loads the compiled engine from numba's cache (about 0.3 s on the
  benchmark machine), so the first booth of the day waited for it;
- CPython's full (generation 2) collection walks every tracked object; a service
  process holds about 180,000 of them after start-up (modules, classes, the web and
  database libraries), and a full collection took 100-160 ms there: every request in
  flight waited for it.

``gc.freeze`` moves every object alive at start-up to a permanent generation that
collections skip; what the service makes later is still collected as before. Objects
frozen stay alive while referenced, as they would anyway (modules and classes live for
the whole process).
"""

from __future__ import annotations

import gc


def warm_engine() -> None:
    """Run the lane decision once, so the compiled engine and the policy code are
    loaded before the first arrival."""
    import portwatch.targeting.policyfile  # noqa: F401 - read when a policy is loaded
    from portwatch.engine import decide_lane
    from portwatch.targeting.policy import Policy

    decide_lane(policy=Policy.uniform(0.05), mode="truck", lane="general", hour=12,
                custody="none", risk=0.0, enrolled=False, in_secondary=0,
                secondary_capacity=1, u=0.5)


def freeze_heap() -> None:
    """Collect once, then leave every surviving object out of later collections."""
    gc.collect()
    gc.freeze()


def ready_process() -> None:
    """Both, in order: what the first decision loads is frozen too. For a process that
    runs one service (``portwatch serve``, ``portwatch service consume``), not for a
    test process that makes many."""
    warm_engine()
    freeze_heap()


__all__ = ["freeze_heap", "ready_process", "warm_engine"]
