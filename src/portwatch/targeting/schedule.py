"""From coverage to executable schedules: pure assignments whose marginals are the coverage.

A coverage vector ``c`` (``0 <= c_t <= 1``, ``sum c <= m`` teams) is a promise about
frequencies; officers need a concrete list: which lanes get a team this block. Comb
sampling (systematic sampling, as used to turn marginals into schedules in the IRIS
air-marshal scheduler, Tsai et al. AAMAS 2009): lay the ``c_t`` end to end on
``[0, sum c)``, draw one offset ``u`` uniform in ``[0, 1)`` and pick the targets under
the teeth ``u, u+1, u+2, ...``. Because every ``c_t <= 1``, no target is under two
teeth, each target is picked with probability exactly ``c_t``, and a draw never uses
more than ``ceil(sum c)`` teams.

``decompose`` gives the same distribution exactly, as at most ``n + 1`` pure
assignments with probabilities (the Birkhoff-von Neumann decomposition of this one-row
case): the offsets at which the comb's picks change split ``[0, 1)`` into intervals.

``shift_rosters`` applies the comb per time block (each block has its own team count)
and lists, for each shift, which team works which lane in each block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portwatch.domain.errors import InputError

_TOL = 1e-9


def _check(coverage: np.ndarray, where: str = "coverage") -> np.ndarray:
    c = np.asarray(coverage, dtype=np.float64)
    if c.ndim != 1 or not np.all(np.isfinite(c)):
        raise InputError(f"{where}: must be a vector of finite numbers")
    if np.any(c < -_TOL) or np.any(c > 1 + _TOL):
        raise InputError(f"{where}: every value must be in [0, 1]")
    return np.clip(c, 0.0, 1.0)


def comb_sample(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One pure assignment: the indices of the covered targets (see the module)."""
    c = _check(coverage)
    edges = np.concatenate([[0.0], np.cumsum(c)])
    teeth = rng.uniform() + np.arange(int(np.ceil(edges[-1])) + 1)
    teeth = teeth[teeth < edges[-1]]
    return np.unique(np.searchsorted(edges, teeth, side="right") - 1)


def decompose(coverage: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Every pure assignment the comb can draw, with its probability; they sum to 1."""
    c = _check(coverage)
    edges = np.concatenate([[0.0], np.cumsum(c)])
    cuts = np.unique(np.concatenate([[0.0, 1.0], np.mod(edges, 1.0)]))
    cuts = cuts[(cuts >= 0.0) & (cuts <= 1.0)]
    out: list[tuple[float, np.ndarray]] = []
    # A sliver as thin as the rounding of the running sum is noise, not coverage; its width
    # goes to a neighbour. Anything wider is a part of its own, so each marginal is exact
    # to within that rounding (a fixed 1e-9 lumped real coverage of 1e-9 into a neighbour).
    sliver = 64 * np.finfo(np.float64).eps * max(1.0, float(edges[-1]))
    carry = 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if hi - lo <= sliver:
            carry += float(hi - lo)
            continue
        u = 0.5 * (lo + hi)
        teeth = u + np.arange(int(np.ceil(edges[-1])) + 1)
        teeth = teeth[teeth < edges[-1]]
        picked = np.unique(np.searchsorted(edges, teeth, side="right") - 1)
        out.append((float(hi - lo) + carry, picked))
        carry = 0.0
    if carry and out:
        out[-1] = (out[-1][0] + carry, out[-1][1])
    return out


@dataclass(frozen=True)
class ShiftRoster:
    """One shift's roster: for each block in the shift, team number -> lane label."""

    shift: int
    blocks: tuple[str, ...]
    assignments: tuple[tuple[tuple[int, str], ...], ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "shift": self.shift,
            "blocks": [
                {"block": b, "teams": {f"team-{k + 1}": lane for k, lane in row}}
                for b, row in zip(self.blocks, self.assignments, strict=True)
            ],
        }


def shift_rosters(
    coverage: np.ndarray,
    teams_per_block: np.ndarray,
    rng: np.random.Generator,
    *,
    lanes: tuple[str, ...],
    blocks: tuple[str, ...],
    blocks_per_shift: int,
) -> list[ShiftRoster]:
    """Draw a roster for each shift from ``coverage[lane, block]``.

    ``teams_per_block[b]`` is the number of teams on duty in block ``b``; the coverage
    of a block must not need more (``sum_lane coverage[:, b] <= teams_per_block[b]``).
    """
    cov = np.asarray(coverage, dtype=np.float64)
    teams = np.asarray(teams_per_block)
    if cov.shape != (len(lanes), len(blocks)):
        raise InputError(f"coverage: must have shape ({len(lanes)}, {len(blocks)}), "
                         f"got {cov.shape}")
    if teams.shape != (len(blocks),):
        raise InputError(f"teams_per_block: one count per block ({len(blocks)})")
    if blocks_per_shift < 1 or len(blocks) % blocks_per_shift:
        raise InputError(f"blocks_per_shift: must divide {len(blocks)} blocks, "
                         f"got {blocks_per_shift}")
    need = cov.sum(axis=0)
    over = np.flatnonzero(need > teams + 1e-6)
    if len(over):
        b = int(over[0])
        raise InputError(f"coverage: block {blocks[b]} needs {need[b]:.3g} teams, "
                         f"only {teams[b]} on duty")
    rosters = []
    for s in range(len(blocks) // blocks_per_shift):
        rows = []
        span = range(s * blocks_per_shift, (s + 1) * blocks_per_shift)
        for b in span:
            picked = comb_sample(cov[:, b], rng)
            rows.append(tuple((k, lanes[int(t)]) for k, t in enumerate(picked)))
        rosters.append(ShiftRoster(s, tuple(blocks[b] for b in span), tuple(rows)))
    return rosters


__all__ = ["ShiftRoster", "comb_sample", "decompose", "shift_rosters"]
