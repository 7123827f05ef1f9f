"""coordsweep: sweeps of a multi-sector model of coordination failures and clusters.

The Python API (CONTRACT.md "Names")::

    import coordsweep
    spec = coordsweep.load_spec("sweeps/two_sectors.toml")  # or TOML text, or a dict
    ds = coordsweep.run(spec)                             # small grid: in memory
    ds = coordsweep.run(spec, store="results/two.zarr")   # create, resume or open
    out = coordsweep.solve(spec, labor_share=0.7)         # one point
    ds = coordsweep.open_store("results/two.zarr")
    fig = coordsweep.plot(ds, x="cost_scale", var="regime", sector="agro")
    coordsweep.export("results/two.zarr", "two.nc")       # or .parquet, .csv

Subpackages: :mod:`coordsweep.kernels` (Numba, pure numerics) and
:mod:`coordsweep.engine` (specs, scheduling, storage, command line). This
file is the package's root; the repository's folders ``kernels/`` and
``engine/`` are its subpackages (see ``pyproject.toml``). The API is
imported on first use, so ``import coordsweep`` and the command line start
fast.
"""


def _package_version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("coordsweep")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "0+unknown"


#: public name -> module that defines it (imported lazily)
_API = {
    "run": "coordsweep.engine.api",
    "run_sweep": "coordsweep.engine.run.runner",
    "solve": "coordsweep.engine.api",
    "open_store": "coordsweep.engine.api",
    "load_spec": "coordsweep.engine.api",
    "plot": "coordsweep.engine.api",
    "export": "coordsweep.engine.api",
    "parse_spec": "coordsweep.engine.spec.model",
    "Spec": "coordsweep.engine.spec.model",
    "CoordsweepError": "coordsweep.engine.errors",
    "SpecError": "coordsweep.engine.errors",
    "StoreError": "coordsweep.engine.errors",
    "UsageError": "coordsweep.engine.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name):
    if name == "__version__":  # (importlib.metadata costs 70 ms: only when asked)
        globals()[name] = value = _package_version()
        return value
    if name in _API:
        import importlib
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'coordsweep' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API) | {"__version__"})
