"""Reading results: what a store's variables mean and how many points say what.

One place for everything the run summary, ``coordsweep inspect``, ``plot``
and ``report`` read out of a results store (engine/store/zarrstore.py only writes and
opens stores):

- the store's shape: :func:`sweep_axes`, :func:`sector_names`,
  :func:`is_geometric` (axis spacing), :func:`computed_mask` (which points
  are written, from ``chunk_done`` and the chunk :class:`Layout`) and
  :func:`mask_uncomputed`;
- meanings: :func:`flags` (CF ``flag_values`` / ``flag_masks``),
  :func:`describe_status` (the names of a status code's bits);
- counts: :func:`code_counts`, :func:`regime_counts`, :func:`status_counts`,
  :func:`summary` (a whole store, chunk by chunk) and :func:`status_line`;
- provenance: :data:`VERSION_ATTRS` (engine/store/provenance.py);
- :func:`describe`: the text of ``coordsweep inspect``.
"""
from collections import Counter, namedtuple

import numpy as np

from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.store.provenance import VERSION_ATTRS  # noqa: F401 - shown with results
from coordsweep.kernels.codes import NOT_COMPUTED, REGIME_NAMES, STATUS_BITS
from coordsweep.kernels.outputs import OUTPUTS

#: dims that are not sweep axes
NON_AXIS_DIMS = ("sector", "chunk")
#: {bit: name} of the status bits (kernels/codes.py)
STATUS_NAMES = {bit: name for bit, name, _ in STATUS_BITS}
#: the bits a computed point can have (all but NOT_COMPUTED)
COMPUTED_STATUS_NAMES = {bit: name for bit, name in STATUS_NAMES.items() if bit != NOT_COMPUTED}
#: {bit: description} of the status bits
STATUS_DESCRIPTIONS = {bit: desc for bit, _, desc in STATUS_BITS}


# --------------------------------------------------------------------------
# the store's shape

def sweep_axes(ds):
    """The sweep axes in spec order (the dims of the outputs, minus "sector")."""
    for name, *_ in OUTPUTS:
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
    done = (np.asarray(ds["chunk_done"].values) == ds.attrs.get("run_token", 1)).ravel()
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


# --------------------------------------------------------------------------
# meanings

def _int_list(v):
    return [int(x) for x in np.atleast_1d(np.asarray(v)).tolist()]


def flags(da):
    """What the CF flag attributes of a variable say: ("categorical",
    {code: name}) for ``flag_values``, ("bitfield", {mask: name}) for
    ``flag_masks``, (None, None) for neither. Meanings that do not match the
    codes in number fall back to the codes (status bits to their names)."""
    attrs = da.attrs
    if "flag_values" in attrs and "flag_meanings" in attrs:
        vals = _int_list(attrs["flag_values"])
        meanings = str(attrs["flag_meanings"]).split()
        if len(meanings) != len(vals):
            meanings = [str(v) for v in vals]
        return "categorical", dict(zip(vals, meanings))
    if "flag_masks" in attrs:
        masks = _int_list(attrs["flag_masks"])
        meanings = str(attrs.get("flag_meanings", "")).split()
        if len(meanings) != len(masks):
            meanings = [STATUS_NAMES.get(m, f"bit{m}") for m in masks]
        return "bitfield", dict(zip(masks, meanings))
    return None, None


def describe_status(code, bits=None):
    """Names of the bits set in a status code ('ok' for 0, 'unknown(n)' for
    bits that ``bits`` ({mask: name}, default the kernels' bits) lacks)."""
    bits = STATUS_NAMES if bits is None else bits
    code = int(code)
    if code == 0:
        return ["ok"]
    names = [name for bit, name in bits.items() if code & bit]
    rest = code & ~sum(bits)
    if rest:
        names.append(f"unknown({rest})")
    return names


# --------------------------------------------------------------------------
# counts

def valid(a):
    """Where an array holds a value (not NaN, the mark of a masked point)."""
    a = np.asarray(a)
    return np.isfinite(a) if a.dtype.kind == "f" else np.ones(a.shape, bool)


def code_counts(values):
    """({code: count} in ascending code order, number of NaN entries) of an
    array of integer codes (NaN: not computed)."""
    v = np.asarray(values)
    ok = valid(v)
    c = v[ok].astype(np.int64).ravel()
    missing = int(v.size - c.size)
    if c.size and int(c.max()) - int(c.min()) <= max(4096, c.size):   # small codes: fast
        lo = int(c.min())
        counts = np.bincount(c - lo)
        return {int(k) + lo: int(counts[k]) for k in np.flatnonzero(counts)}, missing
    codes, counts = np.unique(c, return_counts=True)
    return dict(zip(codes.tolist(), counts.tolist())), missing


def regime_counts(regime):
    """Per sector (last axis of ``regime``), ``code_counts`` of its regimes:
    a list of ({regime code: points}, points not computed)."""
    a = np.asarray(regime)
    a = a.reshape(-1, a.shape[-1])
    return [code_counts(a[:, j]) for j in range(a.shape[1])]


StatusCounts = namedtuple("StatusCounts", "computed ok bits unknown missing")
StatusCounts.__doc__ = """Counts over the computed points of a status array:
computed points, points with status 0, {bit name: points with the bit set},
points with bits the names lack, and points not computed (NaN, or the
NOT_COMPUTED bit set: the store's fill value)."""


