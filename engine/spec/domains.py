"""MODEL.md's parameter domains (kernels/params.py), checked vectorised over a block of points.

A block is the dict the kernels take: ``labor`` and ``labor_share`` of
shape (P,), every sector parameter of shape (P, N). The check finds the
first offending point in flat order and, at that point, the first
offending value in a fixed order: ``labor``, ``labor_share``, then sector
0's parameters in ``SECTOR_PARAMS`` order, then sector 1's, and so on.
Non-finite values (NaN, +-inf) are always violations. The domain of
``scale`` depends on ``labor_share`` at the same point; ``labor_share`` is
checked first, so a reported ``scale`` violation always has a valid
``labor_share`` to quote.
"""
from collections import namedtuple

import numpy as np

from coordsweep.kernels.params import GLOBAL_PARAMS, SECTOR_PARAMS, domain_text, in_domain

Violation = namedtuple("Violation", "index param sector value")
Violation.__doc__ = """First domain violation of a block.

index: flat position of the point in the block; param: parameter name;
sector: sector name, or None for a global parameter; value: the value.
"""


def check_domains(params, sector_names):
    """First domain violation of a block, or None.

    params: dict with ``labor``, ``labor_share`` of shape (P,) and every
    name of ``SECTOR_PARAMS`` of shape (P, N); sector_names: the N names.
    Returns a ``Violation(index, param, sector, value)`` (a tuple; sector
    is the sector's name, None for a global parameter) for the lowest
    offending flat index, or None when every point is inside the domains.
    """
    sector_names = list(sector_names)
    n = len(sector_names)
    labor_share = np.asarray(params["labor_share"], dtype=np.float64)
    p = labor_share.shape[0]
    # columns in the documented order: globals, then sector by sector
    columns = []  # (param, sector index or None)
    bad = []
    for name in GLOBAL_PARAMS:
        x = np.asarray(params[name], dtype=np.float64).reshape(p)
        columns.append((name, None))
        bad.append(~in_domain(name, x))
    per_param = {}
    for name in SECTOR_PARAMS:
        x = np.asarray(params[name], dtype=np.float64).reshape(p, n)
        per_param[name] = ~in_domain(name, x, labor_share[:, None])
    for j in range(n):
        for name in SECTOR_PARAMS:
            columns.append((name, j))
            bad.append(per_param[name][:, j])
    if p == 0:
        return None
    bad = np.stack(bad, axis=1)  # (P, 2 + N * len(SECTOR_PARAMS))
    row_bad = bad.any(axis=1)
    if not row_bad.any():
        return None
    index = int(np.argmax(row_bad))
    col = int(np.argmax(bad[index]))
    param, j = columns[col]
    if j is None:
        value = float(np.asarray(params[param]).reshape(p)[index])
        return Violation(index, param, None, value)
    value = float(np.asarray(params[param]).reshape(p, n)[index, j])
    return Violation(index, param, sector_names[j], value)


def format_violation(violation, params=None):
    """One-line message for a Violation, e.g.
    ``externality of sector 'agro' is -0.5, outside [0, inf)``.

    params (the block the violation came from) lets a ``scale`` message
    quote the bound 1 - labor_share at that point.
    """
    index, param, sector, value = violation
    what = param if sector is None else f"{param} of sector {sector!r}"
    if not np.isfinite(value):
        return f"{what} is {float(value)!r}, not a finite number"
    domain = domain_text(param)
    if param == "scale" and params is not None:
        alpha = float(np.asarray(params["labor_share"]).reshape(-1)[index])
        domain = f"{domain} = [0, {1.0 - alpha!r})"
    return f"{what} is {float(value)!r}, outside {domain}"
