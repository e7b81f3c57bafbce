"""``python -m portwatch`` runs the command line."""

from portwatch.cli.main import main

main()
