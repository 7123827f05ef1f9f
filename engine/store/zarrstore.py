"""The results store: an xarray Dataset in zarr (CONTRACT.md "Results store").

Life of a store:
1. ``create``: the template (metadata, coordinates, attributes) is written
   with the zarr API, exactly what xarray's ``to_zarr(compute=False)`` of
   :func:`template` would write (no dask, no Dataset built): no data yet,
   ``complete = False``.
2. ``write_chunk`` (on the workers): one task writes whole, aligned zarr
   chunks of every variable, then sets its element of ``chunk_done``, the
   completion record (one zarr chunk per element, so writers never share a
   chunk). A crash between the two leaves the chunk unmarked, and
   ``--resume`` recomputes it: a chunk is never read as complete when it
   is not.
3. ``finalize``: ``complete = True`` once every element of ``chunk_done`` is set.

Opening: ``open_dataset`` (xarray), ``open_group`` (zarr, chunk by chunk),
``exists``, ``read_attrs`` and ``existing`` (refuse what is not a coordsweep
store) and ``done_chunks``. What the stored values mean and count (summaries, the
``inspect`` text) is engine/analysis/results.py.
"""
import base64
import datetime
import struct

import numpy as np

from coordsweep.engine.store.arrays import Lazy  # noqa: F401 - template arrays
from coordsweep.engine.store.arrays import quiet as _quiet

from coordsweep.engine.store import conventions
from coordsweep.engine.errors import StoreError
from coordsweep.engine.store.provenance import versions
from coordsweep.kernels.codes import NO_CATEGORY, NOT_COMPUTED
from coordsweep.kernels.outputs import EQUILIBRIUM_DIM, OUTPUT

def variable_attrs(name, per, units, long_name, sector_names, dtype=None):
    """CF attributes of an output (engine/store/conventions.py)."""
    from coordsweep.engine.store.conventions import output_attrs
    if dtype is None:
        dtype = OUTPUT[name].dtype
    return output_attrs(name, dtype, units, long_name, sector_names)


def run_token(run_id):
    """The int64 a run writes into `chunk_done` (never 0, the fill value)."""
    import hashlib
    if not run_id:
        return 1
    return int(hashlib.sha256(str(run_id).encode()).hexdigest()[:15], 16) | 1


