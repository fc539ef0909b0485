"""Readers that misbehave the way native parsers do, for the parser-isolation tests.

Registered in parser processes through `ParserPool(config, readers={...})`; never in READERS.
"""

import ctypes
import os
import time


class NativePanic(BaseException):
    """Stands in for pyo3's PanicException, which derives from BaseException."""


def abort(data, ctx):
    os.abort()


def segfault(data, ctx):
    ctypes.string_at(0)


def panic(data, ctx):
    raise NativePanic("range end index 64 out of range for slice of length 0")


def spin(data, ctx):
    while True:
        pass


def hog(data, ctx):
    chunks = []
    while True:
        chunks.append(bytearray(64 * 1024 * 1024))  # touched: zero-filled pages count as resident


def sleepy(data, ctx):
    time.sleep(float(data or b"1"))
    from transforms.model import Extracted

    return Extracted(text="slept")


def exits(data, ctx):
    os._exit(3)
