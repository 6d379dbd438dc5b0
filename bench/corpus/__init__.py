"""A labelled corpus of AI interactions for measuring Firestop's detectors.

``bench.corpus.generate`` makes it (``generate``, ``write_ndjson`` and the command line);
``bench.corpus.systems`` holds the five systems it comes from. Nothing is imported here, so
that ``python -m bench.corpus.generate`` runs the module only once.
"""
