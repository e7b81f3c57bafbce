"""Chain of custody of enrolled containers: signed e-seal envelopes, route corridors,
a per-shipment monitor with alerts, and the verdict at the border."""

from portwatch.custody.corridor import Corridor, Zone
from portwatch.custody.envelope import SealMessage, body_fields, decode_line
from portwatch.custody.evaluate import Evaluation, evaluate
from portwatch.custody.ingest import Ingestor, IngestReport, Rejection
from portwatch.custody.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    public_key_b64,
    sign_fields,
)
from portwatch.custody.monitor import ShipmentMonitor
from portwatch.custody.registry import (
    RoutePlan,
    SealDevice,
    Shipment,
    load_shipment,
    shipment_from_mapping,
)
from portwatch.custody.service import CustodyService, ShipmentStatus
from portwatch.custody.thresholds import Thresholds, load_thresholds
from portwatch.custody.tripgen import Attack, SimulatedTrip, simulate_trip
from portwatch.custody.verdict import decide

__all__ = [
    "Attack",
    "Corridor",
    "CustodyService",
    "Evaluation",
    "IngestReport",
    "Ingestor",
    "Rejection",
    "RoutePlan",
    "SealDevice",
    "SealMessage",
    "Shipment",
    "ShipmentMonitor",
    "ShipmentStatus",
    "SimulatedTrip",
    "Thresholds",
    "Zone",
    "body_fields",
    "decide",
    "decode_line",
    "evaluate",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "load_shipment",
    "load_thresholds",
    "public_key_b64",
    "shipment_from_mapping",
    "sign_fields",
    "simulate_trip",
]
