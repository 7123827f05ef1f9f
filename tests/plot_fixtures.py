"""Synthetic results stores for the plotting and report tests.

They follow the store layout of CONTRACT.md (one dim per axis in spec order,
then "sector"; every output of kernels/outputs.py with its attrs; CF flag
attributes on the categorical variables; a "chunk_done" record; provenance
attributes) but hold *structured, known* content instead of model results,
so the tests can predict what a figure or a table must show:

- ``regime[..., s]`` is ``regime_fn(idx, s)`` where ``idx`` are the integer
  grid indices of the axes (default: ``(i0 // 4 + i1 // 3 + s) % 6``, so all
  six regimes appear);
- ``n_equilibria = 1 + (i0 + 2 i1) % 4``;
- ``target_ca = i0 % N``, ``target_cluster = N - 1``,
  ``target_best = target_ca`` where ``i0 < n0 / 2``, else ``target_cluster``;
- ``status``: PATH_SHAPE where ``i0 == 1``; WAGE_NOT_CONVERGED | NON_FINITE
  where ``i0 == 2`` and ``i1 == 0``; 0 elsewhere;
- continuous outputs are smooth functions of the axis values; the per-sector
  ones hold NaN / +inf where MODEL.md says so (by regime).
"""
import numpy as np
import xarray as xr

import specs
from coordsweep.kernels import codes
from coordsweep.kernels.outputs import OUTPUTS

SPEC_TEXT = specs.spec_text(
    "synthetic <test> & co",
    specs.only(specs.EDIT_SECTORS[:1], "price", "productivity", "externality", "cost"),
    comment="labour share must satisfy 0 < alpha < 1 & the spec text is escaped")

DEFAULT_AXES = {
    "externality_scale": (np.linspace(0.0, 2.0, 21), "externality scale factor"),
    "cost_scale": (np.geomspace(0.01, 1.0, 11), "cost scale factor"),
    "labor_share": (np.array([0.5, 0.6, 0.7]), "labour share alpha"),
}
DEFAULT_SECTORS = ("agro", "textiles", "software")

VERSIONS = {
    "coordsweep_version": "0.1.0-test",
    "numba_version": "0.60.0-test",
    "numpy_version": np.__version__,
    "dask_version": "2024.6.0-test",
    "xarray_version": xr.__version__,
    "zarr_version": "3.0.0-test",
}


