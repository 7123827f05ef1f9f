"""Debug hooks for the reliability tests (off unless an environment
variable asks for them; documented in docs/guarantees.md).

- ``COORDSWEEP_DEBUG_PAUSE=POINT:SECONDS:MARKER``: when the run reaches
  POINT (``template``: before the store's template is written;
  ``write``: in a task, after solving and before writing its chunk;
  ``finalize``: before the store is marked complete), create the file
  MARKER and sleep SECONDS, so a test can kill or stop the run there.
- ``COORDSWEEP_DEBUG_HOLD_AFTER=N`` (with the pause): the first N pauses
  (counted by MARKER's lines, one per pause, over every process of the
  run) only sleep; every later one then waits until the file MARKER.go
  exists. A test thus stops a run after exactly N chunks whatever the
  machine's speed, acts on the held run, and kills it or lets it go on.
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
    with open(marker, "a+") as f:
        f.seek(0)
        before = len(f.read().splitlines())
        f.write(f"{os.getpid()}\n")
    time.sleep(float(seconds))
    hold_after = settings().debug_hold_after
    if hold_after is not None and before >= hold_after:
        while not os.path.exists(marker + ".go"):
            time.sleep(0.01)
