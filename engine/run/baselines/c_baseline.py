"""Build and call coordsweep.c, next to this file (the C baseline of the benchmark).

``build(out_dir)`` compiles it with the system C compiler at
``-O3 -march=native`` into a shared library and returns (library, seconds,
compiler command, compiler version); ``solve_block(lib, inputs)`` runs it
on a block of points and returns the same fields as the other variants.
"""
import ctypes
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).parent / "coordsweep.c"
CFLAGS = ["-O3", "-march=native", "-shared", "-fPIC"]

_F = ctypes.POINTER(ctypes.c_double)
_I64 = ctypes.POINTER(ctypes.c_int64)
_I8 = ctypes.POINTER(ctypes.c_int8)


def compiler():
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def build(out_dir, source=SOURCE, name="coordsweep_c"):
    """Compile the library (coordsweep.c, or another version
    of it: `source`) into out_dir. Raises RuntimeError when there is no C
    compiler or the compile fails."""
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler (cc/gcc) on PATH")
    lib = Path(out_dir) / f"{name}.so"
    cmd = [cc, *CFLAGS, "-o", str(lib), str(source), "-lm"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[:500]}")
    version = subprocess.run([cc, "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    handle = ctypes.CDLL(str(lib))
    handle.cs_solve_block.restype = None
    return handle, seconds, " ".join(cmd), version


def _ptr(a, t):
    return a.ctypes.data_as(t)


def solve_block(handle, inputs):
    labor = np.ascontiguousarray(inputs["labor"], np.float64)
    alpha = np.ascontiguousarray(inputs["labor_share"], np.float64)
    sec = [np.ascontiguousarray(inputs[k], np.float64) for k in
           ("price", "productivity", "externality", "cost", "scale", "subsidy",
            "cost_subsidy")]
    npts, n = sec[0].shape
    out = {k: np.empty(npts) for k in ("wage_nc", "welfare_nc", "welfare_best_eq",
                                       "wage_best_eq", "welfare_fb", "fiscal_cost_nc")}
    out.update(n_equilibria=np.empty(npts, np.int64), best_mask=np.empty(npts, np.int64),
               fb_mask=np.empty(npts, np.int64), status=np.empty(npts, np.int8),
               regime=np.empty((npts, n), np.int8))
    for k in ("critical_mass", "partial_share", "gain_coordinate", "threshold_wage",
              "subsidy_needed"):
        out[k] = np.empty((npts, n))
    handle.cs_solve_block(
        ctypes.c_int64(npts), ctypes.c_int(n), _ptr(labor, _F), _ptr(alpha, _F),
        *(_ptr(v, _F) for v in sec),
        _ptr(out["wage_nc"], _F), _ptr(out["welfare_nc"], _F),
        _ptr(out["n_equilibria"], _I64), _ptr(out["welfare_best_eq"], _F),
        _ptr(out["wage_best_eq"], _F), _ptr(out["welfare_fb"], _F),
        _ptr(out["best_mask"], _I64), _ptr(out["fb_mask"], _I64),
        _ptr(out["fiscal_cost_nc"], _F), _ptr(out["status"], _I8),
        _ptr(out["regime"], _I8), _ptr(out["critical_mass"], _F),
        _ptr(out["partial_share"], _F), _ptr(out["gain_coordinate"], _F),
        _ptr(out["threshold_wage"], _F), _ptr(out["subsidy_needed"], _F))
    return out
