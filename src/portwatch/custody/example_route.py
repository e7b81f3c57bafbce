"""The example route: a factory in Tijuana's Ciudad Industrial (Mesa de Otay), the
Otay Mesa commercial crossing, and a distribution centre in San Diego's Otay Mesa.

Positions are approximate (to within about 100 m) and follow the roads named in each
comment. The port of entry is at 32.550602, -116.938187 (Wikipedia, "Otay Mesa Port of
Entry"); the border line there follows the 1848 boundary from the Pacific at 32.5343 N,
117.1240 W to the Gila-Colorado confluence at 32.7185 N, 114.7200 W (about 32.5486 N at
this longitude); SR 905 leaves the port north-west past Siempre Viva Road, La Media
Road and Britannia Boulevard, with Britannia Industrial Park south of the freeway
(Wikipedia, "California State Route 905"; AARoads, "California State Route 905 West").
Check the line against OpenStreetMap before using it operationally. The same data is in
``examples/otay-mesa/route.json``.
"""

from __future__ import annotations

from typing import Any

OTAY_MESA_ROUTE: dict[str, Any] = {
    "name": "Ciudad Industrial, Tijuana -> Otay Mesa commercial crossing -> Britannia "
    "Industrial Park, San Diego",
    "source": "approximate positions along named roads; port of entry per Wikipedia "
    "(32.550602, -116.938187); see docs/custody.md",
    "corridor_width_m": 200.0,
    "line": [
        [32.5302, -116.9268],  # factory gate, Ciudad Industrial Nueva Tijuana
        [32.5318, -116.9281],
        [32.5336, -116.9302],
        [32.5355, -116.9318],
        [32.5378, -116.9331],  # carrier staging yard (authorised stop)
        [32.5402, -116.9345],
        [32.5425, -116.9358],  # northbound on Blvd. Garita de Otay, commercial queue
        [32.5448, -116.9370],  # Mexican customs, Aduana de Mesa de Otay (commercial)
        [32.5468, -116.9378],
        [32.5486, -116.9383],  # international boundary
        [32.5506, -116.9382],  # CBP Otay Mesa cargo facility (primary inspection)
        [32.5530, -116.9386],
        [32.5552, -116.9398],  # SR 905 at Siempre Viva Road
        [32.5574, -116.9430],
        [32.5592, -116.9475],
        [32.5603, -116.9530],
        [32.5610, -116.9590],  # SR 905 at La Media Road
        [32.5614, -116.9650],
        [32.5617, -116.9705],  # SR 905 at Britannia Boulevard
        [32.5590, -116.9712],  # southbound on Britannia Boulevard
        [32.5562, -116.9716],  # distribution centre, Britannia Industrial Park
    ],
    "origin": {
        "name": "factory, Ciudad Industrial Nueva Tijuana",
        "lat": 32.5302, "lon": -116.9268, "radius_m": 300.0, "max_dwell_s": 7200.0,
    },
    "crossing": {
        # commercial waits at Otay Mesa run two to four hours (San Diego Regional
        # Chamber of Commerce, "Joint Inspection Facility at Existing Otay Port of Entry")
        "name": "Otay Mesa commercial crossing",
        "lat": 32.5486, "lon": -116.9383, "radius_m": 800.0, "max_dwell_s": 14400.0,
    },
    "destination": {
        "name": "distribution centre, Britannia Industrial Park",
        "lat": 32.5562, "lon": -116.9716, "radius_m": 300.0, "max_dwell_s": 86400.0,
    },
    "stops": [
        {
            "name": "carrier staging yard",
            "lat": 32.5378, "lon": -116.9331, "radius_m": 150.0, "max_dwell_s": 1800.0,
        }
    ],
}

__all__ = ["OTAY_MESA_ROUTE"]
