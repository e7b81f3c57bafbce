"""Field types for pydantic models of files users write (scenarios, policies,
thresholds): the constraints of ``portwatch.domain.validate`` as annotations.

    class Rule(BaseModel):
        identify_prob: Probability
        gap_periods: PositiveFinite

pydantic then reports ``identify_prob: Input should be less than or equal to 1`` for
1.9 and refuses ``inf`` and ``nan`` for every type here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""Any finite float."""

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
"""A probability or share in [0, 1]."""

PositiveFinite = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""A finite float > 0: a duration, distance, rate or multiple of a period."""

NonNegativeFinite = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""A finite float >= 0."""

Count = Annotated[int, Field(ge=0, strict=True)]
"""A whole number >= 0 (``true`` and ``2.5`` refused)."""

Seed = Annotated[int, Field(ge=0, le=2**63 - 1, strict=True)]
"""A random seed in [0, 2**63 - 1]."""

PORT_CODE = r"^[0-9]{4}$"
"""A port of entry's four-digit CBP code (``2506``: Otay Mesa), ASCII digits only: the
one pattern of a port code, for pydantic fields (``PortCode``) and ``re.fullmatch``."""

PortCode = Annotated[str, Field(pattern=PORT_CODE)]
"""A port of entry's code (``PORT_CODE``)."""

__all__ = ["PORT_CODE", "Count", "FiniteFloat", "NonNegativeFinite", "PortCode",
           "PositiveFinite", "Probability", "Seed"]
