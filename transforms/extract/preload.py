"""Imported once by the parser processes' fork server (isolation.py), so that every child starts
with the readers, the redactor and their libraries already loaded: replacing a child is cheap,
and no library maps itself in after the child's address-space limit is set."""

import gc
import importlib

from transforms.extract import READERS

# Imported lazily by the readers or the signatures; loaded here for the reason above.
_LIBRARIES = ("datasketch", "olefile", "xlrd", "openpyxl", "pyarrow", "pyarrow.csv", "striprtf.striprtf")

for _module in sorted({target.split(".")[0] for target in READERS.values() if ":" not in target}):
    importlib.import_module(f"transforms.extract.{_module}")
for _library in _LIBRARIES:
    importlib.import_module(_library)

# What is loaded here lives as long as every child: frozen, it is left out of the children's
# cyclic collections (about a tenth of a parser's time on the scale corpus went to traversing
# it), and those collections never write to its pages, which stay shared with the fork server.
gc.freeze()
