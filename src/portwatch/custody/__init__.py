"""Chain of custody of enrolled containers: signed e-seal envelopes, route corridors,
a per-shipment monitor with alerts, and the verdict at the border."""
