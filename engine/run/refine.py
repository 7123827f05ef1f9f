"""A refined run (``[run.refine]``, engine/spec/refine.py): the levels, then
the store's chunks.

1. Levels. The driver plans level k (engine/spec/refine.py's Planner: the
   coarse sub-grid, then the points inside cells whose corners differ),
   cuts its points (sorted flat indices) into tasks and runs them on the
   run's executor (engine/run/executors.py). A task solves its points,
   keeps their outputs in its process's memory and writes their key
   columns (the refined outputs, which the next level is planned from)
   into the file ``refine_levels/level_k/t.T`` of the store with the
   store's run token: the task is done (LevelFiles). The store's
   attribute ``refine`` counts the levels done. Tasks: with the
   synchronous scheduler (one thread: nothing to share) a level is cut at
   the store's chunk size, at most about a full run's chunk
   (MAX_CHUNK_POINTS); with any other, into up to TASKS_PER_LEVEL tasks of
   at least MIN_TASK_POINTS points (whole multiples of RECORD_CHUNK), so
   that the workers share a level. A level's ``level.json`` records its
   task size: a resumed run keeps it, whatever its own scheduler.
2. Chunks. Every chunk of the store is then written once, like any run's
   chunk (and marked in ``chunk_done``): the solved points' outputs (from
   the memory of the process that solved them; a chunk assembled in
   another process, or after a resume, solves its solved points again:
   the kernels' results do not depend on how points are grouped), the
   filled ones from the plan (refined outputs) and the fill values (NaN,
   -1, False, status bit ``filled``), and ``computed``; the outputs one
   at a time (_ChunkOutputs), the summary counted by the task. A refined
   store's default chunks are larger than a full run's
   (engine/spec/layout.py). The level files are removed when the store
   is complete.

Where: the run's executor; a local cluster that the run would start is
started only for a large level or grid (Deferred: smaller work runs on
threads of the run's process), and with the synchronous scheduler two
threads write the chunks.

Resume: the plan is replayed from the recorded levels' key columns (the
same results give the same plan), a level's tasks already recorded are
not run again, and the chunks not marked are written: a killed refinement
ends bit for bit as an uninterrupted one.
"""
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import shutil
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from coordsweep.engine.errors import StoreError, UsageError
from coordsweep.engine.run import debug, startup
from coordsweep.engine.spec import refine as zrefine
from coordsweep.engine.spec.layout import MAX_CHUNK_POINTS
from coordsweep.engine.store import lease
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.kernels.codes import FILLED

LEVELS = "refine_levels"
#: a level's tasks hold whole multiples of this many points
RECORD_CHUNK = 4096
#: a level's tasks off the synchronous scheduler: at least this many points
#: each (a task's fixed cost is small against their kernel time) ...
MIN_TASK_POINTS = 10_000
#: ... and at most this many tasks a level (several for every worker of a
#: small cluster)
TASKS_PER_LEVEL = 16


# --- records: every output of a point, column by column ---------------------

def _trailing(spec, per):
    return {"point": (), "sector": (spec.n_sectors,),
            "equilibrium": (int(spec.outputs.get("equilibria", 0)),)}[per]


def packing(spec):
    """[(name, dtype, per-point shape, bytes a point)] of every output the
    spec's store holds (spec.output_rows)."""
    out = []
    for o in spec.output_rows:
        dtype = np.dtype(o.dtype)
        shape = _trailing(spec, o.per)
        out.append((o.name, dtype, shape, dtype.itemsize * int(np.prod(shape, dtype=np.int64))))
    return out


def columns_of(outputs, spec):
    """{name: values} of every output a record holds, in its dtype."""
    return {name: np.asarray(outputs[name], dtype) for name, dtype, _, _ in packing(spec)}


def _take(cols, lo, hi):
    return {name: a[lo:hi] for name, a in cols.items()}


def _concat(parts):
    """One {name: array} of several (the points one after the other)."""
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def fill_value(name, dtype):
    """What a point not solved holds: the store's fill value (NaN, -1,
    False, ...), and for status the bit filled."""
    if name == "status":
        return FILLED
    if dtype.kind == "f":
        return np.nan
    if dtype.kind == "b":
        return False
    return zstore._encoding(name, dtype, (1,)).get("fill_value", 0)


# --- tasks -------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    """What every task of one level needs besides its points."""
    level: int
    task_points: int
    columns: tuple


def task_size(m, chunk_task, split):
    """Points a task of a level of `m` points: `chunk_task` (the store's
    chunk, in whole record chunks), or with `split` (workers to share the
    level) up to TASKS_PER_LEVEL tasks of at least MIN_TASK_POINTS each,
    never more than `chunk_task`; always whole record chunks."""
    if not split:
        return chunk_task
    rc = min(RECORD_CHUNK, chunk_task)
    want = max(MIN_TASK_POINTS, math.ceil(m / TASKS_PER_LEVEL))
    return min(chunk_task, math.ceil(want / rc) * rc)


