"""What a figure shows, before anything is drawn: the variables that can
be plotted, how each is classified (categorical, bit field, boolean,
count, continuous), the checked arguments and the slice of the store they
select (failed and uncomputed points masked), and the categories present
(engine/viz/plot.py draws them)."""
import math

import numpy as np

from coordsweep.engine.analysis.flags import describe_status, flags
from coordsweep.engine.analysis.geometry import (computed_mask, mask_uncomputed, sector_names,
                                                 sweep_axes)
from coordsweep.engine.analysis.results import code_counts, valid
from coordsweep.engine.errors import UsageError
from coordsweep.kernels import codes
from coordsweep.kernels.outputs import EQUILIBRIUM_DIM, OUTPUT

#: bookkeeping variables that are never plotted
IGNORED_VARS = ("chunk_done",)
_OUTPUT_DTYPES = {o.name: np.dtype(o.dtype) for o in OUTPUT.values()}
#: counts with at most this many distinct values get a discrete colour map
MAX_DISCRETE_COUNT = 12



def plottable_variables(ds):
    """Variables that can be plotted (everything but the completion record)."""
    return [str(v) for v in ds.data_vars
            if v not in IGNORED_VARS and "chunk" not in ds[v].dims]


#: status bits whose points are not plotted (their numbers are not trusted)
FAILED_BITS = (codes.WAGE_NOT_CONVERGED | codes.PATH_NOT_CONVERGED | codes.NON_FINITE
               | codes.INVALID_INPUT)


def mask_failed(ds, da, var):
    """A float ``da`` with NaN where ``status`` has a failure bit (a root
    finder that did not converge, a non-finite value, invalid input): those
    numbers are not trusted, so they are drawn as missing. Categorical and
    boolean outputs (decided by signs, drawn with their own colours) and
    ``status`` itself are not masked."""
    if var == "status" or "status" not in ds.data_vars or da.dtype.kind != "f":
        return da
    st = np.asarray(ds["status"].values).astype(np.int64)
    failed = (st & FAILED_BITS) != 0
    failed &= (st & codes.NOT_COMPUTED) == 0
    if not failed.any():
        return da
    import xarray as xr
    return da.where(~xr.DataArray(failed, dims=ds["status"].dims))


def solved_share(ds, selection=None):
    """The share of solved points of a refined store (its ``computed``
    variable) in the slice `selection` ({axis: coordinate}), else None."""
    if "computed" not in ds.data_vars or not ds.attrs.get("refine"):
        return None
    c = ds["computed"]
    for k, v in (selection or {}).items():
        if k in c.dims:
            c = c.sel({k: v})
    a = np.asarray(c.values)
    return float(a.mean()) if a.size else None


def refined_outputs(ds):
    """{(output, sector name or None)} filled at the points a refined store
    did not solve (its attribute refine)."""
    table = ds.attrs.get("refine") or {}
    out = set()
    sectors = (table.get("sectors") or [str(s) for s in np.asarray(ds["sector"].values)]
               if "sector" in ds.coords else [])
    for name in table.get("on", []):
        if name in ds.data_vars and "sector" in ds[name].dims:
            out.update((name, s) for s in sectors)
        else:
            out.add((name, None))
    return out


def variable_kind(da, name=None):
    """Classify a variable for plotting.

    Returns (kind, categories): kind is "categorical" (CF flag_values),
    "bitfield" (CF flag_masks), "bool", "count" (integer) or "continuous";
    categories is {code: name} for categorical / bool, the {mask: name}
    bits for bitfield, else None.
    """
    kind, categories = flags(da)
    if kind is not None:
        return kind, categories
    name = name if name is not None else da.name
    dtype = _OUTPUT_DTYPES.get(name, da.dtype)
    if da.dtype == np.bool_ or dtype == np.bool_:
        return "bool", {0: "false", 1: "true"}
    if np.issubdtype(da.dtype, np.integer) or np.issubdtype(dtype, np.integer):
        return "count", None
    return "continuous", None


# --------------------------------------------------------------------------
# argument checking and slicing

