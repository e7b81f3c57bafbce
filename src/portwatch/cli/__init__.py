"""The ``portwatch`` command line."""
