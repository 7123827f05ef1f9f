"""Debug hooks for the reliability tests (off unless an environment
variable asks for them; documented in docs/guarantees.md).

- ``COORDSWEEP_DEBUG_PAUSE=POINT:SECONDS:MARKER``: when the run reaches
  POINT (``template``: before the store's template is written;
  ``write``: in a task, after solving and before writing its chunk;
  ``finalize``: before the store is marked complete), create the file
  MARKER and sleep SECONDS, so a test can kill or stop the run there.
- ``COORDSWEEP_DEBUG_MAXITER=N``: the kernels' iteration caps (see
  kernels/rootfind.py), to force root-finder failures.

(engine/config.py reads the environment.)
"""
import os
import time

from coordsweep.engine.config import settings


def pause(point):
    spec = settings().debug_pause
    if spec is None or spec[0] != point:
        return
    _, seconds, marker = spec
    with open(marker, "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(float(seconds))