def check_size(width, height, dpi):
    for label, v in (("width", width), ("height", height), ("dpi", dpi)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise UsageError(f"{label} must be a positive integer, got {v!r}")
    if width < 100 or height < 100:
        raise UsageError(f"figure too small: {width}x{height} pixels (at least 100x100)")


def _check_axis(ds, axes, name, role):
    if name not in axes:
        valid = ", ".join(axes) if axes else "(none: the store has no sweep axes)"
        raise UsageError(f"unknown axis {name!r} for {role}; valid axes: {valid}")


def resolve(ds, *, x, var, y, sector, select):
    """Validate the arguments; return (DataArray slice, selection dict, sector)."""
    axes = sweep_axes(ds)
    valid_vars = plottable_variables(ds)
    if var not in valid_vars:
        raise UsageError(f"unknown variable {var!r}; valid variables: {', '.join(valid_vars)}")
    if x is None:
        raise UsageError(f"x is required; valid axes: {', '.join(axes)}")
    _check_axis(ds, axes, x, "x")
    if y is not None:
        if len(axes) < 2:
            raise UsageError(f"y={y!r} asks for a 2-D map but the store has one axis ({x})")
        _check_axis(ds, axes, y, "y")
        if y == x:
            raise UsageError(f"x and y are the same axis {x!r}")
    da = ds[var]
    select = dict(select or {})
    if "sector" in select:
        s = select.pop("sector")
        if sector is not None and sector != s:
            raise UsageError(f"sector given twice: {sector!r} and select sector={s!r}")
        sector = s

    names = sector_names(ds)
    if "sector" in da.dims:
        if sector is None:
            raise UsageError(f"variable {var!r} is per sector: give a sector, one of: "
                             f"{', '.join(names)}")
        if isinstance(sector, (int, np.integer)) and not isinstance(sector, bool):
            if not 0 <= sector < len(names):
                raise UsageError(f"unknown sector index {sector}; valid sectors: "
                                 f"{', '.join(f'{i}={n}' for i, n in enumerate(names))}")
            sector = names[int(sector)]
        elif str(sector) not in names:
            raise UsageError(f"unknown sector {sector!r}; valid sectors: {', '.join(names)}")
        sector = str(sector)
        da = da.isel(sector=names.index(sector))
    elif sector is not None:
        raise UsageError(f"variable {var!r} is per point, not per sector: drop sector={sector!r}")
    rank = select.pop(EQUILIBRIUM_DIM, None)
    if EQUILIBRIUM_DIM in da.dims:
        k = ds.sizes[EQUILIBRIUM_DIM]
        if rank is None or float(rank) != int(float(rank)) or not 0 <= int(float(rank)) < k:
            got = "" if rank is None else f" (got {rank!r})"
            raise UsageError(f"variable {var!r} is per listed equilibrium: select "
                             f"{EQUILIBRIUM_DIM}=RANK, 0 (the best) .. {k - 1}{got}")
        da = da.isel({EQUILIBRIUM_DIM: int(float(rank))})
        if var == "eq_mask":  # an empty slot is not a cooperation set
            from coordsweep.engine.store.conventions import EQ_MASK_FILL
            da = da.where(da != EQ_MASK_FILL)
    elif rank is not None:
        raise UsageError(f"variable {var!r} is not per listed equilibrium: drop "
                         f"{EQUILIBRIUM_DIM}={rank!r}")

    chosen = {}
    for ax, value in select.items():
        if ax not in axes:
            raise UsageError(f"unknown axis {ax!r} in select; valid axes: {', '.join(axes)}")
        if ax in (x, y):
            raise UsageError(f"axis {ax!r} is plotted ({'x' if ax == x else 'y'}); "
                             f"it cannot also be selected")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"select {ax}={value!r}: not a number") from None
        c = np.asarray(ds[ax].values, dtype=float)
        lo, hi = float(np.min(c)), float(np.max(c))
        tol = 1e-9 * max(hi - lo, abs(lo), abs(hi), 1e-300)
        if not (math.isfinite(v) and lo - tol <= v <= hi + tol):
            raise UsageError(f"select {ax}={value!r} is outside the axis' values "
                             f"[{lo:g}, {hi:g}]")
        i = int(np.argmin(np.abs(c - v)))
        chosen[ax] = (i, float(c[i]))
    free = [ax for ax in axes if ax not in (x, y) and ax not in chosen and ds.sizes[ax] > 1]
    if free:
        raise UsageError("fix the free axes with select (axis=value): "
                         + ", ".join(f"{ax} ({ds.sizes[ax]} values, "
                                     f"{float(ds[ax].min()):g}..{float(ds[ax].max()):g})"
                                     for ax in free))
    da = mask_failed(ds, da, var)
    da = mask_uncomputed(da, computed_mask(ds))
    isel = {ax: i for ax, (i, _) in chosen.items()}
    for ax in axes:
        if ax not in (x, y) and ax not in chosen:        # length 1
            isel[ax] = 0
            chosen[ax] = (0, float(ds[ax].values[0]))
    da = da.isel(isel)
    selection = {ax: chosen[ax][1] for ax in axes if ax in chosen}
    return da, selection, sector


def categorize(var, kind, categories, values):
    """Codes present, {code: name}, {name: count} for a discrete array."""
    found, n_missing = code_counts(values)
    present = list(found)
    if kind == "bool":
        names = {c: categories.get(c, str(c)) for c in present}
        cats = dict(categories)
    elif kind == "categorical":
        names = {c: categories.get(c, f"unknown({c})") for c in present}
        cats = dict(categories)
        cats.update({c: n for c, n in names.items() if c not in categories})
    elif kind == "bitfield":
        names = {c: "+".join(describe_status(c, categories)) for c in present}
        cats = dict(names)
    else:  # count
        names = {c: str(c) for c in present}
        cats = dict(names)
    counts = {names[c]: n for c, n in found.items()}
    if n_missing:
        counts["missing"] = n_missing
    return present, names, cats, counts


def is_discrete(kind, arr):
    """Categories, bits and booleans are discrete; counts when few and close."""
    if kind != "count":
        return kind in ("categorical", "bitfield", "bool")
    distinct = np.unique(arr[valid(arr)])
    return bool(distinct.size <= MAX_DISCRETE_COUNT and
                (distinct.size == 0 or
                 distinct.max() - distinct.min() <= 2 * MAX_DISCRETE_COUNT))
