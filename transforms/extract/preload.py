"""Imported once by the parser processes' fork server (isolation.py), so that every child starts
with the readers, the redactor and their libraries already loaded: replacing a child is cheap,
and no library maps itself in after the child's address-space limit is set."""

import importlib

from transforms.extract import READERS

# Imported lazily by the readers or the signatures; loaded here for the reason above.
_LIBRARIES = ("datasketch", "olefile", "xlrd", "openpyxl", "pyarrow", "pyarrow.csv", "striprtf.striprtf")

for _module in sorted({target.split(".")[0] for target in READERS.values() if ":" not in target}):
    importlib.import_module(f"transforms.extract.{_module}")
for _library in _LIBRARIES:
    importlib.import_module(_library)
