"""The package's public names all resolve, and reading a policy loads no solver."""

from __future__ import annotations

import subprocess
import sys

import portwatch.targeting as targeting


def test_every_public_name_resolves():
    for name in targeting.__all__:
        assert getattr(targeting, name) is not None


def test_reading_a_policy_does_not_import_scipy_or_sklearn():
    code = ("import sys; from portwatch.targeting import Policy; Policy.uniform(0.1); "
            "print(sorted(m for m in ('scipy', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
