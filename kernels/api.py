"""Python entry points of the kernels: allocate outputs, call the block kernel."""
import numpy as np
from coordsweep.kernels.jit import jit

from coordsweep.kernels.economy import NSP, NSV, NTMP, path_g, prepare
from coordsweep.kernels.outputs import OUTPUTS
from coordsweep.kernels.params import SECTOR_DEFAULTS, SECTOR_PARAMS
from coordsweep.kernels.point import solve_block, solve_point_into


def _inputs(labor, labor_share, sector_values, npts=None):
    """Coerce inputs to C-contiguous float64: (P,) and (P, N)."""
    labor = np.ascontiguousarray(labor, dtype=np.float64)
    labor_share = np.ascontiguousarray(labor_share, dtype=np.float64)
    if labor.ndim != 1 or labor_share.shape != labor.shape:
        raise ValueError("labor and labor_share must be 1-D arrays of equal length")
    npts = labor.shape[0]
    shape = None
    out = []
    for name in SECTOR_PARAMS:
        v = sector_values.get(name)
        if v is None:
            if name not in SECTOR_DEFAULTS:
                raise ValueError(f"missing sector parameter {name!r}")
            out.append(None)
            continue
        v = np.ascontiguousarray(v, dtype=np.float64)
        if v.ndim != 2 or v.shape[0] != npts:
            raise ValueError(f"{name} must have shape (P, N) with P = {npts}, got {v.shape}")
        if shape is None:
            shape = v.shape
        elif v.shape != shape:
            raise ValueError(f"{name} has shape {v.shape}, expected {shape}")
        out.append(v)
    if not 1 <= shape[1] <= 24:
        raise ValueError(f"number of sectors must be in 1..24, got {shape[1]}")
    out = [np.full(shape, SECTOR_DEFAULTS[n]) if v is None else v
           for n, v in zip(SECTOR_PARAMS, out)]
    return labor, labor_share, out


def allocate_outputs(npts, nsec):
    """Empty output arrays for a block, keyed by output name."""
    return {name: np.empty((npts,) if per == "point" else (npts, nsec), dtype)
            for name, per, dtype, _, _ in OUTPUTS}


def solve(labor, labor_share, price, productivity, externality, cost,
          scale=None, subsidy=None, cost_subsidy=None, out=None):
    """Solve a block of P points. labor, labor_share: shape (P,); sector
    parameters: shape (P, N) (None = 0). Returns {output name: array}."""
    labor, labor_share, sec = _inputs(labor, labor_share, dict(
        price=price, productivity=productivity, externality=externality,
        cost=cost, scale=scale, subsidy=subsidy, cost_subsidy=cost_subsidy))
    npts, nsec = sec[0].shape
    if out is None:
        out = allocate_outputs(npts, nsec)
    solve_block(labor, labor_share, *sec, *(out[o[0]] for o in OUTPUTS))
    return out


def _one_point(labor, labor_share, price, productivity, externality, cost,
               scale, subsidy, cost_subsidy):
    def row(v):
        return None if v is None else np.atleast_1d(np.asarray(v, np.float64))[None, :]
    return _inputs([labor], [labor_share], dict(
        price=row(price), productivity=row(productivity),
        externality=row(externality), cost=row(cost), scale=row(scale),
        subsidy=row(subsidy), cost_subsidy=row(cost_subsidy)))


def solve_point(labor, labor_share, price, productivity, externality, cost,
                scale=None, subsidy=None, cost_subsidy=None):
    """Solve one point (sector parameters as length-N sequences).
    Returns point outputs as numpy scalars, sector outputs as (N,) arrays."""
    out = solve(*_flatten(_one_point(labor, labor_share, price, productivity,
                                     externality, cost, scale, subsidy,
                                     cost_subsidy)))
    return {name: (v[0] if v.ndim == 1 else v[0].copy()) for name, v in out.items()}


def _flatten(parts):
    labor, labor_share, sec = parts
    return (labor, labor_share, *sec)


def equilibrium_masks(labor, labor_share, price, productivity, externality,
                      cost, scale=None, subsidy=None, cost_subsidy=None,
                      limit=1 << 20):
    """Sorted bitmasks (bit i = sector i) of every stable equilibrium."""
    labor, labor_share, sec = _one_point(labor, labor_share, price, productivity,
                                         externality, cost, scale, subsidy,
                                         cost_subsidy)
    nsec = sec[0].shape[1]
    out = allocate_outputs(1, nsec)
    record = np.empty(limit, np.int64)
    nrec = solve_point_into(
        0, labor[0], labor_share[0], *(v[0] for v in sec),
        np.empty(NSP), np.empty((NSV, nsec)), np.empty((NTMP, nsec)),
        np.zeros(1, np.int64), np.empty(nsec, np.int64),
        np.empty(nsec, np.int64), np.empty(nsec), record,
        *(out[o[0]] for o in OUTPUTS))
    if out["n_equilibria"][0] > limit:
        raise ValueError(f"{out['n_equilibria'][0]} equilibria exceed limit={limit}")
    return np.sort(record[:nrec])


@jit
def _ge_path(labor, alpha, price, prod, theta, cost, eta, tau, sigma, i, s, g):
    n = price.shape[0]
    sp = np.empty(NSP)
    sv = np.empty((NSV, n))
    tmp = np.empty((NTMP, n))
    st = np.zeros(1, np.int64)
    if not prepare(labor, alpha, price, prod, theta, cost, eta, tau, sigma,
                   sp, sv, tmp, st):
        return -1
    ws = (sp, sv, tmp, st)
    for k in range(s.shape[0]):
        g[k] = path_g(ws, i, s[k])
    return st[0]


def ge_path(labor, labor_share, price, productivity, externality, cost,
            scale=None, subsidy=None, cost_subsidy=None, *, sector, s):
    """g_i(s) = Delta_i(s, w_i(s)) for sector i at shares s (others at S0)."""
    labor, labor_share, sec = _one_point(labor, labor_share, price, productivity,
                                         externality, cost, scale, subsidy,
                                         cost_subsidy)
    s = np.ascontiguousarray(s, dtype=np.float64)
    g = np.empty_like(s)
    code = _ge_path(labor[0], labor_share[0], *(v[0] for v in sec), int(sector), s, g)
    if code < 0:
        raise ValueError("parameters outside MODEL.md's domains")
    return g
