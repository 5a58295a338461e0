"""``python -m twinverse`` runs the command line."""

from twinverse.cli.main import run

run()
