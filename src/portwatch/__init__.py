"""portwatch: an open decision system for land ports of entry."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata on first use only: importing
    # importlib.metadata costs about as much as the rest of `portwatch --help`.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("portwatch")
        except PackageNotFoundError:  # running from a source tree that was not installed
            return "0.0.0"
    raise AttributeError(f"module 'portwatch' has no attribute {name!r}")


__all__ = ["__version__"]
