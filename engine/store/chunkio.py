"""Writing whole zarr chunks fast: encode with the array's own codecs,
store the bytes in one batch.

A task of engine/run/runner.py writes exactly one zarr chunk of every output
(engine/spec/layout.py: chunks are aligned to the task's region). Going through
``zarr.Array.__setitem__`` costs about three times the compression itself
(a selection, a copy into a fresh chunk buffer and one event-loop round
trip per variable, measured by benchmarks/e2e_breakdown.py). Here every
chunk is encoded by the very codec objects of its array's metadata (so the
bytes are the ones zarr would write: tests/test_chunkio.py compares them)
and all of a task's chunks are stored in one batch: into a local
directory store written file by file from the calling thread (temporary
file, then rename, as zarr's LocalStore does), into any other store by one
``asyncio.gather`` of the store's own ``set``.

Only the plain layout takes this path: a regular chunk grid, codecs
``bytes`` then bytes-to-bytes codecs (zstd, blosc, ...), optionally
after array-to-array codecs (the transpose of per-sector outputs,
engine/store/zarrstore.py ``sector_major``), the region one
whole chunk (an edge chunk is padded with the fill value, as zarr does).
Anything else (sharding, a store written by another tool) falls back to
``__setitem__``.
"""
import contextlib
import itertools
import os
import uuid

import numpy as np


def _plan(arr):
    """(array-to-array codecs, the bytes codec and the bytes-to-bytes codecs
    after it) of `arr` when it can take the fast path, else None."""
    from zarr.abc.codec import ArrayArrayCodec, BytesBytesCodec
    from zarr.codecs import BytesCodec
    from zarr.core.chunk_grids import RegularChunkGrid
    meta = arr.metadata
    if getattr(meta, "zarr_format", None) != 3 or not isinstance(meta.chunk_grid, RegularChunkGrid):
        return None
    codecs = tuple(meta.codecs)
    k = 0
    while k < len(codecs) and isinstance(codecs[k], ArrayArrayCodec):
        k += 1
    if k == len(codecs) or not isinstance(codecs[k], BytesCodec):
        return None
    if not all(hasattr(c, "_encode_sync") and hasattr(c, "resolve_metadata")
               for c in codecs[:k]):
        return None
    if not all(isinstance(c, BytesBytesCodec) and hasattr(c, "_encode_sync")
               for c in codecs[k + 1:]):
        return None
    return codecs[:k], codecs[k:]


