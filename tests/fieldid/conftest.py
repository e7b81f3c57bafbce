"""Fixtures for the fieldid tests."""

from __future__ import annotations

import pytest

from portwatch.fieldid.cases import peak_table


@pytest.fixture(scope="session")
def table():
    return peak_table()
