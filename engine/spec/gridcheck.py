"""MODEL.md's domains over a whole grid without visiting the grid.

A parameter's value at a grid point is its base value, set by at most
one axis (the last setter) and multiplied by scale axes
(``externality_scale``, ``cost_scale``, ``exp(ca_spread * k_i)``), each
factor monotone in its axis value. So every parameter is monotone in each
axis coordinate when the others are fixed, and on any box of the grid it
takes its extremes at the box's corners (each axis at its smallest or
largest value). The domains are intervals (``scale`` < 1 - ``labor_share``
is monotone in both, which depend on different axes), and a non-finite
value can only come from an overflow, also at a corner. Hence "is there
a bad point in this box?" is answered by checking the box's corners.

``first_violation`` finds the lowest flat index with a bad value
axis by axis: for axis k, with axes 0..k-1 fixed at the indices found,
it checks every index of axis k against all corners of axes k+1..d-1
and keeps the first index whose box holds a bad point. Cost:
O(sum_k n_k x 2^(d-k-1)) points, never O(grid); the result is exactly
the one a point-by-point scan finds (tests/test_huge_grid.py).
"""
import numpy as np

from coordsweep.engine.errors import SpecError
from coordsweep.engine.spec.domains import check_domains, format_violation
from coordsweep.engine.spec.pointspec import describe_point
from coordsweep.kernels.params import GLOBAL_PARAMS, SECTOR_PARAMS, in_domain

#: points checked at once
BLOCK = 200_000


def bad_rows(params):
    """Boolean (P,): rows with a value outside its domain."""
    labor_share = np.asarray(params["labor_share"], dtype=np.float64)
    bad = np.zeros(labor_share.shape[0], bool)
    for name in GLOBAL_PARAMS:
        bad |= ~in_domain(name, params[name])
    for name in SECTOR_PARAMS:
        bad |= ~(in_domain(name, params[name], labor_share[:, None]).all(axis=1))
    return bad


def _extremes(axis):
    """Indices of an axis' smallest and largest values (a range: its ends)."""
    if axis._values is None:
        return np.unique([0, len(axis) - 1])
    values = axis.values
    return np.unique([int(np.argmin(values)), int(np.argmax(values))])


def _first_bad_index(spec, prefix, k, ext, block):
    """Smallest index i of axis k such that the box (prefix, i, any...) holds
    a bad point; None if no index does."""
    n_k = len(spec.axes[k])
    rest = ext[k + 1:]
    if rest:
        mesh = np.meshgrid(*rest, indexing="ij")
        corners = [m.ravel() for m in mesh]
    else:
        corners = []
    c = len(corners[0]) if corners else 1
    step = max(1, block // c)
    for lo in range(0, n_k, step):
        cand = np.arange(lo, min(n_k, lo + step), dtype=np.int64)
        rows = len(cand) * c
        idx = [np.full(rows, i, np.int64) for i in prefix]
        idx.append(np.repeat(cand, c))
        idx.extend(np.tile(cc, len(cand)) for cc in corners)
        bad = bad_rows(spec.points(tuple(idx))).reshape(len(cand), c).any(axis=1)
        if bad.any():
            return int(cand[int(np.argmax(bad))])
    return None


def scan(spec, block=None):
    """first_violation by visiting every grid point, block by block: O(grid)."""
    block = max(1, int(block or BLOCK))
    for start in range(0, spec.size, block):
        stop = min(spec.size, start + block)
        params = spec.block(start, stop)
        bad = check_domains(params, spec.sector_names)
        if bad is not None:
            flat = start + bad.index
            one = spec.block(flat, flat + 1)
            return flat, check_domains(one, spec.sector_names), one
    return None


def _design_any_bad(spec, ext, block):
    """Whether any point of a grid with a design is bad: every design row
    (streamed in blocks) at every corner of the axes. O(design x 2^axes)."""
    n = spec.design.size
    mesh = np.meshgrid(*ext, indexing="ij") if ext else []
    combos = list(zip(*(m.ravel() for m in mesh))) if ext else [()]
    for combo in combos:
        for s0 in range(0, n, block):
            s = np.arange(s0, min(n, s0 + block), dtype=np.int64)
            idx = tuple(np.full(s.size, i, np.int64) for i in combo) + (s,)
            if bad_rows(spec.points(idx)).any():
                return True
    return False


def first_violation(spec, block=None):
    """(flat index, Violation, params of that point) of the first grid point
    outside MODEL.md's domains, or None. block: points checked at once.

    With a design (a ``sample`` dimension of arbitrary points after the
    axes), every design row is checked at every corner of the axes:
    O(design x 2^axes); only when that finds a bad point is the first one
    located by a scan of the grid."""
    block = max(1, int(block or BLOCK))
    if getattr(spec, "design", None) is not None:
        ext = [_extremes(a) for a in spec.axes]
        return scan(spec, block) if _design_any_bad(spec, ext, block) else None
    if not spec.axes:
        params = spec.points(())
        bad = check_domains(params, spec.sector_names)
        return None if bad is None else (0, bad, params)
    ext = [_extremes(a) for a in spec.axes]
    prefix = []
    for k in range(len(spec.axes)):
        i = _first_bad_index(spec, prefix, k, ext, block)
        if i is None:
            if k == 0:
                return None
            raise AssertionError("grid check: a box with a bad corner has no bad point "
                                 f"(axis {spec.axes[k].name!r})")  # pragma: no cover
        prefix.append(i)
    params = spec.points(tuple(np.array([i], np.int64) for i in prefix))
    bad = check_domains(params, spec.sector_names)
    flat = int(np.ravel_multi_index(tuple(prefix), spec.shape))
    return flat, bad, params


def check(spec, block_points=None):
    """Check every grid point against MODEL.md's domains; raise SpecError
    for the first offending point (lowest flat index) naming the parameter,
    sector, value and grid coordinates (``Spec.check_grid``). Costs
    O(sum of axis lengths x 2^axes), never O(grid)."""
    _raise(spec, first_violation(spec, block_points))


def check_exhaustive(spec, block_points=200_000):
    """:func:`check` by visiting every grid point, block by block: O(grid)
    (the reference the tests hold :func:`check` to)."""
    _raise(spec, scan(spec, block_points))


def _raise(spec, found):
    """SpecError for a (flat index, Violation, block) found by a grid check."""
    if found is not None:
        flat, bad, params = found
        raise SpecError(f"{spec.source}: {format_violation(bad, params)} "
                        f"at grid point {describe_point(spec, flat)}")