class LevelFiles:
    """The files of a refinement's levels, under ``refine_levels/level_K/``
    of the store: ``level.json`` (the digest of the level's points and its
    task size; written last when the level is laid out) and ``t.T`` (task
    T done: the run token, then the key columns of its points, compressed
    by _keys_codec; what the next level is planned from). Plain files, not
    zarr arrays: nothing reads them but a refinement, and making two zarr
    arrays a level and opening them cost more than the level's points. A
    local directory is written file by file (chunkio.put_file: a
    temporary file, then renamed: never half a file, so a task's file is
    there only when it is done), any other store through its zarr store's
    get and set."""

    def __init__(self, store, run_id=None):
        self.store = str(store)
        self.root = self.store if "://" not in self.store else None
        self.run_id = run_id
        self._zarr = None

    def _key(self, level, name=None):
        return f"{LEVELS}/level_{int(level)}" + ("" if name is None else f"/{name}")

    def _remote(self):
        if self._zarr is None:
            import zarr
            with zstore._quiet():
                sp = zarr.open_group(self.store, mode="r+", use_consolidated=False).store_path
            self._zarr = (sp.store, f"{sp.path}/" if sp.path else "")
        return self._zarr

    def put(self, level, name, data):
        key = self._key(level, name)
        if self.root is not None:
            from coordsweep.engine.store import chunkio
            chunkio.put_file(os.path.join(self.root, key), data)
            return
        from zarr.core.buffer.cpu import Buffer
        from zarr.core.sync import sync
        zs, prefix = self._remote()
        sync(zs.set(prefix + key, Buffer.from_bytes(bytes(data))))

    def get(self, level, name):
        """The file's bytes, None when there is none."""
        key = self._key(level, name)
        if self.root is not None:
            try:
                with open(os.path.join(self.root, key), "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None
        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync
        zs, prefix = self._remote()
        buf = sync(zs.get(prefix + key, prototype=default_buffer_prototype()))
        return None if buf is None else buf.to_bytes()

    def remove(self, level):
        """Remove what the level holds (of another plan, or of another
        layout of the levels)."""
        key = self._key(level)
        if self.root is not None:
            path = os.path.join(self.root, key)
            if os.path.isdir(path):
                shutil.rmtree(path)
            return
        from zarr.core.sync import sync
        zs, prefix = self._remote()
        sync(zs.delete_dir(prefix + key))

    def meta(self, level):
        data = self.get(level, "level.json")
        try:
            return None if data is None else json.loads(data)
        except ValueError:
            return None

    def set_meta(self, level, meta):
        self.put(level, "level.json", json.dumps(meta).encode())

    def put_keys(self, level, task, token, keys):
        """Task `task` done: its points' key columns ((m, C) int64)."""
        keys = np.ascontiguousarray(keys, np.int64)
        head = np.array([int(token), *keys.shape], "<i8").tobytes()
        self.put(level, f"t.{int(task)}", head + _keys_codec().encode(keys))

    def _recorded(self, level, task, token):
        """A task's file when it was recorded with this run token, else None."""
        data = self.get(level, f"t.{int(task)}")
        if data is None or len(data) < 24 or int(np.frombuffer(data, "<i8", 1)[0]) != int(token):
            return None
        return data

    def keys(self, level, task, token):
        """The key columns a task recorded with this run token, else None."""
        data = self._recorded(level, task, token)
        if data is None:
            return None
        m, c = (int(v) for v in np.frombuffer(data, "<i8", 2, offset=8))
        return np.frombuffer(_keys_codec().decode(data[24:]), np.int64).reshape(m, c)

    def task_done(self, level, task, token):
        return self._recorded(level, task, token) is not None


#: (store, run id) -> its LevelFiles, one a run and process
_FILES = {}


def _files(store, run_id):
    key = (str(store), run_id)
    files = _FILES.get(key)
    if files is None:
        if len(_FILES) > 64:
            _FILES.clear()
        files = _FILES[key] = LevelFiles(store, run_id)
    return files


def _keys_codec():
    """The key columns' compressor: lz4 after a shuffle of their int64
    bytes (small category codes: a few bytes a point)."""
    from numcodecs import Blosc
    return Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)


def level_task(spec, store, info, task, run_id=None, token=1, solver=None, writer=None,
               idx=None):
    """One dask task of a level: solve the points `idx`, record their key
    columns (the task's file: done). Returns the points solved. The
    points' outputs stay in this process's memory (_RECORDS) for the
    chunks it assembles; a chunk of another process, or of a resumed run,
    solves its points again (the kernels' results do not depend on how
    points are grouped)."""
    startup.load_numba_arraymath()
    from coordsweep import kernels
    lease.check(store, run_id)
    files = _files(store, run_id)
    if files.task_done(info.level, task, token):
        return len(idx)
    outputs = kernels.solve(**zrefine.params_at(spec, idx), solver=solver, **spec.outputs)
    debug.pause(f"refine-write-{info.level}-{task}")
    lease.check(store, run_id)
    cols = columns_of(outputs, spec)
    files.put_keys(info.level, task, token, zrefine.key_columns(cols, info.columns))
    _RECORDS.setdefault((str(store), run_id), {})[(info.level, int(task))] = cols
    return len(idx)


#: (store, run id) -> {(level, task): {output: values}} solved in this
#: process: the chunks it assembles take their solved points from here
_RECORDS = {}


