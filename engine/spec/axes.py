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
import math

import numpy as np

#: the scale axes and the kernel input each one scales
SCALED_PARAM = {"externality_scale": "externality", "cost_scale": "cost",
                "ca_spread": "productivity"}
SCALE_AXES = tuple(SCALED_PARAM)
KINDS = SCALE_AXES + ("global_param", "sector_param")


#: a start/stop/num axis up to this many values is materialised when parsed
#: (np.linspace / np.geomspace, 80 MB at most); a longer one only when its
#: values are read, so a spec with a huge axis is refused by the size check
#: (engine/run/preflight.py), not by a MemoryError
EAGER_AXIS_VALUES = 10_000_000


class AxisRange(tuple):
    """start, stop, num of a ``start/stop/num`` axis not yet materialised."""
    __slots__ = ()

    def __new__(cls, start, stop, num):
        return super().__new__(cls, (float(start), float(stop), int(num)))


class Axis:
    """One sweep axis (one dimension of the grid). Compares by identity.

    ``values``: float64 coordinate values, in order (a long start/stop/num
    range is materialised on first use; ``len(axis)`` and :meth:`take`
    never materialise it)."""

    def __init__(self, name, values, kind, param=None, sector=None, spacing="values"):
        self.name = name  # as written: "externality_scale", "productivity.agro", "cost"
        self.kind = kind  # one of KINDS
        self.param = param  # sector_param / global_param: the parameter
        self.sector = sector  # "<param>.<sector>": sector index; None = all
        self.spacing = spacing  # linear | log | values
        if isinstance(values, AxisRange):
            self._range, self._values = values, None
        else:
            self._range, self._values = None, np.asarray(values, dtype=np.float64)

    @property
    def size(self):
        """The number of values (a Python int: may exceed what len() allows)."""
        return self._range[2] if self._values is None else len(self._values)

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"Axis({self.name!r}, {self.size} values, {self.kind})"

    @property
    def values(self):
        if self._values is None:
            self._values = range_values(*self._range, self.spacing)
        return self._values

    def take(self, i):
        """Values at indices i (an integer array), without materialising a
        long range: the same float operations as np.linspace / np.geomspace
        for each index (endpoints exact)."""
        if self._values is not None:
            return self._values[i]
        start, stop, num = self._range
        i = np.asarray(i, dtype=np.int64)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.spacing == "log":
                lo, hi = math.log10(start), math.log10(stop)
                v = 10.0 ** (lo + i * ((hi - lo) / (num - 1)))
            else:
                v = start + i * ((stop - start) / (num - 1))
        v = np.where(i == 0, start, np.where(i == num - 1, stop, v))
        return v.astype(np.float64)


def range_values(start, stop, num, spacing):
    """The values of a start/stop/num axis (np.geomspace for "log" spacing,
    else np.linspace), float64."""
    if spacing == "log":
        values = np.geomspace(start, stop, num)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            values = np.linspace(start, stop, num)
    return np.asarray(values, dtype=np.float64)


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
