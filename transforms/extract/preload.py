"""Imported once by the parser processes' fork server (isolation.py), so that every child starts
with the readers, the redactor and their libraries already loaded, and replacing a child is cheap."""

import importlib

from transforms.extract import READERS

for _module in sorted({target.split(".")[0] for target in READERS.values() if ":" not in target}):
    importlib.import_module(f"transforms.extract.{_module}")