def default_regime(idx, s):
    i0 = idx[0]
    i1 = idx[1] if len(idx) > 1 else 0
    return (i0 // 4 + i1 // 3 + s) % 6


def halves_regime(idx, s):
    """coordination_failure on the lower half of axis 0, not_worth on the upper."""
    n0 = idx[0].shape[0]
    return np.where(idx[0] < n0 // 2, codes.COORDINATION_FAILURE, codes.NOT_WORTH)


def make_dataset(axes=None, sectors=DEFAULT_SECTORS, *, regime_fn=default_regime,
                 complete=True, title="synthetic", n_chunks=4):
    """Build an in-memory Dataset with the store layout (see module doc).

    axes: dict name -> (values, long_name) in spec order (default DEFAULT_AXES).
    """
    axes = dict(DEFAULT_AXES if axes is None else axes)
    names = list(axes)
    vals = [np.asarray(v[0], dtype=np.float64) for v in axes.values()]
    shape = tuple(len(v) for v in vals)
    nsec = len(sectors)
    idx = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    grid = np.meshgrid(*vals, indexing="ij")
    a0 = grid[0] if grid else np.float64(1.0)
    a1 = grid[1] if len(grid) > 1 else np.ones(shape)
    i0 = idx[0] if idx else np.zeros(shape, int)
    i1 = idx[1] if len(idx) > 1 else np.zeros(shape, int)

    regime = np.stack([np.broadcast_to(regime_fn(idx, s), shape) for s in range(nsec)],
                      axis=-1).astype(np.int8)
    sec = np.arange(nsec)
    base = (1.0 + a0)[..., None] * (1.0 + 0.1 * sec)

    data = {}
    data["wage_nc"] = 0.6 * (1.0 + 0.1 * a0)
    data["welfare_nc"] = 1.0 + 0.5 * a0 - 0.2 * a1
    data["n_equilibria"] = (1 + (i0 + 2 * i1) % 4).astype(np.int64)
    data["has_partial"] = (regime == codes.PARTIAL_COORDINATION).any(axis=-1)
    data["coordination_gap"] = 0.1 * a0 * (1.0 - 0.5 * a1)
    data["provision_gap"] = 0.05 * a1 + 0.01 * a0
    data["welfare_best_eq"] = data["welfare_nc"] + data["coordination_gap"]
    data["wage_best_eq"] = data["wage_nc"] * 1.1
    data["welfare_fb"] = data["welfare_best_eq"] + data["provision_gap"]
    tca = (i0 % nsec).astype(np.int64)
    tcl = np.full(shape, nsec - 1, dtype=np.int64)
    data["target_ca"] = tca
    data["target_cluster"] = tcl
    data["target_best"] = np.where(i0 < shape[0] // 2 if shape else True, tca, tcl)
    data["gain_ca"] = 0.02 * a0
    data["gain_cluster"] = 0.03 * a1
    data["gain_best"] = np.maximum(data["gain_ca"], data["gain_cluster"])
    data["fiscal_cost_nc"] = np.zeros(shape)
    status = np.zeros(shape, dtype=np.int8)
    status[i0 == 1] |= codes.PATH_SHAPE
    status[(i0 == 2) & (i1 == 0)] |= codes.WAGE_NOT_CONVERGED | codes.NON_FINITE
    data["status"] = status

    has_cm = (regime == codes.COORDINATION_FAILURE) | (regime == codes.PARTIAL_COORDINATION)
    data["regime"] = regime
    data["critical_mass"] = np.where(has_cm, 0.3 + 0.0 * base, np.nan)
    data["critical_mass"][regime == codes.SPONTANEOUS] = 0.0
    data["partial_share"] = np.where(regime == codes.PARTIAL_COORDINATION, 0.7, np.nan)
    data["gain_coordinate"] = np.where(regime == codes.INERT, 0.0, 0.01 * base)
    tw = 0.8 * base
    tw[regime == codes.SPONTANEOUS] = np.inf
    tw[regime == codes.INERT] = np.nan
    data["threshold_wage"] = tw
    data["subsidy_needed"] = np.where(regime == codes.INERT, np.nan, 0.1 * base)
    data["coop_best_eq"] = regime == codes.COORDINATION_FAILURE
    data["coop_fb"] = (regime == codes.COORDINATION_FAILURE) | (regime == codes.NEEDS_SUBSIDY)

    coords = {n: (n, v, {"long_name": ln}) for n, v, (_, ln) in zip(names, vals, axes.values())}
    coords["sector"] = ("sector", np.array(list(sectors), dtype=str))
    dvars = {}
    for o in OUTPUTS:
        dims = tuple(names) + (("sector",) if o.per == "sector" else ())
        arr = np.broadcast_to(np.asarray(data[o.name]), tuple(shape) + ((nsec,) if o.per == "sector" else ()))
        attrs = {"long_name": o.long_name}
        if o.units:
            attrs["units"] = o.units
        dvars[o.name] = (dims, np.array(arr, dtype=o.dtype), attrs)
    dvars["regime"][2].update(flag_values=list(range(6)),
                              flag_meanings=" ".join(codes.REGIME_NAMES))
    for t in ("target_ca", "target_cluster", "target_best"):
        dvars[t][2].update(flag_values=list(range(nsec)), flag_meanings=" ".join(sectors))
    dvars["status"][2].update(flag_masks=[b for b, _, _ in codes.STATUS_BITS],
                              flag_meanings=" ".join(n for _, n, _ in codes.STATUS_BITS))
    # chunks as engine/spec/layout.py cuts them: a run of axis 0, later axes whole
    c0 = -(-shape[0] // n_chunks) if shape else 1
    chunk_shape = [c0] + list(shape[1:]) if shape else []
    n_chunks = -(-shape[0] // c0) if shape else 1
    done = np.ones(n_chunks, dtype=np.int8)
    if not complete:
        # chunk n_chunks // 2 never written: rows MISSING_ROWS of axis 0 hold
        # the zarr fill values (NaN for floats, 0 for ints, False for bools)
        k = n_chunks // 2
        done[k] = 0
        rows = slice(k * c0, min((k + 1) * c0, shape[0]))
        for name in dvars:
            arr = dvars[name][1]
            arr[rows] = np.nan if arr.dtype.kind == "f" else 0
    dvars["chunk_done"] = ("chunk", done, {"long_name": "completion record: 1 when the "
                                                      "chunk is written"})

    attrs = {"spec": SPEC_TEXT, "complete": bool(complete), "chunks_done": int(done.sum()),
             "chunks_total": int(n_chunks), "chunk_shape": chunk_shape,
             "created": "2025-01-02T03:04:05+00:00", **VERSIONS}
    if title is not None:
        attrs["title"] = title
    return xr.Dataset(dvars, coords=coords, attrs=attrs)


def missing_rows(ds):
    """Indices along axis 0 of the unwritten chunk of an incomplete dataset."""
    done = np.asarray(ds["chunk_done"].values)
    c0 = ds.attrs["chunk_shape"][0]
    k = int(np.flatnonzero(done == 0)[0])
    n0 = ds.sizes[ds["wage_nc"].dims[0]]
    return np.arange(k * c0, min((k + 1) * c0, n0))


def two_halves_dataset():
    """2-D store: regime of every sector is coordination_failure for the lower
    half of externality_scale (indices 0..9 of 20) and not_worth above."""
    axes = {
        "externality_scale": (np.linspace(0.0, 1.9, 20), "externality scale factor"),
        "cost_scale": (np.linspace(0.5, 1.5, 10), "cost scale factor"),
    }
    return make_dataset(axes, regime_fn=halves_regime)


def one_axis_dataset():
    axes = {"cost_scale": (np.geomspace(0.1, 10.0, 9), "cost scale factor")}
    return make_dataset(axes, sectors=("agro", "software"))


def to_store(ds, path):
    """Write ``ds`` as a zarr store and reopen it the way users do."""
    ds.to_zarr(path, mode="w")
    return xr.open_zarr(path)
