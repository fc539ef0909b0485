"""The metadata index: what each file gave when it was last extracted, so a rerun extracts only what changed.

store.py (SQLite and PostgreSQL behind one interface), plan.py (which files to
extract, fingerprints), cache.py (pair scores by digest), ptransforms.py (Beam).
"""
