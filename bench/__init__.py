"""wasinn-nb's benchmarks: ``python -m bench`` runs the peers side by side (see README.md)."""
