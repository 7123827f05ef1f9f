"""Numba kernels of the coordination-failure model (pure numerics, no I/O).

``solve`` is the block kernel's entry point; ``solve_point``,
``equilibrium_masks`` and ``ge_path`` serve one point (CLI, tests, plots);
``warmup`` compiles (or loads from numba's cache) the entry points once.

The names are imported on first use: ``from coordsweep.kernels.outputs
import OUTPUTS`` (the engine's tables) does not import numba.
"""
#: public name -> submodule that defines it (imported lazily, PEP 562)
_NAMES = {
    "allocate_outputs": "api", "equilibrium_masks": "api", "ge_path": "api",
    "equilibrium_list": "api",
    "solve": "api", "solve_point": "api", "warmup": "api",
    "REGIME_NAMES": "codes", "STATUS_BITS": "codes",
    "OUTPUTS": "outputs", "OUTPUT_NAMES": "outputs",
}

__all__ = list(_NAMES)


def __getattr__(name):
    if name in _NAMES:
        import importlib
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_NAMES))