def contents(spec, layout, run_id=None):
    """What a new store holds: (coords, data_vars, attrs), each variable
    (dims, values, attrs) with values a NumPy array (written with the
    template) or a :class:`Lazy` (no data yet). The one description of the
    template: :func:`template` (xarray) and :func:`create` (zarr) both
    read it."""
    dims = spec.dims
    coords = {}
    for axis in spec.axes:
        coords[axis.name] = (axis.name, np.asarray(axis.values, np.float64),
                             conventions.axis_attrs(
                                 axis, spec.sector_names,
                                 conventions.axis_long_name(axis, spec.sector_names)))
    if spec.design is not None:  # its points: written by designcoords.write_coords
        from coordsweep.engine.store import designcoords
        coords.update(designcoords.template_coords(
            spec, layout, lambda p: conventions.axis_long_name(p, spec.sector_names)))
        for p in spec.design.params:  # CF: units from kernels/params.py
            coords[p.name][2].setdefault("units", conventions.param_units(p))
    coords["sector"] = ("sector", *conventions.sector_coord(spec.sector_names))
    neq = spec.outputs["equilibria"]
    if neq:
        coords[EQUILIBRIUM_DIM] = (EQUILIBRIUM_DIM, *conventions.equilibrium_coord(neq))
    coords["chunk"] = ("chunk", *conventions.chunk_coord(layout.nchunks))
    trailing = {"point": (), "sector": ("sector", spec.n_sectors),
                "equilibrium": (EQUILIBRIUM_DIM, neq)}
    data_vars = {}
    for o in spec.output_rows:
        extra = trailing[o.per]
        shape = layout.shape + extra[1:]
        chunks = layout.chunks + extra[1:]
        data_vars[o.name] = (dims + extra[:1], Lazy(shape, o.dtype, chunks),
                             variable_attrs(o.name, o.per, o.units, o.long_name,
                                            spec.sector_names, o.dtype))
    from coordsweep.engine.spec import refine as zrefine
    refinement = zrefine.of_spec(spec)
    if refinement is not None:
        data_vars["computed"] = (dims, Lazy(layout.shape, np.bool_, layout.chunks),
                                 {"long_name": "the point was solved (False: its refined "
                                  "outputs are filled from the corners of its cell, see "
                                  "the attribute refine)"})
    record_attrs = dict(conventions.chunk_record_attrs())
    record_attrs["long_name"] = ("completion record: the store's run token (attribute "
                                 "run_token) when the chunk is written (chunks in C order "
                                 "over the axes)")
    record_attrs["flag_values"] = np.array([0, run_token(run_id)], dtype=np.int64)
    data_vars["chunk_done"] = (("chunk",), Lazy((layout.nchunks,), np.int64, (1,)),
                               record_attrs)
    attrs = {
        **conventions.global_attrs(spec.name),
        "spec": spec.text,
        "spec_source": str(spec.source),
        **versions(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "complete": 0,  # an int: netCDF has no boolean attributes
        "chunks_total": layout.nchunks,
        "chunks_done": 0,
        "chunk_shape": list(layout.chunks),
        "sector_names": list(spec.sector_names),
        "run_id": run_id or "",
        "run_token": run_token(run_id),
        **(spec.design.attrs() if spec.design is not None else {}),
    }
    if refinement is not None:
        attrs["refine"] = zrefine.record(refinement, spec)
    return coords, data_vars, attrs


def template(spec, layout, run_id=None):
    """The lazy Dataset of a sweep: dask-backed, never computed (the
    in-memory run of engine/api.py fills it; :func:`encoding` is how
    ``to_zarr`` would store it, which :func:`create` writes without
    xarray or dask)."""
    import dask.array as da
    import xarray as xr

    def lazy(var):
        dims, values, attrs = var
        if isinstance(values, Lazy):
            values = da.zeros(values.shape, dtype=values.dtype, chunks=values.chunks)
        return dims, values, attrs

    coords, data_vars, attrs = contents(spec, layout, run_id)
    return xr.Dataset({k: lazy(v) for k, v in data_vars.items()},
                      coords={k: lazy(v) for k, v in coords.items()}, attrs=attrs)


def compressors(dtype, refined=False):
    """The outputs' compressor (zarr v3 core codec blosc): lz4 after a byte
    shuffle of the element size. Measured on 180,000 solved points of
    benchmarks/grid_3sectors.toml (e2e_breakdown.py --codecs): 2.89 times
    smaller than raw, like zstd level 3 (zarr's default, 2.93), at about a
    third of its encoding time. A refined store
    (engine/run/refine.py: mostly fill values) takes lz4 without the
    shuffle: on 10^5 values of which 2% are numbers, the shuffle takes
    about three times lz4's time and the result is larger."""
    from zarr.codecs import BloscCodec
    return (BloscCodec(cname="lz4", clevel=5, shuffle="noshuffle" if refined else "shuffle",
                       typesize=np.dtype(dtype).itemsize),)


#: the chunk files of the arrays written chunk by chunk (outputs, the
#: completion record, a design's coordinates): ``c.I.J.K`` in the array's
#: own directory, not zarr's default nested ``c/I/J/K``. A task writes one
#: chunk of every output, and the nested form makes two or three new
#: directories for each of them: about 40% of the CPU of writing a chunk
#: on this machine's ext4 (benchmarks/e2e_breakdown.py). Stores written
#: with either form are read, resumed and verified alike (the keys come
#: from each array's metadata).
CHUNK_KEYS = {"name": "default", "separator": "."}


#: the trailing dimensions of per-sector and per-equilibrium outputs
TRAILING_DIMS = ("sector", EQUILIBRIUM_DIM)


def sector_major(ndim):
    """The filter of a float output with a trailing sector (or equilibrium)
    dimension: zarr v3's transpose codec, the trailing axis first, so a
    chunk is compressed one sector after the other (each sector's values
    over the grid, smooth neighbours) rather than the sectors interleaved
    point by point. Readers see the same array (zarr undoes it); on
    benchmarks/grid_3sectors_1e7.toml the five per-sector floats take
    42 bytes a point instead of 56 (the store 17% smaller) at the same
    compression time."""
    from zarr.codecs import TransposeCodec
    return (TransposeCodec(order=(ndim - 1, *range(ndim - 1))),)


def _encoding(name, dtype, chunks, refined=False, dims=()):
    """The zarr encoding of an array without data yet (an output, the
    completion record, a design's coordinate): its chunks, codecs and
    fill value (a float's NaN as xarray's ``_FillValue``). dims: the
    array's dimensions (a float with a trailing sector or equilibrium
    dimension is stored sector_major)."""
    dtype = np.dtype(dtype)
    e = {"chunks": tuple(chunks), "chunk_key_encoding": dict(CHUNK_KEYS)}
    if name != "chunk_done" and (name in _OUTPUT_NAMES or name in EXTRA_POINT_VARS):
        e["compressors"] = compressors(dtype, refined)
        if dtype.kind == "f" and len(dims) > 1 and dims[-1] in TRAILING_DIMS:
            e["filters"] = sector_major(len(chunks))
    if dtype.kind == "f":
        e["_FillValue"] = np.nan
    elif name == "status":
        # what a never-written chunk reads as: NaN for floats, the
        # NOT_COMPUTED bit for status, NO_CATEGORY (-1) for the other
        # integers (bools read False, with status telling why)
        e["fill_value"] = NOT_COMPUTED
    elif name == "eq_mask":  # an empty slot of the equilibrium list
        e["fill_value"] = conventions.EQ_MASK_FILL
    elif dtype.kind == "i" and name != "chunk_done":
        e["fill_value"] = NO_CATEGORY
    return e


_OUTPUT_NAMES = frozenset(OUTPUT)


def encoding(ds):
    """The ``encoding`` of ``template(...).to_zarr``: what :func:`create`
    writes (tests/test_store_template.py holds the two to the same
    metadata)."""
    enc = {}
    refined = "refine" in ds.attrs
    for name, var in ds.data_vars.items():
        enc[name] = _encoding(name, var.dtype, var.data.chunksize, refined, var.dims)
    for name, var in ds.coords.items():  # lazy coordinates: a design's points
        if var.chunks is not None:
            enc[name] = _encoding(name, var.dtype, var.data.chunksize)
    return enc


def _attr(value):
    """An attribute value as JSON (as xarray stores it: arrays as lists,
    NumPy scalars as Python numbers)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


#: a float's NaN fill value as xarray stores it in ``_FillValue`` (zarr v3:
#: the little-endian float64 bytes, base64)
_NAN_FILL_ATTR = base64.standard_b64encode(struct.pack("<d", float("nan"))).decode()


def _write_template(store, mode, coords, data_vars, attrs):
    """Write :func:`contents` with the zarr API: the metadata (and
    coordinate values) that ``template(...).to_zarr(compute=False,
    encoding=encoding(ds), consolidated=False, zarr_format=3)`` writes,
    without building a Dataset (no xarray, no dask: about 0.6 s of
    imports in a warm 1-point run)."""
    import zarr

    group = zarr.open_group(str(store), mode=mode, zarr_format=3, use_consolidated=False)
    group.attrs.put({k: _attr(v) for k, v in attrs.items()})

    def dims_of(var):
        return (var[0],) if isinstance(var[0], str) else tuple(var[0])

    # xarray's "coordinates" attribute: the coordinates that are not a
    # dimension (a design's points), on every other variable that has their dims
    extra = {name: dims_of(var) for name, var in coords.items() if dims_of(var) != (name,)}
    for name, var in {**coords, **data_vars}.items():
        dims, values, vattrs = dims_of(var), var[1], dict(var[2])
        on = sorted(c for c, cdims in extra.items()
                    if name not in extra and name not in dims and set(cdims) <= set(dims))
        if on:
            vattrs["coordinates"] = " ".join(on)
        if isinstance(values, Lazy):
            dtype, shape = values.dtype, values.shape
            enc = _encoding(name, dtype, values.chunks, "refine" in attrs, dims)
            kwargs = {"chunks": enc["chunks"], "fill_value": enc.get("fill_value"),
                      "chunk_key_encoding": enc["chunk_key_encoding"]}
            for key in ("compressors", "filters"):
                if key in enc:
                    kwargs[key] = enc[key]
        else:  # a coordinate's values, written now (zarr's default codecs)
            values = np.asarray(values)
            dtype, shape = values.dtype, values.shape
            kwargs = {"fill_value": None}  # (chunks: zarr's automatic choice)
            if dtype.kind == "O":  # strings: zarr v3 variable-length UTF-8
                dtype = str
        if np.dtype(dtype).kind == "f":
            kwargs["fill_value"] = np.nan
            vattrs["_FillValue"] = _NAN_FILL_ATTR
        arr = group.create(name, shape=shape, dtype=dtype, dimension_names=dims,
                           attributes={k: _attr(v) for k, v in vattrs.items()},
                           overwrite=False, config={}, **kwargs)
        if not isinstance(values, Lazy):
            arr[...] = values


def normalize(store):
    """A store location as zarr wants it: local paths (also file:// URLs)
    as plain paths, other URLs (s3://, gs://, memory://...) unchanged."""
    store = str(store)
    for prefix in ("file://localhost/", "file:///"):
        if store.startswith(prefix):
            return "/" + store[len(prefix):]
    if store.startswith("file://"):
        return store[len("file://"):]
    return store


def location(spec, store=None):
    """Where a run of `spec` writes: `store`, else the spec's default
    (engine/spec/model.py ``default_store``), normalized."""
    from coordsweep.engine.spec.model import default_store
    return normalize(store if store is not None else default_store(spec))


def _fs(store):
    import fsspec
    try:
        return fsspec.core.url_to_fs(str(store))
    except (ValueError, ImportError) as exc:  # unknown protocol, missing driver
        raise StoreError(f"{store}: cannot open this location ({exc})") from None


def exists(store):
    """Whether something is at the location (a directory or prefix holding
    only a lease, left by a run that died before its template, is not)."""
    from coordsweep.engine.store import lease
    fs, path = _fs(store)
    return fs.exists(path) and not lease.only_lease(store)


def read_attrs(store):
    """The store's dataset attributes; StoreError when the path holds
    something that is not a coordsweep store."""
    import zarr
    with _quiet():
        try:
            group = zarr.open_group(str(store), mode="r")
            attrs = dict(group.attrs)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ours"
            raise StoreError(f"{store}: exists but is not a zarr store "
                             f"written by coordsweep ({type(exc).__name__}: {exc})") from None
    if "coordsweep_version" not in attrs or "chunk_shape" not in attrs:
        raise StoreError(f"{store}: exists but is not a coordsweep results store; "
                         "refusing to touch it")
    return attrs


def existing(store):
    """The location of an existing coordsweep store (file:// URLs as paths);
    StoreError when there is none or it is not a coordsweep store."""
    path = normalize(store)
    if not exists(path):
        raise StoreError(f"{path}: no such store")
    read_attrs(path)
    return path


def clear(store):
    """Remove everything in the store but its lease."""
    from coordsweep.engine.store import lease
    fs, path = _fs(store)
    if not fs.exists(path):
        return
    for entry in fs.ls(path, detail=False):
        if entry.rstrip("/").rsplit("/", 1)[-1].startswith(lease.LEASE_NAME):
            continue
        fs.rm(entry, recursive=True)


def create(store, spec, layout, overwrite=False, run_id=None, attrs=None):
    """Write the template (with `attrs` added to the dataset attributes; the
    run's lease, if any, stays in place). With overwrite, the existing store
    is replaced; without it, a store that holds anything but a lease is
    refused."""
    coords, data_vars, all_attrs = contents(spec, layout, run_id)
    all_attrs.update(attrs or {})
    if overwrite:
        clear(store)
    elif exists(store):
        raise StoreError(f"{store}: already exists")
    fs, path = _fs(store)
    # "w-" where nothing is there yet (zarr refuses a store that appears
    # meanwhile: the guard of job-array parts on object stores); "a" beside
    # the run's lease
    mode = "a" if fs.exists(path) else "w-"
    with _quiet():
        _write_template(store, mode, coords, data_vars, all_attrs)


def done_chunks(store):
    """Boolean array: which chunks are complete (their record holds this
    store's run token; an element that does not decode counts as not done)."""
    import zarr
    with _quiet():
        group = zarr.open_group(str(store), mode="r")
        token = conventions.store_token(group.attrs)
        arr = group["chunk_done"]
        try:
            return conventions.chunks_done(arr[:], token)
        except Exception:  # noqa: BLE001 - a damaged record element
            out = np.zeros(arr.shape[0], bool)
            for k in range(arr.shape[0]):
                try:
                    out[k] = conventions.chunks_done(arr[k], token)
                except Exception:  # noqa: BLE001
                    out[k] = False
            return out


def chunk_is_done(store, chunk_id):
    """Whether one chunk is recorded complete by this store's run (reads
    one element of the record and the run token)."""
    import zarr
    with _quiet():
        group = zarr.open_group(str(store), mode="r")
        return bool(conventions.chunks_done(group["chunk_done"][int(chunk_id)],
                                            conventions.store_token(group.attrs)))


#: per-point variables a chunk may carry besides the outputs: ``computed``
#: (refined stores, engine/run/refine.py)
EXTRA_POINT_VARS = ("computed",)


def write_chunk(store, layout, chunk_id, outputs, nsec, run_id=None, token=1):
    """Write one chunk of every output in `outputs` ({name: (P,) or (P, M)
    array}: M sectors or equilibria; aligned region; or anything whose
    ``items()`` yields such pairs: each array is encoded before the next
    is taken, so they may share memory), then mark it done
    with the store's run token. With a run id, the run's hold on the
    store's lease is checked before writing and again before marking
    (lease.LeaseLost: nothing more is written). The chunks are encoded and
    stored in one batch (engine/store/chunkio.py)."""
    import zarr

    from coordsweep.engine.store import chunkio
    from coordsweep.engine.store import lease
    region = layout.region(chunk_id)
    rshape = layout.region_shape(chunk_id)
    lease.check(store, run_id)
    with _quiet(), zarr.config.set({"array.write_empty_chunks": True}):
        group = _writable(store, run_id)
        chunkio.write_chunks(group, (
            (name, region, a.reshape(rshape)) if a.ndim == 1 else
            (name, region + (slice(None),), a.reshape(rshape + a.shape[1:]))
            for name, a in outputs.items()))
        lease.check(store, run_id)
        # the marker as one more whole chunk (the record's chunks are one
        # element): no event-loop round trip
        chunkio.write_chunks(group, [("chunk_done", (slice(chunk_id, chunk_id + 1),),
                                      np.array([token], dtype=np.int64))])


#: (store, run_id) -> its group, opened once per run and process (the
#: arrays' metadata does not change while a run holds the lease)
_GROUPS = {}


def _writable(store, run_id):
    """The store's group, opened for writing, its arrays' metadata read
    once per run (a run id) and process: reading every array's zarr.json
    for every chunk cost about as much as the writes themselves."""
    import zarr
    if not run_id:
        return zarr.open_group(str(store), mode="r+")
    key = (str(store), run_id)
    cached = _GROUPS.get(key)
    if cached is None:
        group = zarr.open_group(str(store), mode="r+")
        cached = _ArrayCache(group)
        _GROUPS.clear()
        _GROUPS[key] = cached
    return cached


class _ArrayCache:
    """A zarr group whose arrays are opened once (group[name] reads metadata)."""

    def __init__(self, group):
        self.group = group
        self.arrays = {}

    def __getitem__(self, name):
        arr = self.arrays.get(name)
        if arr is None:
            arr = self.arrays[name] = self.group[name]
        return arr


def finalize(store):
    """Record completeness in the attributes (an int, 1 or 0) and, for a
    complete store, when it was completed (an incomplete one has no
    ``completed``); stores written before with consolidated metadata keep
    it up to date."""
    import zarr
    done = done_chunks(store)
    with _quiet():
        group = zarr.open_group(str(store), mode="r+")
        attrs = {"complete": int(done.all()), "chunks_done": int(done.sum())}
        if done.all():
            attrs["completed"] = datetime.datetime.now(datetime.timezone.utc) \
                .isoformat(timespec="seconds")
        elif "completed" in group.attrs:  # (a repaired store: complete no more)
            del group.attrs["completed"]
        group.attrs.update(attrs)
        if group.metadata.consolidated_metadata is not None:  # an older store
            zarr.consolidate_metadata(str(store))
    return bool(done.all())


def open_dataset(store):
    """The store as a Dataset (lazy), sector names as the sector coordinate."""
    import xarray as xr
    with _quiet():
        consolidated = None
        try:
            import zarr
            group = zarr.open_group(str(store), mode="r")
            consolidated = group.metadata.consolidated_metadata is not None
        except Exception:  # noqa: BLE001 - let xarray report what is wrong
            pass
        return conventions.decode_sectors(xr.open_zarr(str(store), consolidated=consolidated))


def open_group(store):
    """The store's zarr group, read only (for reading it chunk by chunk)."""
    import zarr
    with _quiet():
        return zarr.open_group(str(store), mode="r")


def update_attrs(store, attrs):
    """Add or replace dataset attributes of an existing store (analyses
    kept beside the results, e.g. ``discovery``); the outputs are not
    touched."""
    import zarr
    with _quiet():
        group = zarr.open_group(str(store), mode="r+")
        group.attrs.update({k: _attr(v) for k, v in attrs.items()})
        if group.metadata.consolidated_metadata is not None:  # an older store
            zarr.consolidate_metadata(str(store))
