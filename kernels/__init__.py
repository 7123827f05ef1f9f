"""Numba kernels of the coordination-failure model (pure numerics, no I/O)."""
