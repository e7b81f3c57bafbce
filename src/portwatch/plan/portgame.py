"""The port as a game: targets, capacity and payoffs from a scenario and the twin's
interdiction model; solved by the targeting solvers; the answer written as a ``Policy``.

- **Targets** are the cells a load can cross in: (mode, primary lane, time block). The
  defender's coverage of a cell is its referral probability (the policy's
  ``referral_prob``). Risk tiers are not targets here: the interdiction model already
  averages over the risk scores loads draw.
- **Capacity**: a unit of coverage of a cell refers every conveyance in it, and each
  referral uses the mode's mean secondary time; each time block's budget is the bays'
  time in it, times ``utilisation`` (assumed: the bays are the binding resource).
  A pedestrian load is capped at the twin's ``PEDESTRIAN_MAX_KG``.
- **Seizure probabilities** come from ``portwatch.twin.process.interdiction``, the model
  the informed adversary uses. Its queue-decided part (the share of each cell that canine
  teams screen at primary, the scanners' shares) depends on the whole policy: canine
  teams that triage referrals are not sweeping primary. So ``P_u`` and ``P_c`` of every
  cell are read at one set of pathways, from the model's analytic part with the cell
  referred never and always (exactly linear in between), and the plan is iterated:
  pathways measured under the current plan, the game rebuilt, solved again
  (``iterations`` rounds at most, from the pathways of the policy that refers nothing,
  stopping early when a round gives the same plan back). Each plan is scored in the
  game built from its own pathways and the best one is kept.
  Within a target (a cell's block) the attacker uses the hour and concealment whose
  seizure chance is lowest at the current plan's coverage, as the twin's informed
  adversary takes the way the model rates safest. The plan uses the ``hold`` capacity
  rule, under which the model releases no referral uninspected; every run uses the same
  seed (common random numbers).
- **Payoffs** per attacker type: the load's street value and harm (the scenario's
  ``value_usd_per_kg`` and ``harm_per_kg`` times its mean mass); the cartel loses
  ``seizure_loss_share`` of the value when a load is seized (assumed) and may be
  charged ``express_profile_usd`` to present an enrolled, low-risk profile in the
  express lane (default 0, as the twin's adversaries pay nothing there; the insider is
  never charged). The defender loses the harm of a load that crosses.
- **Attacker types** (``default_types``): a single high-value load, a shotgun of the
  most common drug in the general lanes, an insider in the trusted-shipper program, and
  an adaptive learner. The twin's ``adaptive`` adversary learns only from its own
  seizures and public waits, so in the limit it goes where loads are seized least: in
  the game it best-responds to the seizure chance like the single load (it shifts prior
  weight onto any lane; with the same payoffs the solver merges the two types).
  ``AttackerType.fears_referral`` models instead a learner that
  watches which cells are inspected and fears a referral as it fears a seizure (the
  defender still counts the true seizure chance). The
  shotgun's decoys are not a separate effect here: under the ``hold`` capacity rule the
  plan uses, a referral is inspected however full secondary is, so decoys cost waits
  and, where the scenario sets a canine pass, the dog time of their follow-up checks
  (the game prices neither); ``portwatch compare --decoy-pairs`` measures what they take
  away in the twin.
- **Robust to a learner**: with ``rationality_levels`` set (the default), the strong
  Stackelberg coverage is one candidate among plans against a learning attacker and
  mixtures of the two, and ``portwatch.plan.robust`` keeps the one with the best worst
  case over the learner's levels within ``robust_best_response_loss`` of the
  Stackelberg plan against the best responders.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting.eraser import (
    BayesianSecurityGame,
    BayesianSecuritySolution,
    bayesian_eraser,
    evaluate,
)
from portwatch.targeting.games import SecurityGame
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, N_LANES, N_MODES, Policy
from portwatch.twin.adversaries.adaptive import EXPLORATION
from portwatch.twin.adversaries.helpers import PEDESTRIAN, PEDESTRIAN_MAX_KG
from portwatch.twin.process.interdiction import (
    MODEL_DAYS,
    measure_pathways,
    probabilities_given,
)
from portwatch.twin.process.plan import SEALED, TRAP, TRUCK
from portwatch.twin.scenario import CompiledScenario

RATIONALITY_LEVELS: tuple[float, ...] = (10.0, 100.0, 1000.0)
"""Assumed rationalities of a learning attacker the plan is made robust to (see
``portwatch.plan.robust``)."""

HOUR_S = 3600.0


@dataclass(frozen=True)
class AttackerType:
    """One kind of smuggler: its prior, drug, lanes it may use and what it pays."""

    name: str
    probability: float
    drug: str
    lanes: tuple[str, ...] = ("general", "express")
    pays_for_profile: bool = True
    fears_referral: bool = False  # True: judges a cell by its referral share (a learner)


@dataclass(frozen=True)
class PlanSettings:
    """Planning parameters; every number marked assumed is not from a source."""

    n_blocks: int = 6
    utilisation: float = 0.85  # assumed: share of bay time the plan may fill
    seizure_loss_share: float = 0.5  # assumed: share of a load's value lost if seized
    # cost of an enrolled low-risk profile in the express lane: none, as for the twin's
    # adversaries (a load there rides a compromised enrolled conveyance at no extra
    # cost); a game that charges one is solved for another attacker than the one the
    # twin runs (5,000, assumed, was the earlier default)
    express_profile_usd: float = 0.0
    iterations: int = 2  # rounds of plan -> pathways under the plan -> game -> plan
    days: int = MODEL_DAYS  # the interdiction model's own days: one model
    seed: int = 0
    time_limit_s: float = 40.0  # for all the rounds' MILPs together
    alert_first_check: str = "bay"
    types: tuple[AttackerType, ...] = field(default=())
    alert_covered_to_bay: bool = False  # triage only the alerts the plan did not select
    # learner rationalities the plan is made robust to (plan.robust; assumed); () keeps
    # the strong Stackelberg plan
    rationality_levels: tuple[float, ...] = RATIONALITY_LEVELS
    # share of the Stackelberg plan's harm interdicted from best responders the robust
    # plan may give up (assumed)
    robust_best_response_loss: float = 0.05
    # share of the learner's loads that explore along the traffic shares whatever it
    # has learned (EXP3's exploration; assumed, as the twin's adaptive adversary's gamma)
    learner_exploration: float = EXPLORATION


@dataclass(frozen=True, eq=False)
class PortPlan:
    """The solved port game and the policy it gives."""

    policy: Policy
    cells: list[tuple[str, str, int]]  # (mode, lane, block) per target
    coverage: np.ndarray
    cost_s: np.ndarray  # bay seconds per unit coverage, per target
    budget_s: np.ndarray  # bay seconds per block
    solution: BayesianSecuritySolution
    game: BayesianSecurityGame
    p_uncovered: np.ndarray  # [type, target]
    p_covered: np.ndarray  # [type, target]

    def capacity_use(self) -> np.ndarray:
        """Share of each block's budget the plan fills."""
        used = np.bincount([c[2] for c in self.cells], weights=self.cost_s * self.coverage,
                           minlength=len(self.budget_s))
        return np.where(self.budget_s > 0, used / np.maximum(self.budget_s, 1e-9), 0.0)