def _memory_records(store, run_id, level, lo, hi, task_points):
    """{output: values} of the points [lo, hi) of a level when this process
    solved them all, else None."""
    mine = _RECORDS.get((str(store), run_id), {})
    tasks = range(lo // task_points, (hi - 1) // task_points + 1)
    if not all((level, t) in mine for t in tasks):
        return None
    return _concat([_take(mine[(level, t)], max(lo - t * task_points, 0), hi - t * task_points)
                    for t in tasks])


def _level_keys(files, info, m, token):
    """(m, C) key columns of a level's points: from this process's memory
    when it solved them all, else from the level's files."""
    cols = _memory_records(files.store, files.run_id, info.level, 0, m, info.task_points)
    if cols is not None:
        return zrefine.key_columns(cols, info.columns)
    tp = info.task_points
    return np.concatenate([_task_keys(files, info, t, t * tp, min((t + 1) * tp, m), token)
                           for t in range(math.ceil(m / tp))])


#: thread id -> the scratch array the refined outputs of its chunks are made in
_SCRATCH = {}
#: thread id -> {(dtype, fill): [flat array of the fill value, whether it
#: holds only the fill value]}, shared by the outputs of that dtype and fill
#: (one at a time)
_FILLED = {}


#: buffers made ahead of the chunks (prepare_buffers), each [scratch, {key:
#: entry}] taken whole by the first thread that writes a chunk without its own
_READY = []


def _adopt(tid):
    """A thread's first chunk: it takes a set of buffers made ahead, if any."""
    if _READY and tid not in _SCRATCH and tid not in _FILLED:
        try:
            scratch, filled = _READY.pop()
        except IndexError:  # (another thread took the last)
            return
        _SCRATCH[tid], _FILLED[tid] = scratch, filled


def _scratch(nbytes):
    tid = threading.get_ident()
    _adopt(tid)
    buf = _SCRATCH.get(tid)
    if buf is None or buf.size < nbytes:
        buf = _SCRATCH[tid] = np.empty(nbytes, np.uint8)
    return buf


def _filled(dtype, fill, count):
    """[flat array, clean] of this thread: at least `count` values `fill`."""
    tid = threading.get_ident()
    _adopt(tid)
    bufs = _FILLED.setdefault(tid, {})
    key = (dtype.str, repr(fill))
    entry = bufs.get(key)
    if entry is None or len(entry[0]) < count:
        entry = bufs[key] = [np.full(count, fill, dtype), True]
    elif not entry[1]:
        entry[0].fill(fill)
        entry[1] = True
    return entry


def _fill_sizes(layout_of, n):
    """{(dtype, fill): values} the fill arrays of a chunk of `n` points need
    (each the size of the largest output it serves)."""
    need = {}
    for name, dtype, shape, size in layout_of:
        key = (dtype.str, repr(fill_value(name, dtype)))
        need[key] = max(need.get(key, (0, None))[0], n * (size // dtype.itemsize)), \
            (dtype, fill_value(name, dtype))
    return need


def prepare_buffers(spec, n, copies):
    """Make `copies` sets of the buffers a thread writes chunks of `n`
    points with (the fill arrays and the scratch array), for the threads
    that will write them to take (_adopt). Run in a thread of its own while
    the levels are solved: new memory costs its page faults on first touch
    (0.25 to 8 ms a MiB on a loaded machine), which numpy's fill takes
    without the GIL."""
    layout_of = packing(spec)
    need = _fill_sizes(layout_of, n)
    # (the scratch array holds one refined output at a time)
    refinement = zrefine.of_spec(spec)
    refined = None if refinement is None else \
        {name for name, _ in refinement.columns(spec.n_sectors)}
    largest = max((n * size for name, _, _, size in layout_of
                   if refined is None or name in refined), default=0)
    for _ in range(copies):
        filled = {key: [np.full(count, fill, dtype), True]
                  for key, (count, (dtype, fill)) in need.items()}
        scratch = np.empty(largest, np.uint8)
        scratch.fill(0)  # (touched now: np.zeros's pages would fault when written)
        _READY.append((scratch, filled))


def release_buffers(store=None, run_id=None):
    """Drop every thread's scratch arrays (after a run's chunks), and the
    solved points this process kept for the run (`store`, `run_id`)."""
    _SCRATCH.clear()
    _FILLED.clear()
    _READY.clear()
    _RECORDS.pop((str(store), run_id), None)


class _ChunkOutputs:
    """The outputs of a chunk of `n` points, made one at a time as the
    store's writer takes them (zarrstore.write_chunk: chunkio encodes each
    output before it takes the next). An output that is not refined holds
    its fill value but at the solved points: it is made in an array of this
    thread that holds the fill value already (one a dtype and fill value,
    for the outputs one after the other), the solved points' values (`rec`
    at rows `at`) written in and put back to the fill value once encoded.
    A chunk of a refined store is some 250 bytes a point, nearly all fill
    values: writing them all again for every chunk cost a fifth of the
    chunk's time, and new arrays more (in page faults). A refined output
    (`columns`: every point from the plan, its code `codes` of the values
    in `tables`, Planner.column_table) is made in one scratch array of
    this thread, in one pass: the table of the output's value (every
    sector) by code taken at the codes. ``kept``: what the run's summary
    counts."""

    def __init__(self, layout_of, n, columns, codes, tables, at, rec, solved, whole=None,
                 pads=None):
        self.layout_of, self.n = layout_of, n
        self.columns, self.codes, self.tables = columns, codes, tables
        self.at, self.rec, self.solved = at, rec, solved
        # an edge chunk made at the whole chunk's size (`whole` points), the
        # points past the grid's end holding the store's fill value (`pads`,
        # by output) as zarr pads an edge chunk: encoded without a padded
        # copy of every output (new memory, page faults)
        self.whole = n if whole is None else whole
        self.pads = pads or {}
        self.kept = {}

    def counts(self):
        """The chunk's results.chunk_counts (a regime refined in every
        sector counted by code: one pass over the codes, not one a sector;
        a solved point's code is that of its own values)."""
        from coordsweep.engine.analysis import results
        from coordsweep.engine.analysis.flags import COMPUTED_STATUS_NAMES
        regime = self.kept["regime"]
        if isinstance(regime, tuple):  # (the regime by code, the codes)
            table, codes = regime
            h = np.bincount(codes, minlength=len(table))[:len(table)]
            per_sector = []
            for j in range(table.shape[1]):
                c = Counter()
                for code in np.flatnonzero(h):
                    c[int(table[code, j])] += int(h[code])
                per_sector.append(Counter({k: c[k] for k in sorted(c)}))
        else:
            per_sector = [Counter(c) for c, _ in results.regime_counts(regime)]
        st = results.status_counts(self.kept["status"], COMPUTED_STATUS_NAMES)
        return per_sector, self.kept["n_equilibria"], st.ok, Counter(st.bits)

    def items(self):
        n, at, whole = self.n, self.at, self.whole
        # (each fill array made once, at the size of its largest output)
        need = _fill_sizes(self.layout_of, whole)
        for name, dtype, shape, size in self.layout_of:
            fill = fill_value(name, dtype)
            dense = [(sector, tab) for (col_name, sector), tab in zip(self.columns, self.tables)
                     if col_name == name]
            entry = None
            if dense:
                table = np.full((len(dense[0][1]),) + shape, fill, dtype)
                for sector, tab in dense:
                    if sector is None:
                        table[:] = tab
                    else:
                        table[:, sector] = tab
                a = _scratch(whole * size)[:whole * size].view(dtype).reshape((whole,) + shape)
                np.take(table, self.codes, axis=0, out=a[:n], mode="clip")  # (codes in range)
            else:
                count = whole * (size // dtype.itemsize)
                entry = _filled(dtype, fill, need[(dtype.str, repr(fill))][0])
                a = entry[0][:count]
                # a float by sector (or equilibrium) is stored sector after
                # sector (zarrstore.sector_major): laid out so in memory, the
                # store's transpose of it is contiguous (no copy to encode)
                a = a.reshape(shape + (whole,)).T if _sector_major(dtype, shape) \
                    else a.reshape((whole,) + shape)
            if len(at):
                if entry is not None:
                    entry[1] = False
                a[at] = self.rec[name]  # (also in a refined column: the same values)
            pad = whole > n and (entry is None or not _same(self.pads.get(name, fill), fill))
            if pad:
                a[n:] = self.pads.get(name, fill)
            if name == "n_equilibria":
                self.kept[name] = int(np.count_nonzero(a[:n] > 1))
            elif name == "regime" and dense and len(dense) == int(np.prod(shape)):
                self.kept[name] = (table, self.codes)
            elif name in ("regime", "status"):
                self.kept[name] = a[:n].copy()
            yield name, a
            if entry is not None and len(at):
                a[at] = fill
                entry[1] = True
            if entry is not None and pad:
                a[n:] = fill
        computed = np.zeros(whole, bool)
        computed[:n] = self.solved
        yield "computed", computed


def _same(x, y):
    """Whether two fill values are the same value (NaN the same as NaN)."""
    return x is y or x == y or (x != x and y != y)


def _sector_major(dtype, shape):
    """Whether the store keeps an output of this dtype and per-point shape
    sector after sector (zarrstore._encoding: a float with a trailing
    sector or equilibrium dimension)."""
    return dtype.kind == "f" and len(shape) == 1


@dataclass(frozen=True)
class _Packed:
    """An array sent to another process lz4-compressed: a chunk's refined
    values and solved mask are runs of equal values (tens of times
    smaller; about 2.4 MB a chunk of 4·10^5 points otherwise, through the
    scheduler)."""
    data: bytes
    dtype: str
    shape: tuple

    @classmethod
    def of(cls, a):
        from numcodecs import Blosc
        a = np.ascontiguousarray(a)
        codec = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
        return cls(codec.encode(a), a.dtype.str, a.shape)

    def array(self):
        from numcodecs import Blosc
        return np.frombuffer(Blosc().decode(self.data), dtype=self.dtype).reshape(self.shape)


def _unpacked(a):
    return a.array() if isinstance(a, _Packed) else a


def assemble_chunk(spec, store, layout, chunk_id, run_id=None, token=1, solver=None,
                   writer=None, columns=(), ranges=(), codes=None, tables=(), solved=None):
    """One dask task: the store's chunk from the plan's refined values at
    its points (`codes` of the values in `tables`, `solved`: the plan's,
    Planner) and the outputs of its solved points
    (`ranges`: per level, (first, end, the points, the level's task size)
    of its points among the level's; from this process's memory, else
    solved again); writes it (in this thread,
    also with the in-process schedulers' `writer`: its outputs are made
    one at a time, _ChunkOutputs) and returns (points filled, the chunk's
    summary counts)."""
    from coordsweep.engine.run.executors import chunk_is_done, write_chunk
    lease.check(store, run_id)
    solved = _unpacked(solved)
    codes = _unpacked(codes)
    filled = int(len(solved) - np.count_nonzero(solved))
    if chunk_is_done(store, chunk_id, run_id, token):
        return filled
    start, stop = layout.flat_range(chunk_id)
    layout_of = packing(spec)
    recs, ats, again = [], [], []
    for level, (lo, hi, points, task_points) in enumerate(ranges):
        if hi <= lo:
            continue
        cols = _memory_records(store, run_id, level, lo, hi, task_points)
        if cols is None:
            again.append(points)
        else:
            recs.append(cols)
            ats.append(points - start)
    if again:  # (solved in another process, or before a resume: solved again)
        from coordsweep import kernels
        startup.load_numba_arraymath()
        points = np.sort(np.concatenate(again))
        recs.append(columns_of(kernels.solve(**zrefine.params_at(spec, points), solver=solver,
                                             **spec.outputs), spec))
        ats.append(points - start)
    # every level's solved points at once, an output at a time
    rec = _concat(recs) if recs else None
    at = np.concatenate(ats) if len(ats) > 1 else ats[0] if ats else np.zeros(0, np.int64)
    whole, pads, where = _whole_chunk(store, layout, run_id, layout_of, stop - start)
    chunk = _ChunkOutputs(layout_of, stop - start, columns, codes, tables, at, rec, solved,
                          whole, pads)
    write_chunk(spec, store, where, chunk_id, chunk, run_id, token)
    return filled, chunk.counts()


assemble_chunk.task_name = "refine-chunk"


class _WholeChunks:
    """A layout whose edge chunks reach past the grid's end (their regions
    and shapes those of a whole chunk): the values of an edge chunk are
    handed to the store at the whole chunk's shape, padded, which the
    store's writer encodes as they are (chunkio.encode_chunk clips the
    region to the array, and pads only a value smaller than a chunk)."""

    def __init__(self, layout):
        self.layout = layout

    def region(self, chunk_id):
        return tuple(slice(s.start, s.start + c)
                     for s, c in zip(self.layout.region(chunk_id), self.layout.chunks))

    def region_shape(self, chunk_id):
        return tuple(self.layout.chunks)


def _whole_chunk(store, layout, run_id, layout_of, n):
    """(points to make, {output: the store's fill value}, the layout to
    write with) of a chunk of `n` points: an edge chunk at the whole
    chunk's size when every array of the store takes chunkio's whole-chunk
    path (else as it is: the store pads it)."""
    whole = math.prod(layout.chunks)
    if whole == n or not run_id:
        return n, None, layout
    from coordsweep.engine.store import chunkio
    group = zstore._writable(store, run_id)
    pads = {}
    for name, *_ in layout_of + [("computed",)]:
        arr = group[name]
        shape = chunkio.whole_chunks(arr)
        if shape is None or tuple(shape[:len(layout.chunks)]) != tuple(layout.chunks):
            return n, None, layout
        pads[name] = arr.fill_value
    return whole, pads, _WholeChunks(layout)


# --- the driver --------------------------------------------------------------

#: the local cluster of a refinement starts for a level of more points than
#: this (on its workers: that level, the next ones and the chunks); smaller
#: levels run in the run's process, one thread a core (the kernels release
#: the GIL). A cluster's start, warm-up and close cost 2-4 s of wall time,
#: the kernel about a microsecond a point and core
CLUSTER_LEVEL_POINTS = 2_000_000
#: ... or for chunks of more points than this (writing a point that is
#: mostly fill values costs about a tenth of solving it)
CLUSTER_GRID_POINTS = 40_000_000


class Deferred:
    """The local cluster of a refinement (``--scheduler local``, or no
    scheduler and no active client), started when the work needs it
    (CLUSTER_LEVEL_POINTS, CLUSTER_GRID_POINTS): until then the run's
    executor is the threaded scheduler of this process. A refinement's
    levels are small on most sweeps (the paper-1 sweep at 4097 x 4097:
    170,000 points in six levels): a cluster would cost more to start
    than it saves."""

    def __init__(self, workers, held=None):
        self.requested, self.held = workers, held
        self.counts = {}
        self.stack = self.client = self.info = None
        if workers is not None:
            self.threads, self.how = int(workers), "--workers"
        else:
            try:
                self.threads = len(os.sched_getaffinity(0))
            except (AttributeError, OSError):  # (not Linux)
                self.threads = os.cpu_count() or 1
            self.how = "the CPUs this process may run on"

    def executor(self):
        """The executor until the cluster starts: threads of this process."""
        return _Threads(self.threads)

    @classmethod
    def of(cls, refinement, scheduler, workers, cluster, scheduler_file, held=None):
        """A Deferred for a refinement that would start a local cluster, else
        None (held: the run's lease)."""
        from coordsweep.engine.run import cluster as zcluster
        if refinement is None or cluster is not None or scheduler_file is not None:
            return None
        if scheduler == "local" or (scheduler is None and zcluster.active_client() is None):
            return cls(workers, held)
        return None

    def needed(self, points, grid=False):
        return points > (CLUSTER_GRID_POINTS if grid else CLUSTER_LEVEL_POINTS)

    def start(self, job):
        """The cluster's executor, its workers warmed (started once)."""
        from coordsweep.engine.run import cluster as zcluster
        from coordsweep.engine.run.executors import executor, warm_worker
        if self.stack is None:
            self.stack = contextlib.ExitStack()
            self.client, self.info = self.stack.enter_context(
                zcluster.open_client("local", self.requested))
            self.client.run(warm_worker, job.spec, job.solver)
        return executor(self.client, "local", self.info.count, self.held)

    def close(self):
        if self.stack is not None:
            self.stack.close()

    def workers(self, info):
        """The run summary's Workers: the cluster's when it started, else
        the threads' (and why)."""
        from coordsweep.engine.run.cluster import Workers
        if self.info is not None:
            return Workers(self.info.count, f"{self.info.how}; started for a refinement "
                           f"level or grid above {CLUSTER_LEVEL_POINTS:,} / "
                           f"{CLUSTER_GRID_POINTS:,} points", self.info.dashboard,
                           started=True)
        return Workers(self.threads, f"threads of the run's process ({self.how}): a "
                       f"refinement's local cluster starts for a level above "
                       f"{CLUSTER_LEVEL_POINTS:,} points or a grid above "
                       f"{CLUSTER_GRID_POINTS:,}, none here")


class _Threads:
    """The tasks (level tasks, chunks) on `workers` threads of this
    process, in order, without dask; the summary counts in ``counted``."""

    scheduler = "threads"
    client = None

    def __init__(self, workers):
        self.workers = max(1, int(workers))
        self.counted = {}

    def run(self, tasks, job, progress):
        def one(cid):
            return _one(job, cid, job.more(cid))
        if self.workers == 1 or len(tasks) <= 1:
            _collect(map(one, tasks), progress, self.counted)
            return
        with ThreadPoolExecutor(self.workers, thread_name_prefix="refine") as pool:
            _collect(pool.map(one, tasks), progress, self.counted)


def _one(job, tid, more):
    """Task `tid` of `job` (executors.Chunks) in this thread, with its
    extra arguments `more`: (tid, (points, summary counts or None))."""
    from coordsweep.engine.run.executors import task_result
    return tid, task_result(job.task(*job.args, tid, job.run_id, job.token, job.solver, None,
                                     *more))


def _collect(done, progress, counted):
    """The progress and summary counts of tasks done (_one's results)."""
    for tid, (n, counts) in done:
        progress.update(n)
        if counts is not None:
            counted[tid] = counts

def refinement_for(spec, on=None):
    """(spec, Refinement or None): with `on` (``--refine VAR[,VAR]``) the
    spec's [run.refine] with those outputs (UsageError on a bad one)."""
    if on is not None:
        if isinstance(on, str):
            on = [v.strip() for v in on.split(",") if v.strip()]
        table = {**spec.run.get("refine", {}), "on": list(on)}
        spec = dataclasses.replace(spec, run={**spec.run, "refine": table})
        return spec, zrefine.parse(table, list(spec.dims), [a.name for a in spec.axes],
                                   list(spec.sector_names), where="--refine",
                                   error=UsageError)
    return spec, zrefine.of_spec(spec)


def check_store(store, spec, refinement):
    """A store resumed must hold the same refinement (or none, like the run)."""
    attrs = zstore.read_attrs(store)
    have = attrs.get("refine")
    want = None if refinement is None else refinement.table(list(spec.dims),
                                                            list(spec.sector_names))
    # (min_level: 0 in a store that does not record it)
    have_table = None if have is None else {k: have.get(k, 0 if k == "min_level" else None)
                                            for k in zrefine.KEYS}
    if have_table != want:
        raise StoreError(f"{store}: was written with refinement {have_table}, this run "
                         f"asks for {want}; --resume needs the same, or pass --overwrite")


def _points_digest(idx):
    return hashlib.sha256(np.ascontiguousarray(idx, np.int64).tobytes()).hexdigest()


def _level_layout(files, info, idx):
    """The task size of a level: the recorded one when its files were laid
    out for these points, else ``info.task_points`` (what the level held
    removed first)."""
    digest = _points_digest(idx)
    meta = files.meta(info.level)
    if meta is not None and meta.get("points") == digest:
        return int(meta["task_points"])
    files.remove(info.level)
    files.set_meta(info.level, {"points": digest, "task_points": int(info.task_points)})
    return int(info.task_points)


def execute(refinement, plan, job, run, progress, warm=True, deferred=None, ahead=None):
    """The levels (the ones not recorded done), then the store's chunks in
    plan.todo, on executor `run` (InProcess or Distributed). warm: with a
    client, load the kernels on its workers first (False: the caller
    did, with warm_worker). deferred: a Deferred local cluster, which
    takes over from `run` when a level or the grid is large (its summary
    counts are added to run.counted). ahead: the caller's buffers_ahead
    (else made here)."""
    first = run
    if deferred is not None:
        run = deferred.executor()
    if ahead is None:
        ahead = _prepare_ahead(job.spec, plan, run, deferred)
    try:
        return _execute(refinement, plan, job, run, progress, warm, deferred, ahead)
    finally:
        if ahead is not None:
            ahead.drop()
        release_buffers(job.store, job.run_id)
        if deferred is not None:
            first.counted.update(deferred.counts)
            deferred.close()


def _execute(refinement, plan, job, run, progress, warm, deferred, ahead):
    import zarr
    from coordsweep.engine.run.executors import Chunks
    spec, store = job.spec, job.store
    nsec = spec.n_sectors
    columns = tuple(refinement.columns(nsec))
    planner = zrefine.Planner(spec.shape, refinement,
                              [zrefine.column_dtype(name, nsec) for name, _ in columns])
    # a task writes whole chunks of the level's arrays (no two share one);
    # at most about a full run's chunk of points (a refined store's chunks
    # are larger, engine/spec/layout.py)
    chunk = math.prod(plan.layout.chunks)
    rc = min(RECORD_CHUNK, chunk)
    chunk_task = math.ceil(min(chunk, MAX_CHUNK_POINTS) / rc) * rc
    split = getattr(run, "scheduler", None) != "synchronous"
    with zstore._quiet():
        root = zarr.open_group(str(store), mode="r+", use_consolidated=False)
    files = _files(store, job.run_id)
    client = getattr(run, "client", None)
    if client is not None and warm:
        # every worker has the kernels (and the store's modules) before the
        # first level: its task or two would otherwise wait for one worker's
        # loading after another's (workers this run started have the
        # kernels already: then this costs a round trip)
        from coordsweep.engine.run.executors import warm_worker
        client.run(warm_worker, spec, job.solver)
    if ahead is not None:
        ahead.open(store, job.run_id)
    level_points = []
    last = refinement.levels - 1
    for k in range(refinement.levels):
        idx = planner.points(k)
        if deferred is not None and deferred.client is None and deferred.needed(len(idx)):
            run = deferred.start(job)
            client = run.client
        # the last level in bands, each band's chunks written beside the next
        banded = k == last and _overlapped(run, deferred, plan.todo)
        info = Level(k, task_size(len(idx), chunk_task, split or banded), columns)
        lease.check(store, job.run_id)
        task_points = _level_layout(files, info, idx)
        info = Level(k, task_points, columns)
        level_points.append((idx, task_points))
        if banded:
            if ahead is not None:
                ahead.done()
            _last_in_bands(plan, job, run, progress, planner, files, info, idx, level_points,
                           refinement, root)
            return planner.n_solved
        ntasks = math.ceil(len(idx) / task_points)
        todo = [t for t in range(ntasks) if not files.task_done(k, t, job.token)]
        if todo:
            tasks = Chunks(spec, store, info, job.run_id, job.token, job.solver,
                           fn=level_task,
                           extra=lambda t, idx=idx: (idx[t * task_points:(t + 1) * task_points],))
            run.run(todo, tasks, progress)
        debug.pause(f"refine-level-{k}")
        keys = _level_keys(files, info, len(idx), job.token) if len(idx) \
            else np.zeros((0, len(columns)), np.int64)
        planner.record(idx, keys)
        _level_done(root, refinement, job, k, planner)
    planner.finish()
    if deferred is not None and deferred.client is None \
            and deferred.needed(plan.points_todo, grid=True):
        run = deferred.start(job)
        client = run.client
    if deferred is not None:
        deferred.counts = run.counted
    if ahead is not None:
        ahead.done()
    _assemble(plan, job, run, progress, columns, planner, level_points)
    if client is not None:  # (the workers of a cluster that outlives the run)
        client.run(release_buffers, str(store), job.run_id)
    return planner.n_solved


def buffers_ahead(spec, plan, scheduler, deferred):
    """A thread making the buffers of the threads of this process that will
    write a refinement's chunks (prepare_buffers) while the store is
    created and the levels are solved (one core), or None (no chunk to
    write, or written by a cluster's workers). Started after the kernels
    are loaded: beside numba's loading (its own new memory) the page
    faults took several times as long. `scheduler`: the run's (a Deferred
    cluster, `deferred`, writes with its threads until it starts)."""
    if not plan.todo:
        return None
    if deferred is not None:
        if deferred.needed(plan.points_todo, grid=True):
            return None
        copies = deferred.threads
    elif scheduler == "synchronous":
        from coordsweep.engine.run import writer as zwriter
        copies = 2 if len(plan.todo) > 1 and zwriter.enabled() else 1
    else:
        return None
    return _Ahead(spec, math.prod(plan.layout.chunks), min(copies, len(plan.todo)))


def _prepare_ahead(spec, plan, run, deferred):
    """buffers_ahead for an executor `run` (a caller of execute that started
    none)."""
    if getattr(run, "client", None) is not None:
        return None
    if deferred is not None:
        return buffers_ahead(spec, plan, None, deferred)
    if _two_writers(run, plan.todo):
        return _Ahead(spec, math.prod(plan.layout.chunks), 2)
    if getattr(run, "scheduler", None) == "synchronous" and plan.todo:
        return _Ahead(spec, math.prod(plan.layout.chunks), 1)
    return None


class _Ahead:
    """The thread of buffers_ahead; ``open(store, run_id)`` has it open the
    store's arrays for the chunks' writers next (their metadata read
    while the levels are solved, not by the first chunks); ``done()``
    waits for it; ``drop()`` waits and drops what it made."""

    def __init__(self, spec, n, copies):
        self.spec = spec
        self.target = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(n, copies),
                                       name="refine-buffers", daemon=True)
        self.thread.start()

    def open(self, store, run_id):
        self.target = (store, run_id)
        self.ready.set()

    def _run(self, n, copies):
        try:
            prepare_buffers(self.spec, n, copies)
        except MemoryError:  # (the writing threads make their own)
            _READY.clear()
        self.ready.wait()
        if self.target is not None and self.target[1]:
            _open_arrays(self.spec, *self.target)

    def done(self):
        self.ready.set()
        self.thread.join()

    def drop(self):
        self.target = None
        self.done()
        _READY.clear()


def _open_arrays(spec, store, run_id):
    """Open the store's arrays the chunks write (zarrstore._writable: once
    a run and process) and work out how chunkio encodes each."""
    from coordsweep.engine.store import chunkio
    try:
        group = zstore._writable(store, run_id)
        for name, *_ in packing(spec) + [("computed",), ("chunk_done",)]:
            chunkio.whole_chunks(group[name])
    except Exception:  # noqa: BLE001 - the writers open them, and report what fails
        pass


def _chunk_job(plan, job, run, columns, planner, level_points):
    """The chunks' tasks (executors.Chunks): a chunk's arguments are taken
    from the planner when the task is made (its points final by then)."""
    from coordsweep.engine.run.executors import Chunks
    layout = plan.layout
    # (to another process: compressed)
    ship = _Packed.of if getattr(run, "client", None) is not None else (lambda a: a)

    def chunk_args(cid):
        a, b = layout.flat_range(cid)
        ranges = []
        for p, task_points in level_points:
            lo, hi = int(np.searchsorted(p, a)), int(np.searchsorted(p, b))
            ranges.append((lo, hi, p[lo:hi], task_points))
        return (columns, ranges, ship(planner.codes[a:b]), planner.column_table(),
                ship(planner.solved[a:b]))
    return Chunks(job.spec, job.store, layout, job.run_id, job.token, job.solver,
                  fn=assemble_chunk, extra=chunk_args)


def _overlapped(run, deferred, todo):
    """Whether the last level is solved band by band beside the writing of
    the chunks it completes: the synchronous scheduler with its two writer
    threads (_two_writers), in this process (not a Deferred cluster's
    executor, which may start a cluster for the chunks)."""
    return deferred is None and getattr(run, "client", None) is None and _two_writers(run, todo)


def _last_in_bands(plan, job, run, progress, planner, files, info, idx, level_points,
                   refinement, root):
    """The last level task by task (in the order of the points, which is
    the store's chunk order), each task's keys recorded as it ends; a chunk
    all of whose last-level points are recorded is final (the last level
    fills nothing: its cells are one point wide) and goes to two writer
    threads while the next task solves (the kernel releases the GIL). The
    level's pause, ``refine-level-{k}``, comes after its last task, as on
    the other paths (chunks may have been written by then), its
    ``levels_done`` after that."""
    from coordsweep.engine.run.executors import Chunks
    spec, store, k = job.spec, job.store, info.level
    m, tp = len(idx), info.task_points
    level = Chunks(spec, store, info, job.run_id, job.token, job.solver, fn=level_task,
                   extra=lambda t: (idx[t * tp:(t + 1) * tp],))
    chunks = _chunk_job(plan, job, run, info.columns, planner, level_points)
    # chunks by the number of last-level points that must be recorded first
    need = sorted((int(np.searchsorted(idx, plan.layout.flat_range(cid)[1])), cid)
                  for cid in plan.todo)
    pending = []

    def collect(wait):
        while pending and (wait or pending[0].done()):
            _collect([pending.pop(0).result()], progress, run.counted)
    with ThreadPoolExecutor(2, thread_name_prefix="refine") as pool:
        try:
            at = 0
            for t in range(math.ceil(m / tp)):
                if not files.task_done(k, t, job.token):
                    _collect([_one(level, t, level.more(t))], progress, {})
                lo, hi = t * tp, min((t + 1) * tp, m)
                keys = _task_keys(files, info, t, lo, hi, job.token)
                planner.record(idx[lo:hi], keys)
                while at < len(need) and need[at][0] <= hi:
                    cid = need[at][1]
                    pending.append(pool.submit(_one, chunks, cid, chunks.more(cid)))
                    at += 1
                collect(False)
            debug.pause(f"refine-level-{k}")
            _level_done(root, refinement, job, k, planner)
            planner.finish()
            for _, cid in need[at:]:
                pending.append(pool.submit(_one, chunks, cid, chunks.more(cid)))
            collect(True)
        finally:
            for f in pending:
                f.cancel()


def _level_done(root, refinement, job, k, planner):
    """Record levels 0..k done in the store's ``refine`` attribute (while
    the run still holds the store's lease)."""
    lease.check(job.store, job.run_id)
    with zstore._quiet():
        root.attrs["refine"] = zrefine.record(refinement, job.spec, k + 1, planner.n_solved)


def _task_keys(files, info, t, lo, hi, token):
    """(hi - lo, C) key columns of task t of a level (its points [lo, hi)):
    from this process's memory, else from the task's file."""
    cols = _memory_records(files.store, files.run_id, info.level, lo, hi, info.task_points)
    if cols is not None:
        return zrefine.key_columns(cols, info.columns)
    keys = files.keys(info.level, t, token)
    if keys is None:
        raise RuntimeError(f"{files.store}: task {t} of refinement level {info.level} is "
                           "not recorded done after it finished; run again with --resume")
    return keys


def _assemble(plan, job, run, progress, columns, planner, level_points):
    if plan.todo:
        chunks = _chunk_job(plan, job, run, columns, planner, level_points)
        if _two_writers(run, plan.todo):
            two = _Threads(2)
            two.run(plan.todo, chunks, progress)
            run.counted.update(two.counted)
        else:
            run.run(plan.todo, chunks, progress)


def _two_writers(run, todo):
    """Whether the synchronous scheduler writes the chunks in two threads:
    as a full run's writer thread does beside its computing thread
    (COORDSWEEP_WRITE_THREAD=0: one thread). A chunk of a refined store is
    nearly all fill values: encoding them (lz4, which releases the GIL)
    is most of its time."""
    from coordsweep.engine.run import writer as zwriter
    return (getattr(run, "scheduler", None) == "synchronous" and len(todo) > 1
            and zwriter.enabled())


def cleanup(store):
    """Remove the levels' files of a complete store."""
    store = str(store)
    if "://" not in store:
        if os.path.isdir(os.path.join(store, LEVELS)):
            shutil.rmtree(os.path.join(store, LEVELS))
        return
    fs, path = zstore._fs(store)
    where = f"{path.rstrip('/')}/{LEVELS}"
    if fs.exists(where):
        fs.rm(where, recursive=True)
