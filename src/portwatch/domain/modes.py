"""Modes of crossing and the lanes a conveyance can be sent to."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """How a conveyance crosses a land port of entry."""

    TRUCK = "truck"
    CAR = "car"
    PEDESTRIAN = "pedestrian"
    BUS = "bus"
    RAIL = "rail"
    """A rail container (or railcar) crossing on a train: the unit the twin inspects."""


class Lane(StrEnum):
    """The outcome of the decision for one arrival.

    ``FREE``: the standard lane, primary inspection only; ``EXPRESS``: the
    trusted-traveller or trusted-shipper lane (FAST, SENTRI, Ready); ``SECONDARY``:
    referred to secondary inspection; ``FULL_SEARCH``: a full physical search before
    entry.
    """

    FREE = "free"
    EXPRESS = "express"
    SECONDARY = "secondary"
    FULL_SEARCH = "full_search"
