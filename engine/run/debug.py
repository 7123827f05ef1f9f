"""Debug hooks for the reliability tests (off unless an environment
variable asks for them; documented in the README's Guarantees section).

- ``COORDSWEEP_DEBUG_PAUSE=POINT:SECONDS:MARKER``: when the run reaches
  POINT (``template``: before the store's template is written;
  ``write``: in a task, after solving and before writing its chunk;
  ``finalize``: before the store is marked complete), create the file
  MARKER and sleep SECONDS, so a test can kill or stop the run there.
- ``COORDSWEEP_DEBUG_MAXITER=N``: the kernels' iteration caps (see
  kernels/rootfind.py), to force root-finder failures.
"""
import os
import time


def pause(point):
    spec = os.environ.get("COORDSWEEP_DEBUG_PAUSE")
    if not spec:
        return
    name, seconds, marker = spec.split(":", 2)
    if name != point:
        return
    with open(marker, "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(float(seconds))