def default_types(sc: CompiledScenario) -> tuple[AttackerType, ...]:
    """Single high-value load (the most harmful drug per kg), shotgun (the most common
    drug), insider in the trusted-shipper program (express lane, no profile cost) and an
    adaptive learner that learns from its own seizures (the most harmful drug: the
    defender's loss is dominated by it). The priors 0.4 / 0.25 / 0.15 / 0.2 are
    assumed."""
    harmful = sc.drugs[int(np.argmax(sc.drug_harm_per_kg))]
    common = sc.drugs[int(np.argmax(sc.drug_share))]
    return (AttackerType("single-load", 0.4, harmful),
            AttackerType("shotgun", 0.25, common, lanes=("general",)),
            AttackerType("insider", 0.15, harmful, lanes=("express",), pays_for_profile=False),
            AttackerType("adaptive", 0.2, harmful))


def _cells(sc: CompiledScenario, n_blocks: int) -> list[tuple[int, int, int]]:
    out = []
    for m in range(N_MODES):
        if not sc.mode_present[m] or sc.secondary_service[m] is None:
            continue
        for lane in range(N_LANES):
            if lane == 1 and not sc.has_express[m]:
                continue
            out += [(m, lane, b) for b in range(n_blocks)]
    return out


def _traffic(sc: CompiledScenario, m: int, lane: int, hours: np.ndarray) -> np.ndarray:
    share = sc.enrolled_share[m] if lane == 1 else 1.0 - sc.enrolled_share[m]
    return sc.daily_volume[m] * sc.hourly_profile[m, hours] * share


