"""``python -m firestop``: the same as the ``firestop`` command."""

from firestop.cli import main

main()
