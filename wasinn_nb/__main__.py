"""``python -m wasinn_nb`` runs the ``wasinn`` command line."""

from wasinn_nb.cli import wasinn_console

wasinn_console()
