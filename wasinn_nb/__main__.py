"""``python -m wasinn_nb`` runs the ``wasinn`` command line."""

import sys

from wasinn_nb.cli import main

sys.exit(main())
