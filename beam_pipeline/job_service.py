"""Beam's local job service for the portable runner, with filegraph's data-plane fix.

    python -m beam_pipeline.job_service --port 8099

takes the flags of `python -m apache_beam.runners.portability.local_job_service_main`
and runs it after `data_plane.install()`: the job service runs Beam's
FnApiRunner, which sends each stage's input to the (LOOPBACK) SDK workers over
gRPC and, without the fix, can drop part of a large input (see data_plane.py).
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Optional, Sequence

from beam_pipeline import data_plane


def main(argv: Optional[Sequence[str]] = None) -> None:
    from apache_beam.runners.portability import local_job_service_main

    args = list(sys.argv[1:] if argv is None else argv)
    if "--background" in args:  # Beam's would start its own job service, without the fix
        raise SystemExit("beam_pipeline.job_service runs in the foreground: start it in the background "
                         "with your shell or service manager")
    data_plane.install()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.basicConfig(level=logging.INFO)
    local_job_service_main.run(args)


if __name__ == "__main__":
    main()