def _policy(sc: CompiledScenario, cells: list[tuple[int, int, int]], coverage: np.ndarray,
            n_blocks: int, name: str, s: PlanSettings) -> Policy:
    arr = np.zeros((N_MODES, N_LANES, n_blocks))
    for (m, lane, b), c in zip(cells, coverage, strict=True):
        arr[m, lane, b] = c
    return Policy(name=name, referral_prob=arr, capacity_rule="hold",
                  alert_first_check=s.alert_first_check,  # type: ignore[arg-type]
                  alert_covered_to_bay=s.alert_covered_to_bay,
                  description="Stackelberg plan of the port game (portwatch plan)")


def _options(sc: CompiledScenario, m: int, lane: int) -> list[int]:
    """Concealments a load can use in this cell, as the twin's adversaries allow them:
    only trucks hide loads other than in a trap; a sealed container goes through the
    express lane where the mode has one."""
    out = []
    for c in range(len(sc.concealment_share)):
        if c != TRAP and m != TRUCK:
            continue
        if c in SEALED and lane != 1 and sc.has_express[m]:
            continue
        out.append(c)
    return out


def _probabilities(sc: CompiledScenario, cells: list[tuple[int, int, int]],
                   base: np.ndarray, full: np.ndarray, at: np.ndarray,
                   types: tuple[AttackerType, ...], n_blocks: int,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(P_u, P_c) [type, target] from the model never (``base``) and always (``full``)
    referring, at the same pathways. Within a target the attacker picks the hour and
    concealment whose seizure chance is lowest at coverage ``at`` (the current plan)."""
    per_block = 24 // n_blocks
    pu = np.zeros((len(types), len(cells)))
    pc = np.zeros_like(pu)
    for k, at_type in enumerate(types):
        d = sc.drugs.index(at_type.drug)
        for j, (m, lane, b) in enumerate(cells):
            hours = np.arange(b * per_block, (b + 1) * per_block)
            open_hours = hours[_traffic(sc, m, lane, hours) > 0]
            hours = open_hours if len(open_hours) else hours
            conc = np.array(_options(sc, m, lane), dtype=np.int64)
            drug = np.array([d], dtype=np.int64)
            p0 = base[m, lane][np.ix_(hours, drug, conc)][:, 0, :]
            p1 = full[m, lane][np.ix_(hours, drug, conc)][:, 0, :]
            now = p0 + at[j] * (p1 - p0)
            h, c = np.unravel_index(int(np.argmin(now)), now.shape)
            pu[k, j] = p0[h, c]
            pc[k, j] = min(1.0, max(p1[h, c], p0[h, c] + 1e-6))
    return pu, pc


def _game_at(sc: CompiledScenario, policy: Policy, coverage: np.ndarray,
             cells: list[tuple[int, int, int]], cost: np.ndarray, budget: np.ndarray,
             types: tuple[AttackerType, ...], s: PlanSettings,
             ) -> tuple[BayesianSecurityGame, np.ndarray, np.ndarray]:
    """The game at the pathways measured under ``policy`` (whose coverage is
    ``coverage``), with ``P_u`` / ``P_c`` per type and target."""
    paths = measure_pathways(sc, policy, s.days, s.seed)
    never = _policy(sc, cells, np.zeros(len(cells)), s.n_blocks, "never", s)
    always = _policy(sc, cells, np.ones(len(cells)), s.n_blocks, "always", s)
    base = probabilities_given(sc, never, paths)
    full = probabilities_given(sc, always, paths)
    pu, pc = _probabilities(sc, cells, base, full, coverage, types, s.n_blocks)
    return _game(sc, cells, pu, pc, cost, budget, types, s), pu, pc


def _type_mass(sc: CompiledScenario, cells: list[tuple[int, int, int]],
               at: AttackerType) -> np.ndarray:
    """Mean load mass per target; a pedestrian carries at most PEDESTRIAN_MAX_KG (the
    twin's adversaries' limit)."""
    mean = float(sc.drug_mass_kg_mean[sc.drugs.index(at.drug)])
    return np.array([min(mean, PEDESTRIAN_MAX_KG) if m == PEDESTRIAN else mean
                     for m, _, _ in cells])


def type_harm(sc: CompiledScenario, cells: list[tuple[int, int, int]],
              at: AttackerType) -> np.ndarray:
    """Harm of a load of type ``at`` per target (cells as (mode, lane, block) indices)."""
    return float(sc.drug_harm_per_kg[sc.drugs.index(at.drug)]) * _type_mass(sc, cells, at)


def _game(sc: CompiledScenario, cells: list[tuple[int, int, int]], pu: np.ndarray,
          pc: np.ndarray, cost: np.ndarray, budget: np.ndarray,
          types: tuple[AttackerType, ...], s: PlanSettings) -> BayesianSecurityGame:
    groups = np.array([b for _, _, b in cells])
    games = []
    for k, at in enumerate(types):
        d = sc.drugs.index(at.drug)
        mass = _type_mass(sc, cells, at)
        value = float(sc.drug_value_usd_per_kg[d]) * mass
        harm = float(sc.drug_harm_per_kg[d]) * mass
        loss = s.seizure_loss_share * value
        allowed = np.array([LANE_ORDER[lane] in at.lanes for _, lane, _ in cells])
        profile = np.array([s.express_profile_usd if (lane == 1 and at.pays_for_profile)
                            else 0.0 for _, lane, _ in cells])
        # a lane the type cannot use pays it nothing, so it is never its best target
        off = np.where(allowed, 0.0, value.max() + loss.max() + s.express_profile_usd + 1.0)
        # what the attacker believes: the learner counts a referral as a seizure
        seen = np.ones_like(pc[k]) if at.fears_referral else pc[k]
        au = (1 - pu[k]) * value - pu[k] * loss - profile - off
        ac = (1 - seen) * value - seen * loss - profile - off
        games.append(SecurityGame(-(1 - pc[k]) * harm, -(1 - pu[k]) * harm, ac, au,
                                  float(budget.sum()), cost, groups, budget))
    return BayesianSecurityGame(tuple(games), tuple(t.probability for t in types),
                                tuple(t.name for t in types))


def plan_port(sc: CompiledScenario, s: PlanSettings | None = None) -> PortPlan:
    """Build and solve the port game (see the module docstring)."""
    s = s or PlanSettings()
    if s.n_blocks < 1 or 24 % s.n_blocks:
        raise InputError(f"--blocks: must divide 24 hours, got {s.n_blocks}")
    if not 0.0 <= s.robust_best_response_loss <= 1.0:
        raise InputError("robust_best_response_loss: must be in [0, 1], got "
                         f"{s.robust_best_response_loss}")
    if not 0.0 <= s.learner_exploration < 1.0:
        raise InputError("learner_exploration: must be in [0, 1), got "
                         f"{s.learner_exploration}")
    if any(not (np.isfinite(x) and x >= 0) for x in s.rationality_levels):
        raise InputError(f"rationality_levels: must be numbers >= 0, got "
                         f"{list(s.rationality_levels)}")
    types = s.types or default_types(sc)
    unknown = [t.drug for t in types if t.drug not in sc.drugs]
    if unknown:
        raise InputError(f"attacker type drug {unknown[0]!r}: not in the scenario's drugs")
    cells = _cells(sc, s.n_blocks)
    if not cells:
        raise InputError(f"{sc.name}: no mode with a secondary inspection to plan for")
    per_block = 24 // s.n_blocks
    cost = np.array([_traffic(sc, m, lane, np.arange(b * per_block, (b + 1) * per_block)).sum()
                     * sc.secondary_service[m].mean_s for m, lane, b in cells])  # type: ignore[union-attr]
    cost = np.maximum(cost, 1e-6)
    budget = np.full(s.n_blocks, sc.bays * per_block * HOUR_S * s.utilisation)
    budget = np.minimum(budget, np.bincount([c[2] for c in cells], weights=cost,
                                            minlength=s.n_blocks))
    triage = triage_name(s.alert_first_check, s.alert_covered_to_bay)
    name = "game-theoretic" + ("" if s.alert_first_check == "bay" else f"-{triage}")
    coverage = np.zeros(len(cells))
    policy = _policy(sc, cells, coverage, s.n_blocks, "no-referral", s)
    best: tuple[float, Policy, np.ndarray, BayesianSecurityGame, np.ndarray, np.ndarray,
                dict[str, object]] | None = None
    history: list[float] = []
    details: dict[str, object] = {}
    for it in range(max(1, s.iterations) + 1):
        game, pu, pc = _game_at(sc, policy, coverage, cells, cost, budget, types, s)
        if it > 0:  # score the plan in the game of its own pathways
            value = evaluate(game, coverage)[0]
            history.append(value)
            if best is None or value > best[0]:
                best = (value, policy, coverage, game, pu, pc, details)
        if it == max(1, s.iterations):
            break
        sol = bayesian_eraser(game, time_limit_s=s.time_limit_s / max(1, s.iterations))
        if it > 0 and np.abs(np.asarray(sol.coverage) - coverage).max() < 1e-4:
            break  # the same plan again: its pathways, and so its game, are the same
        coverage, details = np.asarray(sol.coverage), dict(sol.details)
        policy = _policy(sc, cells, coverage, s.n_blocks, name, s)
    assert best is not None
    value, policy, coverage, game, pu, pc, details = best
    if s.rationality_levels:
        from portwatch.plan.robust import robust_choice, worst_share

        chosen, scored = robust_choice(sc, cells, coverage, cost, budget, types, s, name)
        details = {**details, "robust": {
            "chosen": chosen.name, "levels": list(s.rationality_levels),
            "share_of_best": worst_share(chosen, scored),
            "caught": {c.name: c.caught for c in scored}}}
        if chosen.name != "stackelberg":
            policy, coverage, game = chosen.policy, chosen.coverage, chosen.game
            pu, pc = chosen.p_uncovered, chosen.p_covered
            value = evaluate(game, coverage)[0]
    _, attacked, per_type = evaluate(game, coverage)
    sol = BayesianSecuritySolution("bayesian-eraser", coverage, value, attacked, per_type,
                                   {**details, "defender_utility_by_round": history})
    cell_names = [(str(MODE_ORDER[m]), LANE_ORDER[lane], b) for m, lane, b in cells]
    return PortPlan(policy, cell_names, coverage, cost, budget, sol, game, pu, pc)


def with_triage(policy: Policy, check: str = "nii_scan") -> Policy:
    """The same plan with decoy triage: alerts go first to a quick check."""
    return replace(policy, name=f"{policy.name}-{check}",
                   alert_first_check=check)  # type: ignore[arg-type]


TRIAGE_OPTIONS: tuple[tuple[str, bool], ...] = (
    ("nii_scan", False), ("nii_scan", True), ("handheld", False), ("handheld", True),
    ("nii_scan_handheld", False), ("nii_scan_handheld", True))
"""Decoy triage options the planner weighs: where an alert goes first (an NII scan, the
handheld check, or a scan and then the handheld check when the scan is clean), and
whether alerts the plan selected anyway go straight to a bay."""


def triage_name(check: str, covered_to_bay: bool) -> str:
    """``nii_scan``, ``handheld``, or either with ``-covered-bay`` (the rule on)."""
    return check + ("-covered-bay" if covered_to_bay else "")


WAIT_DAYS = 3
"""Days of legitimate traffic (after a day of warm-up) the triage guard's p95 truck
wait is measured over."""
MAX_WAIT_INCREASE = 0.10
"""The triage guard: an option whose p95 truck wait exceeds the reference policy's by
more than this share is not chosen (the issue's bound on the wait)."""


def p95_truck_wait_s(sc: CompiledScenario, policy: Policy, days: int = WAIT_DAYS,
                     seed: int = 0, adversary: tuple[str, dict[str, Any]] | None = None,
                     ) -> float:
    """The 95th percentile of the primary wait of trucks (of every mode where the port
    has no trucks) on the port's legitimate traffic under ``policy``: the kernel run
    ``days`` days after a day of warm-up, on a fixed seed (common random numbers). With
    ``adversary`` (a twin adversary's name and parameters, e.g. the shotgun), its loads
    and decoys of each day cross too (planned on a stream of their own), so the wait
    counts the alerts and checks they cause."""
    from portwatch.twin.adversaries import make_adversary
    from portwatch.twin.adversaries.base import AdversaryView
    from portwatch.twin.process.interdiction import _port_lookup
    from portwatch.twin.process.kernel import N_UNIFORMS, PortState, prepare, run_day
    from portwatch.twin.process.traffic import (
        compose_day,
        draw_legit,
        legit_uniforms,
        plan_traffic,
        score_traffic,
    )

    model, state = prepare(sc, policy), PortState(sc)
    rng = np.random.default_rng(seed)
    adv = None if adversary is None else make_adversary(adversary[0], **adversary[1])
    adv_rng = np.random.default_rng([seed, 1])
    lookup = _port_lookup(sc, policy)
    waits = []
    for day in range(days + 1):
        legit = draw_legit(sc, day, rng)
        u = legit_uniforms(legit, rng)
        if adv is not None:
            plan = adv.plan_day(AdversaryView.blank(sc, policy, day), adv_rng)
            u_plan = adv_rng.random((len(plan), N_UNIFORMS)).astype(u.dtype)
            legit, u = compose_day(legit, plan_traffic(sc, day, plan, adv_rng), u, u_plan)
        tr = score_traffic(sc, legit, lookup)
        run = run_day(model, tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled, tr.custody,
                      tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, state)
        keep = (run.balked == 0) & ((tr.mode == TRUCK) if sc.mode_present[TRUCK] else True)
        if day > 0:
            waits.append((run.primary_start_at - tr.arrive_at_s)[keep])
    w = np.concatenate(waits) if waits else np.zeros(0)
    return float(np.percentile(w, 95)) if len(w) else float("nan")


@dataclass(frozen=True, eq=False)
class TriageChoice:
    """The port game solved under each decoy triage option (each with its own
    interdiction model, at the same bay capacity), and the best for the defender among
    those whose p95 truck wait passes the guard."""

    best: PortPlan
    option: tuple[str, bool]
    plans: dict[str, PortPlan]
    p95_truck_wait_s: dict[str, float] = field(default_factory=dict)
    reference_p95_s: float = float("nan")
    wait_guard_met: bool = True  # False: no option passed, the best of all was kept
    # the same on days with the guard adversary's loads and decoys (empty without one)
    p95_truck_wait_with_decoys_s: dict[str, float] = field(default_factory=dict)
    reference_p95_with_decoys_s: float = float("nan")

    def values(self) -> dict[str, float]:
        """The defender's expected utility (minus the harm per attempted load) per
        option, each in the game of its own plan's pathways."""
        return {k: float(p.solution.defender_utility) for k, p in self.plans.items()}


def choose_triage(sc: CompiledScenario, s: PlanSettings | None = None,
                  options: tuple[tuple[str, bool], ...] = TRIAGE_OPTIONS,
                  reference: Policy | None = None,
                  max_wait_increase: float | None = MAX_WAIT_INCREASE,
                  guard_adversary: tuple[str, dict[str, Any]] | None = None,
                  ) -> TriageChoice:
    """Solve the port game under each triage option and keep the one best for the
    defender. Each option's game reads the interdiction model under that option (the
    model the informed adversary reads when the policy runs it), so the choice is made
    at equal bay capacity on the process each option runs. The game prices no waits:
    with ``reference`` (e.g. uniform referral at the same bay time) and
    ``max_wait_increase`` set, an option whose p95 truck wait on legitimate traffic
    (``p95_truck_wait_s``) exceeds the reference's by more than that share is passed
    over; when every option fails, the best of all is kept and ``wait_guard_met`` is
    False. With ``guard_adversary`` (e.g. ``("shotgun", params)``) the guard also runs
    days on which that adversary's loads and decoys cross, and an option must pass on
    both: the queue decoys cause at a quick check is what legitimate traffic alone does
    not show."""
    if not options:
        raise InputError("triage options: at least one is needed")
    s = s or PlanSettings()
    plans = {triage_name(check, covered): plan_port(sc, replace(
        s, alert_first_check=check, alert_covered_to_bay=covered))
        for check, covered in options}
    if guard_adversary is not None:  # an unknown adversary fails before any wait is run
        from portwatch.twin.adversaries import make_adversary

        make_adversary(guard_adversary[0], **guard_adversary[1])
    guards: list[tuple[dict[str, float], float]] = []
    allowed = list(plans)
    if reference is not None and max_wait_increase is not None:
        for adversary in [None] + ([guard_adversary] if guard_adversary else []):
            ref = p95_truck_wait_s(sc, reference, seed=s.seed, adversary=adversary)
            waits = {k: p95_truck_wait_s(sc, p.policy, seed=s.seed, adversary=adversary)
                     for k, p in plans.items()}
            guards.append((waits, ref))
            allowed = [k for k in allowed if not waits[k] > (1.0 + max_wait_increase) * ref]
    met = bool(allowed)
    name = max(allowed or list(plans), key=lambda k: float(plans[k].solution.defender_utility))
    option = next(o for o in options if triage_name(*o) == name)
    (waits, ref), (dwaits, dref) = (guards + [({}, float("nan"))] * 2)[:2]
    return TriageChoice(plans[name], option, plans, waits, ref, met, dwaits, dref)


__all__ = ["MAX_WAIT_INCREASE", "RATIONALITY_LEVELS", "TRIAGE_OPTIONS", "AttackerType",
           "PlanSettings", "PortPlan", "TriageChoice", "choose_triage", "default_types",
           "p95_truck_wait_s", "plan_port", "triage_name", "type_harm", "with_triage"]