def status_counts(status, bits=None):
    """:class:`StatusCounts` of a status array; ``bits`` ({mask: name},
    default the kernels' bits) are the bits counted."""
    bits = STATUS_NAMES if bits is None else bits
    a = np.asarray(status).ravel()
    ok = valid(a)
    s = a[ok].astype(np.int64)
    s = s[(s & NOT_COMPUTED) == 0]
    return StatusCounts(
        computed=int(s.size), ok=int((s == 0).sum()),
        bits={name: int(((s & bit) != 0).sum()) for bit, name in bits.items()},
        unknown=int(((s & ~sum(bits)) != 0).sum()), missing=int(a.size - s.size))


def status_line(status):
    """'ok 9,990 of 10,000 computed points; path_shape 10' (and how many
    points are not computed yet)."""
    c = status_counts(status)
    parts = [f"ok {c.ok:,} of {c.computed:,} computed points"]
    parts += [f"{name} {count:,}" for name, count in c.bits.items() if count]
    if c.missing:
        parts.append(f"not computed yet {c.missing:,}")
    return "; ".join(parts)


def chunk_counts(regime, n_equilibria, status):
    """The counts of one chunk that :func:`summary` adds up: (per sector a
    Counter of regime codes, points with > 1 equilibrium, points with
    status 0, Counter of status bit names)."""
    per_sector = [Counter(c) for c, _ in regime_counts(regime)]
    multi = int((np.asarray(n_equilibria) > 1).sum())
    c = status_counts(status, COMPUTED_STATUS_NAMES)
    return per_sector, multi, c.ok, Counter(c.bits)


def summary(store, layout, known=None):
    """Counts over a complete store, read chunk by chunk (bounded memory).
    known: {chunk id: chunk_counts(...)} of chunks counted already (from
    the outputs a run wrote): those are not read again."""
    from coordsweep.engine.store import zarrstore as zstore
    known = known or {}
    per_sector = None   # a Counter of regime codes per sector (-1: not computed)
    multi = 0
    status_ok = 0
    status_bits = Counter({name: 0 for name in COMPUTED_STATUS_NAMES.values()})
    group = None
    for cid in range(layout.nchunks):
        counts = known.get(cid)
        if counts is None:
            if group is None:
                group = zstore.open_group(store)
            region = layout.region(cid)
            counts = chunk_counts(group["regime"][region + (slice(None),)],
                                  group["n_equilibria"][region], group["status"][region])
        sectors, m, ok, bits = counts
        per_sector = sectors if per_sector is None else [
            a + b for a, b in zip(per_sector, sectors)]
        multi += m
        status_ok += ok
        status_bits.update(bits)
    per_sector = np.array([[counts[k] for k in range(len(REGIME_NAMES))]
                           for counts in per_sector], dtype=np.int64)
    return {
        "points": layout.size,
        "share_multiple_equilibria": multi / layout.size,
        "regime_counts": {name: int(per_sector[:, k].sum())
                          for k, name in enumerate(REGIME_NAMES)},
        "regime_counts_per_sector": per_sector,
        "status_ok": status_ok,
        "status_bits": dict(status_bits),
    }


# --------------------------------------------------------------------------
# coordsweep inspect

def describe(store):
    """Text for `coordsweep inspect`: dims, variables, completeness, spec, versions."""
    from coordsweep.engine.store import zarrstore as zstore
    attrs = zstore.read_attrs(store)
    ds = zstore.open_dataset(store)
    done = zstore.done_chunks(store)
    lines = [f"store: {store}"]
    if attrs.get("title"):
        lines.append(f"title: {attrs['title']}")
    lines.append("complete: " + ("yes" if done.all() else "no")
                 + f" ({int(done.sum())}/{done.size} chunks done, "
                 + f"{100.0 * done.mean():.1f}%)")
    from coordsweep.engine.store.parts import describe_parts
    parts = describe_parts(attrs, done)
    if parts:
        lines.append(parts)
    lines.append("dimensions:")
    for dim, size in ds.sizes.items():
        if dim == "chunk":
            continue
        coord = ds[dim].values
        if coord.dtype.kind == "f" and size > 1:
            rng = f"{coord[0]:g} .. {coord[-1]:g}"
        else:
            rng = ", ".join(map(str, coord[:8])) + (", ..." if size > 8 else "")
        lines.append(f"  {dim}: {size}  [{rng}]")
    lines.append(f"points: {int(np.prod([ds.sizes[d] for d in sweep_axes(ds)])):,}")
    lines.append("status: " + status_line(np.asarray(ds.status.values).ravel()))
    if attrs.get("refine"):
        from coordsweep.engine.analysis import refined
        lines.extend(refined.describe(attrs, np.asarray(ds["computed"].values).ravel()
                                      if "computed" in ds else None))
    lines.append("variables:")
    # in the output table's order (zarr lists unconsolidated arrays in no fixed order)
    order = {name: k for k, (name, *_) in enumerate(OUTPUTS)}
    for name in sorted(ds.data_vars, key=lambda n: (order.get(n, len(order)), n)):
        var = ds[name]
        if name == "chunk_done":
            continue
        lines.append(f"  {name:17s} {str(var.dtype):8s} ({', '.join(var.dims)})  "
                     f"{var.attrs.get('long_name', '')}")
    lines.append("provenance:")
    for key in ("created", "completed", *VERSION_ATTRS, "spec_source"):
        if key in attrs:
            lines.append(f"  {key}: {attrs[key]}")
    lines.append("spec:")
    lines.extend("  " + line for line in attrs.get("spec", "").splitlines())
    return "\n".join(lines)
