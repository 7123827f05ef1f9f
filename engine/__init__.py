"""coordsweep engine: specs, grids, scheduling, storage and the command line.

``engine.run(spec, store=..., scheduler=..., ...)`` runs a sweep and returns
the opened xarray Dataset; ``engine.run_sweep`` also returns timings and the
summary (both from :mod:`engine.runner`, imported on first use so that the
command line starts fast).
"""
from engine.errors import CoordsweepError, SpecError, StoreError, UsageError  # noqa: F401

__version__ = "0.1.0"
__all__ = ["run", "run_sweep", "CoordsweepError", "SpecError", "StoreError", "UsageError"]


def __getattr__(name):
    if name in ("run", "run_sweep"):
        from engine import runner
        return getattr(runner, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
