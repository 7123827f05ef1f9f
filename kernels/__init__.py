"""Numba kernels of the coordination-failure model (pure numerics, no I/O).

``solve`` is the block kernel's entry point; ``solve_point``,
``equilibrium_masks`` and ``ge_path`` serve one point (CLI, tests, plots).
"""
from coordsweep.kernels.api import (  # noqa: F401
    allocate_outputs, equilibrium_masks, ge_path, solve, solve_point)
from coordsweep.kernels.codes import REGIME_NAMES, STATUS_BITS  # noqa: F401
from coordsweep.kernels.outputs import OUTPUTS, OUTPUT_NAMES  # noqa: F401
