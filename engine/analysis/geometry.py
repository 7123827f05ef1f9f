"""The shape of a results store as a Dataset: its sweep axes and
sectors, axis spacing, the chunk :class:`Layout`, and which points are
computed (from ``chunk_done``)."""
import numpy as np

from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.store.conventions import chunks_done, store_token
from coordsweep.kernels.outputs import EQUILIBRIUM_DIM, OUTPUT_NAMES

#: dims that are not sweep axes
NON_AXIS_DIMS = ("sector", "chunk", EQUILIBRIUM_DIM)


def sweep_axes(ds):
    """The sweep axes in spec order (the dims of the outputs, minus "sector")."""
    for name in OUTPUT_NAMES:
        if name in ds.data_vars:
            return tuple(d for d in ds[name].dims if d not in NON_AXIS_DIMS)
    return tuple(d for d in ds.dims if d not in NON_AXIS_DIMS)


def sector_names(ds):
    if "sector" not in ds.dims and "sector" not in ds.coords:
        return []
    return [str(s) for s in np.asarray(ds["sector"].values).tolist()]


def is_geometric(values, attrs=None):
    """True when the axis values form a geometric (not arithmetic) progression
    of at least 3 positive values, or the coordinate says spacing = "log"
    (spacing = "linear" says it is not)."""
    spacing = str((attrs or {}).get("spacing", "")).lower()
    if spacing == "log":
        return bool(np.all(np.asarray(values, dtype=float) > 0))
    if spacing == "linear":
        return False
    c = np.sort(np.asarray(values, dtype=float))
    if c.size < 3 or not np.all(np.isfinite(c)) or np.any(c <= 0):
        return False
    d = np.diff(c)
    if np.allclose(d, d[0], rtol=1e-6, atol=1e-12 * (c[-1] - c[0])):
        return False
    ld = np.diff(np.log(c))
    return bool(ld[0] > 0 and np.allclose(ld, ld[0], rtol=1e-6, atol=0))


def layout_of(ds):
    """The store's chunk :class:`Layout` (from its axes and the ``chunk_shape``
    attribute); None when the store does not say or says something invalid."""
    cs = ds.attrs.get("chunk_shape")
    if cs is None:
        return None
    axes = sweep_axes(ds)
    chunks = tuple(int(c) for c in np.atleast_1d(cs)) if axes else ()
    try:
        return Layout(tuple(int(ds.sizes[a]) for a in axes), chunks)
    except ValueError:
        return None


def computed_mask(ds):
    """Boolean DataArray over the sweep axes: False at points whose chunk is
    not yet written (per ``chunk_done`` and the store's chunk :class:`Layout`).
    None when every chunk is done or the store does not say how points map
    to chunks."""
    import xarray as xr
    if "chunk_done" not in ds.data_vars:
        return None
    done = chunks_done(ds["chunk_done"].values, store_token(ds.attrs)).ravel()
    if done.all():
        return None
    layout = layout_of(ds)
    if layout is None or layout.nchunks != done.size:
        return None
    mask = np.zeros(layout.shape, bool)
    for cid in np.flatnonzero(done):
        mask[layout.region(cid)] = True
    axes = sweep_axes(ds)
    return xr.DataArray(mask, dims=axes, coords={a: ds[a] for a in axes})


def mask_uncomputed(da, mask):
    """``da`` with NaN at uncomputed points (ints and bools become float)."""
    if mask is None:
        return da
    if da.dtype == np.bool_:
        da = da.astype(np.int8)
    return da.where(mask)