def _chunk_coords(region, chunk_shape, shape):
    """The chunk index of a region that is one whole chunk (an edge chunk:
    up to the array's end), or None."""
    coords = []
    for s, c, n in zip(region, chunk_shape, shape):
        if s.start % c or s.stop != min(s.start + c, n) or s.stop <= s.start:
            return None
        coords.append(s.start // c)
    return tuple(coords)


#: {id(array): (array, what encode_chunk needs of it)}: the codecs, the
#: chunk spec and the key prefix of an array, worked out once per array
#: object (a run opens its arrays once, engine/store/zarrstore.py)
_PLANS = {}


def _array_plan(arr):
    hit = _PLANS.get(id(arr))
    if hit is not None and hit[0] is arr:
        return hit[1]
    planned = _plan(arr)
    plan = None
    if planned is not None:
        filters, codecs = planned
        from zarr.core.array_spec import ArrayConfig, ArraySpec
        from zarr.core.buffer import default_buffer_prototype
        meta = arr.metadata
        chunk_shape = tuple(meta.chunk_grid.chunk_shape)
        spec = ArraySpec(shape=chunk_shape, dtype=meta.data_type, fill_value=arr.fill_value,
                         config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())
        prefix = f"{arr.store_path.path}/" if arr.store_path.path else ""
        specs = [spec]  # the chunk's spec before each array-to-array codec, then after
        for f in filters:
            specs.append(f.resolve_metadata(specs[-1]))
        plan = (tuple(zip(filters, specs)), codecs, chunk_shape,
                meta.data_type.to_native_dtype(), specs[-1], prefix)
    if len(_PLANS) > 256:
        _PLANS.clear()
    _PLANS[id(arr)] = (arr, plan)
    return plan


def whole_chunks(arr):
    """The chunk shape of zarr array `arr` when encode_chunk encodes its
    whole chunks itself (else None: it is written through __setitem__).
    Works out what the encoding needs once per array object."""
    plan = _array_plan(arr)
    return None if plan is None else plan[2]


def encode_chunk(arr, value, region):
    """(key, Buffer) of `value` written at `region` of zarr array `arr`,
    encoded as zarr encodes it; None when the fast path does not apply."""
    from zarr.core.buffer.cpu import NDBuffer
    plan = _array_plan(arr)
    if plan is None:
        return None
    filters, codecs, chunk_shape, dtype, spec, prefix = plan
    region = tuple(region) + tuple(slice(None) for _ in arr.shape[len(region):])
    if len(region) != len(arr.shape) or not all(isinstance(s, slice) for s in region):
        return None
    if any(s.step not in (None, 1) for s in region):
        return None
    region = tuple(slice(*s.indices(n)[:2]) for s, n in zip(region, arr.shape))
    coords = _chunk_coords(region, chunk_shape, arr.shape)
    if coords is None:
        return None
    value = np.asarray(value)
    if value.shape != chunk_shape:  # an edge chunk: padded with the fill value
        full = np.full(chunk_shape, arr.fill_value, dtype=dtype)
        full[tuple(slice(0, s.stop - s.start) for s in region)] = value
        value = full
    # (any memory order: the codecs lay the bytes out; a value already in
    # the order of the array-to-array codecs' result is not copied)
    value = np.asarray(value, dtype=dtype)
    nd = NDBuffer.from_numpy_array(value)
    for f, fspec in filters:  # (the transpose of a per-sector output: a view)
        nd = f._encode_sync(nd, fspec)
    buf = codecs[0]._encode_sync(nd, spec)
    for codec in codecs[1:]:
        buf = codec._encode_sync(buf, spec)
    if len(codecs) == 1:  # (the bytes codec alone may hand back the value's memory)
        buf = type(buf).from_bytes(bytes(buf.as_buffer_like()))
    return prefix + arr.metadata.encode_chunk_key(coords), buf


def chunk_missing(arr, coords):
    """True when the chunk at `coords` of zarr array `arr` (a writable local
    directory store) has no file: it reads as the fill value. False when
    it has one or when that cannot be told this way (read it then)."""
    root = _local_root(arr.store_path.store)
    if root is None or getattr(arr.metadata, "zarr_format", None) != 3:
        return False
    key = arr.metadata.encode_chunk_key(tuple(coords))
    path = f"{arr.store_path.path}/{key}" if arr.store_path.path else key
    return not os.path.exists(os.path.join(root, path))


def write_chunks(group, items):
    """Write [(name, region, value)] into zarr `group`: whole chunks in one
    batch, anything else through __setitem__. Returns how many took the
    fast path. `items` may be an iterator: each value is encoded (or
    written) before the next is taken, and the bytes kept never share its
    memory, so the values may be made one after the other in one array."""
    from zarr.core.sync import sync
    pending = []
    store = None
    for name, region, value in items:
        arr = group[name]
        enc = encode_chunk(arr, value, region)
        if enc is None:
            arr[region] = value
            continue
        store = arr.store_path.store
        pending.append(enc)
    if pending:
        root = _local_root(store)
        if root is not None:
            for key, buf in pending:
                put_file(os.path.join(root, key), buf.as_buffer_like())
        else:
            import asyncio

            async def _put():
                await asyncio.gather(*(store.set(key, buf) for key, buf in pending))
            sync(_put())
    return len(pending)


def _local_root(store):
    """The directory of a writable zarr LocalStore, else None (any other
    store takes its own ``set``)."""
    from zarr.storage import LocalStore
    if type(store) is not LocalStore or store.read_only:
        return None
    return str(store.root)


#: a temporary file's name: this process's random tag (drawn again in a
#: forked child) and a counter, unique across the processes and hosts
#: that write into one store
_TMP = {"pid": None, "tag": None, "count": itertools.count()}

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _tmp_name(path):
    pid = os.getpid()
    if _TMP["pid"] != pid:
        _TMP["tag"], _TMP["pid"] = uuid.uuid4().hex[:16], pid
    return f"{path}.{_TMP['tag']}-{next(_TMP['count'])}.partial"


def put_file(path, data):
    """Write `data` to `path` as zarr's LocalStore does (a temporary file
    next to it, then renamed over it: a reader never sees half a chunk),
    from this thread: no event-loop round trip, no thread pool, and the
    directories made only when missing (LocalStore.set makes them for
    every file: about three times the CPU, benchmarks/e2e_breakdown.py).
    By file descriptor (os.open, os.write), not through a Python file
    object and its buffer, and the temporary name from a counter: 0.081
    against 0.103 ms of CPU a 35 kB file (best of 8 x 1,000 files)."""
    tmp = _tmp_name(path)
    try:
        fd = os.open(tmp, _FLAGS, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(tmp, _FLAGS, 0o666)
    try:
        try:
            view = memoryview(data).cast("B")
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
