"""What ``coordsweep bench`` times (engine/run/bench.py): the seeded
random points every variant solves, and the variants themselves, each
with ``solve(inputs)`` returning the kernels' outputs plus the
best-equilibrium and first-best profiles as bitmasks: ``numba`` (the
kernels, the reference), solver variants ``SLOT=NAME,...``, ``c`` and
``scipy`` (engine/run/baselines/)."""
import os
import subprocess
import sys
import time

import numpy as np

from coordsweep.engine.errors import CoordsweepError
from coordsweep.kernels.params import varied_points as draw  # noqa: F401 - re-exported

REFERENCE = "numba"


def draw_points(seed, npts, n, eta):
    """draw() from a generator seeded by (seed, n, eta)."""
    return draw(np.random.default_rng([seed, n, int(eta)]), npts, n, eta)


def head(inputs, k):
    """The first k points of a block."""
    return {name: v[:k] for name, v in inputs.items()}


class _Numba:
    name = REFERENCE
    solver = None

    def __init__(self, workdir, cold):
        from coordsweep import kernels
        self.kernels = kernels
        self.compile_kind = "cold (fresh process, no cache)" if cold else \
            "first call (numba's on-disk cache when warm)"
        if cold:
            self.compile_s = _cold_compile_seconds()
        else:
            t = time.perf_counter()
            kernels.solve(**draw_points(0, 2, 2, True))
            self.compile_s = time.perf_counter() - t

    def solve(self, inputs):
        out = self.kernels.solve(**inputs, solver=self.solver)
        n = inputs["price"].shape[1]
        bits = np.int64(1) << np.arange(n, dtype=np.int64)
        out["best_mask"] = (out["coop_best_eq"] * bits).sum(axis=1)
        out["fb_mask"] = (out["coop_fb"] * bits).sum(axis=1)
        return out


class _Solver(_Numba):
    """The kernels with solver variants (a string SLOT=NAME,...)."""

    def __init__(self, name, workdir, cold):
        from coordsweep import kernels
        from coordsweep.kernels import solvers
        self.kernels = kernels
        self.name = self.solver = name
        try:
            solvers.text(name)
            t = time.perf_counter()
            kernels.solve(**draw_points(0, 2, 2, True), solver=name)
        except solvers.SolverError as exc:
            raise CoordsweepError(f"variant {name!r}: {exc}") from None
        self.compile_s = time.perf_counter() - t
        self.compile_kind = "first call after the reference (same cached kernel; " \
                            "a user's function: its own compile)"


def setup_variant(name, workdir, cold):
    """The variant called `name`, set up (compiled) in `workdir`."""
    if name in RUNNERS:
        return RUNNERS[name](workdir, cold)
    if "=" in name:
        return _Solver(name, workdir, cold)
    raise CoordsweepError(f"unknown variant {name!r}; known: {', '.join(RUNNERS)} "
                          "or solver variants SLOT=NAME (e.g. equilibria=mitm)")


class _C:
    name = "c"

    def __init__(self, workdir, cold):
        from coordsweep.engine.run.baselines import c_baseline
        self.mod = c_baseline
        try:
            self.lib, self.compile_s, self.command, self.compiler = c_baseline.build(workdir)
        except RuntimeError as exc:
            raise CoordsweepError(f"C baseline: {exc}") from None
        self.compile_kind = self.command

    def solve(self, inputs):
        return self.mod.solve_block(self.lib, inputs)


class _SciPy:
    name = "scipy"

    def __init__(self, workdir, cold):
        try:
            from coordsweep.engine.run.baselines import scipy_baseline
        except ImportError as exc:
            raise CoordsweepError(f"SciPy baseline: {exc} (pip install scipy)") from None
        self.mod = scipy_baseline
        self.compile_s = 0.0
        self.compile_kind = "none (interpreted)"

    def solve(self, inputs):
        return self.mod.solve_block(inputs)


RUNNERS = {r.name: r for r in (_Numba, _C, _SciPy)}


def _cold_compile_seconds():
    """Import + compile of the kernels in a fresh process without numba's
    cache: what a first run on a fresh install pays."""
    code = ("import time; t = time.perf_counter(); from coordsweep import kernels; "
            "from coordsweep.engine.run.benchvariants import draw_points; "
            "kernels.solve(**draw_points(0, 2, 2, True)); print(time.perf_counter() - t)")
    env = dict(os.environ, COORDSWEEP_NUMBA_CACHE="0")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-500:])
    return float(proc.stdout.split()[-1])
