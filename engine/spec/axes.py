"""Sweep axes: what an axis (or a design parameter) does to the kernel
inputs, written once.

An axis has a ``kind`` (CONTRACT.md "Axis names"): ``externality_scale``
and ``cost_scale`` multiply a sector parameter of every sector,
``ca_spread`` multiplies every productivity by exp(v k_i),
``global_param`` sets a global parameter, ``sector_param`` sets a sector
parameter of every sector or of one. :func:`apply_axis` is the one place
that turns a kind into array operations; ``Spec.fill`` (point by point)
and engine/spec/blocks.py (a chunk's box, by broadcasting) both call it,
so they do the same float operations (the same bits).
"""
from dataclasses import dataclass

import numpy as np

#: the scale axes and the kernel input each one scales
SCALED_PARAM = {"externality_scale": "externality", "cost_scale": "cost",
                "ca_spread": "productivity"}
SCALE_AXES = tuple(SCALED_PARAM)
KINDS = SCALE_AXES + ("global_param", "sector_param")


@dataclass(eq=False)
class Axis:
    """One sweep axis (one dimension of the grid).

    eq=False: instances compare by identity (a field-wise == would compare
    numpy arrays and raise)."""

    name: str  # as written: "externality_scale", "productivity.agro", "cost"
    values: np.ndarray  # float64 coordinate values, in order
    kind: str  # one of KINDS
    param: str | None = None  # sector_param / global_param: the parameter
    sector: int | None = None  # "<param>.<sector>": sector index; None = all
    spacing: str = "values"  # linear | log | values

    def __len__(self):
        return len(self.values)


def target(axis):
    """The kernel input an axis (or a design parameter) sets or scales."""
    return SCALED_PARAM.get(axis.kind, axis.param)


def apply_axis(params, axis, ca_weight, vals, a, m, b, index=None):
    """Apply `axis` in place to `params` (kernel inputs of P = a m b points
    in C order, arrays (P,) or (P, N), C-contiguous): the points are a runs
    of m values, each repeated b times; value y of a run is ``vals[y]``, or
    ``vals[index[y]]`` with an index (a ``ca_spread`` axis then takes exp
    once per value of `vals`, then gathers: the same bits)."""
    name = target(axis)
    arr = params[name]
    n = arr.shape[1] if arr.ndim == 2 else 1
    if axis.kind == "ca_spread":
        factor = np.exp(vals[:, None] * ca_weight[None, :])  # (values, N)
        if index is not None:
            factor = factor[index]
        if b == 1:
            arr.reshape(a, m * n)[...] *= factor.reshape(1, m * n)
        else:
            arr.reshape(a, m, b, n)[...] *= factor[None, :, None, :]
        return
    if index is not None:
        vals = vals[index]
    if axis.kind in SCALE_AXES:
        arr.reshape(a, m, b * n)[...] *= vals[None, :, None]
    elif axis.kind == "global_param" or axis.sector is None:
        arr.reshape(a, m, b * n)[...] = vals[None, :, None]
    elif axis.kind == "sector_param":
        arr.reshape(a, m, b, n)[..., axis.sector] = vals[None, :, None]
    else:  # pragma: no cover - parse_spec only makes the kinds above
        raise ValueError(f"unknown axis kind {axis.kind!r}")
