"""The kernel's domain check (kernels/domain.py, built from the parameter
table) accepts exactly what the table's own check (params.in_domain, used
by the engine) accepts: bounds open or closed, 1 - labor_share, NaN, inf."""
import math

import numpy as np

from coordsweep import kernels
from coordsweep.kernels.api import make_inputs
from coordsweep.kernels.codes import INVALID_INPUT
from coordsweep.kernels.domain import block_in_domain
from coordsweep.kernels.params import ONE_MINUS_LABOR_SHARE, PARAMS, in_domain

BASE = dict(labor=1.0, labor_share=0.6, price=1.0, productivity=1.0, externality=0.5,
            cost=0.1, scale=0.1, subsidy=0.1, cost_subsidy=0.2)


def _probes(p, alpha):
    """Values at and next to each bound of p, and non-finite ones."""
    high = 1.0 - alpha if p.high == ONE_MINUS_LABOR_SHARE else p.high
    vals = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, 2.0, -1.0, 1e300]
    for b in (p.low, high):
        if math.isfinite(b):
            vals += [b, np.nextafter(b, -math.inf), np.nextafter(b, math.inf)]
    return vals


def test_kernel_domain_check_matches_the_table():
    rows = []
    for p in PARAMS:
        for v in _probes(p, BASE["labor_share"]):
            for sector in (0, 1):
                if p.per == "point" and sector:
                    continue
                row = dict(BASE)
                if p.per == "point":
                    row[p.name] = v
                else:
                    row[p.name] = [BASE[p.name], v] if sector else [v, BASE[p.name]]
                rows.append(row)
    # (probes of labor_share near 1 also put scale = 0.1 above 1 - labor_share)
    block = {}
    for p in PARAMS:
        vals = [r[p.name] for r in rows]
        block[p.name] = (np.array(vals, float) if p.per == "point"
                         else np.array([v if isinstance(v, list) else [v, v] for v in vals], float))
    x = make_inputs(block)
    ok = np.empty(len(rows), np.bool_)
    block_in_domain(x, ok)
    want = np.ones(len(rows), bool)
    for p in PARAMS:
        arr = getattr(x, p.name)
        alpha = x.labor_share if p.per == "point" else x.labor_share[:, None]
        good = in_domain(p.name, arr, labor_share=alpha)
        want &= good if p.per == "point" else good.all(axis=1)
    assert (ok == want).all()
    assert (~ok).sum() > 50 and ok.sum() > 20  # both sides are exercised
    out = kernels.solve(**block)
    assert ((out["status"] & INVALID_INPUT != 0) == ~want).all()
    assert np.isnan(out["welfare_nc"][~want]).all()
    assert np.isfinite(out["welfare_nc"][want]).all()


def test_one_value_outside_marks_exactly_its_point():
    """A block whose values are all inside but one (the check's fast pass
    finds none outside in the other fields, and must still find this one,
    in whichever field and position it is)."""
    npts, nsec = 7, 3
    for p in PARAMS:
        high = 1.0 - BASE["labor_share"] if p.high == ONE_MINUS_LABOR_SHARE else p.high
        bad = [math.nan, math.inf]
        bad += [np.nextafter(p.low, -math.inf)] if math.isfinite(p.low) else []
        bad += [high if not p.high_closed else np.nextafter(high, math.inf)] \
            if math.isfinite(high) else []
        for v in bad:
            for where in (0, 3, npts - 1):
                block = {q.name: np.full(npts if q.per == "point" else (npts, nsec),
                                         BASE[q.name]) for q in PARAMS}
                if p.per == "point":
                    block[p.name][where] = v
                else:
                    block[p.name][where, where % nsec] = v
                ok = np.empty(npts, np.bool_)
                block_in_domain(make_inputs(block), ok)
                assert ok.tolist() == [q != where for q in range(npts)], (p.name, v, where)
