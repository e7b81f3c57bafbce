"""How to handle a sample the engine names (or cannot exclude): precautions per compound.

Only compounds whose handling differs from routine evidence handling are listed: the
fentanyl-related compounds, where skin contact or airborne powder can harm the
inspector. When a name stands for more than one compound (``fentanyl or carfentanil``,
or a fentanyl that a release bound cannot exclude), the precautions of the most potent
of them apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portwatch.fieldid.analogues import candidates_of, pair_of

#: Federal Interagency Working Group, "Fentanyl Safety Recommendations for First
#: Responders" (Office of National Drug Control Policy, 2017): gloves when fentanyl is
#: suspected; a NIOSH-approved respirator, eye protection and minimal skin contact when
#: powder may become airborne; naloxone reverses fentanyl's effects.
FENTANYL_SOURCE = "Fentanyl Safety Recommendations for First Responders (ONDCP, 2017)"
#: DEA officer safety alert on carfentanil (September 2016): about 10,000 times as
#: potent as morphine and 100 times as potent as fentanyl; first responders to be ready
#: to give naloxone; emergency personnel report several doses needed.
CARFENTANIL_SOURCE = "DEA carfentanil officer safety alert (2016)"


@dataclass(frozen=True)
class Handling:
    """Precautions for a compound, with its potency relative to fentanyl and the source."""

    compound: str
    potency_vs_fentanyl: float
    precautions: str
    source: str

    def to_json(self) -> dict[str, object]:
        """JSON form: the compound the precautions are for, the precautions, the source."""
        return {
            "handle_as": self.compound,
            "potency_vs_fentanyl": self.potency_vs_fentanyl,
            "precautions": self.precautions,
            "source": self.source,
        }


_PPE = (
    "nitrile gloves; do not open or shake the package; a NIOSH-approved respirator and eye "
    "protection if powder may become airborne; "
)
HANDLING: dict[str, Handling] = {
    "fentanyl": Handling(
        "fentanyl", 1.0, _PPE + "naloxone at hand; confirm in the lab", FENTANYL_SOURCE
    ),
    "carfentanil": Handling(
        "carfentanil",
        100.0,
        "about 100 times as potent as fentanyl: " + _PPE + "several doses of naloxone at "
        "hand; seal it and send it to the lab labelled as possible carfentanil",
        f"{CARFENTANIL_SOURCE}; {FENTANYL_SOURCE}",
    ),
}


def handling_for(names: Iterable[str]) -> Handling | None:
    """The precautions of the most potent compound ``names`` may stand for (None if none).

    A pair's label (``fentanyl or carfentanil``) stands for both its compounds.
    """
    found = [HANDLING[n] for name in names for n in candidates_of(name) if n in HANDLING]
    return max(found, key=lambda h: h.potency_vs_fentanyl) if found else None


def handling_for_bound(name: str) -> Handling | None:
    """Precautions for a compound a release bound cannot exclude: its pair's worst.

    The bound on a drug the fit left out cannot tell a pair apart either (both are
    forced in, and the larger bound is named), so the worse of the pair is assumed.
    """
    pair = pair_of(name)
    return handling_for(pair.names if pair else (name,))


__all__ = ["HANDLING", "Handling", "handling_for", "handling_for_bound"]
