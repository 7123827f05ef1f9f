"""The baselines of ``coordsweep bench``, shipped with the package so the
benchmark runs from an installed copy: ``coordsweep.c`` (the same
per-point algorithm in C, built by :mod:`.c_baseline` with the system
compiler) and :mod:`.scipy_baseline` (a straightforward SciPy
implementation). They are references to time and compare the kernels
against; nothing in a sweep uses them."""
