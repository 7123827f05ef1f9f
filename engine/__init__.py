"""coordsweep.engine: specs, grids, scheduling, storage and the command line.

The public Python API is re-exported by the top-level package
(``coordsweep.run``, ``coordsweep.solve``, ...); this package holds the
modules behind it. Nothing here does numerics: that is
:mod:`coordsweep.kernels`.
"""
