"""The model parameters of MODEL.md "Primitives": one table, read by everything.

Every fact about a parameter is written here once: its API name, its
MODEL.md symbol, whether it is per point or per sector, whether it is
required or its default, its domain, its units and its description. The
spec parser (keys, required keys, defaults), the domain checks (the
engine's vectorised one and the kernel's), the store's attributes and the
docs all derive from this table; kernel inputs are a :data:`Inputs`
namedtuple built from it, so they are matched by name, never by position.

Pure Python (no numba import): the engine and the CLI read it cheaply.
"""
import math
from collections import namedtuple

import numpy as np

#: the largest number of sectors N (profiles are int64 bitmasks; the first
#: best enumerates 2^N of them)
MAX_SECTORS = 24
#: the upper bound of ``scale`` is 1 - labor_share at the same point
ONE_MINUS_LABOR_SHARE = "1 - labor_share"

Param = namedtuple(
    "Param", "name symbol per default low low_closed high high_closed units description")
Param.__doc__ = """One model parameter.

name: API / spec name; symbol: MODEL.md symbol; per: "point" or "sector";
default: None when required; low, high: domain bounds (high may be
ONE_MINUS_LABOR_SHARE); *_closed: whether the bound belongs to the domain;
units: a UDUNITS string ("1": dimensionless); description: long name.
"""

PARAMS = (
    Param("labor", "L", "point", 1.0, 0.0, False, math.inf, False, "1",
          "labour endowment L"),
    Param("labor_share", "alpha", "point", None, 0.0, False, 1.0, False, "1",
          "labour share alpha"),
    Param("price", "p", "sector", None, 0.0, False, math.inf, False, "1",
          "world price p_i"),
    Param("productivity", "a", "sector", None, 0.0, False, math.inf, False, "1",
          "natural productivity a_i"),
    Param("externality", "theta", "sector", None, 0.0, True, math.inf, False, "1",
          "clustering gain theta_i"),
    Param("cost", "c", "sector", None, 0.0, True, math.inf, False, "1",
          "cooperation cost c_i"),
    Param("scale", "eta", "sector", 0.0, 0.0, True, ONE_MINUS_LABOR_SHARE, False, "1",
          "Marshallian scale externality eta_i"),
    Param("subsidy", "tau", "sector", 0.0, -1.0, False, math.inf, False, "1",
          "production subsidy rate tau_i"),
    Param("cost_subsidy", "sigma", "sector", 0.0, 0.0, True, 1.0, True, "1",
          "cost subsidy share sigma_i"),
)

PARAM = {p.name: p for p in PARAMS}
#: names of the per-point parameters, then of the per-sector ones (table order)
GLOBAL_PARAMS = tuple(p.name for p in PARAMS if p.per == "point")
SECTOR_PARAMS = tuple(p.name for p in PARAMS if p.per == "sector")
#: parameters a spec must give (per point: in [model]; per sector: in every sector)
REQUIRED_SECTOR = tuple(p.name for p in PARAMS if p.per == "sector" and p.default is None)
DEFAULTS = {p.name: p.default for p in PARAMS if p.default is not None}
SECTOR_DEFAULTS = {k: v for k, v in DEFAULTS.items() if PARAM[k].per == "sector"}

#: the kernel's inputs, by name: per-point fields have shape (P,), per-sector
#: fields shape (P, N), all float64 (numba takes a namedtuple of arrays)
Inputs = namedtuple("Inputs", [p.name for p in PARAMS])


def domain_text(name):
    """The domain as text, e.g. "(0, inf)", "[0, 1 - labor_share)"."""
    p = PARAM[name]
    low = "-inf" if p.low == -math.inf else f"{p.low:g}"
    high = p.high if isinstance(p.high, str) else ("inf" if p.high == math.inf else f"{p.high:g}")
    return f"{'[' if p.low_closed else '('}{low}, {high}{']' if p.high_closed else ')'}"


def in_domain(name, x, labor_share=None):
    """Boolean array: x finite and inside the parameter's domain.

    ``labor_share`` (broadcastable to x) is needed for ``scale``."""
    p = PARAM[name]
    x = np.asarray(x, dtype=np.float64)
    high = p.high
    if isinstance(high, str):
        if labor_share is None:
            raise ValueError(f"the domain of {name} needs labor_share")
        high = 1.0 - np.asarray(labor_share, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = (x >= p.low) if p.low_closed else (x > p.low)
        ok &= (x <= high) if p.high_closed else (x < high)
    return ok & np.isfinite(x)


def varied_points(rng, npts, n, eta):
    """npts points of n sectors inside the domains, drawn from the numpy
    Generator rng like the paper sweeps: alpha 0.5..0.75, costs spread
    over the regimes (GE paths the monotonicity certificates cover and
    paths they do not), eta_i up to half its bound when eta, else 0 (the
    points of the benchmarks, of ``coordsweep bench`` and of the kernels'
    warm-up).
    Returns {parameter: (npts,) or (npts, n) float64 array}."""
    alpha = rng.uniform(0.5, 0.75, npts)
    return dict(
        labor=np.ones(npts), labor_share=alpha,
        price=rng.uniform(0.8, 1.2, (npts, n)),
        productivity=rng.uniform(0.6, 1.6, (npts, n)),
        externality=rng.uniform(0.0, 1.5, (npts, n)),
        cost=rng.uniform(0.0, 0.3, (npts, n)),
        scale=(rng.uniform(0.0, 0.5, (npts, n)) * (1 - alpha)[:, None]) if eta
        else np.zeros((npts, n)),
        subsidy=np.zeros((npts, n)), cost_subsidy=np.zeros((npts, n)))
