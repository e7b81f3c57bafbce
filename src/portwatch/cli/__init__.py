"""The ``portwatch`` command line."""

import os
import sys

# Help for a pipe or a log is plain text: it reads better there, and skipping rich's
# help renderer (markdown-it, pygments) halves the start-up of `portwatch --help`.
# Set TYPER_USE_RICH=1 to force the boxed help anyway.
if sys.stdout is None or not sys.stdout.isatty():
    os.environ.setdefault("TYPER_USE_RICH", "0")
