"""Kernel input blocks: the kernels' inputs at a range of grid points.

``fresh(spec, start, stop)`` (``Spec.block``) returns fresh arrays: nine
arrays of P or P x N float64, every one written from the base values, then
the axes applied (engine/spec/axes.py), then a design's parameters
(:func:`fill`), without materialising the whole grid (or design). A task
of a run (engine/run/executors.py) builds one block per chunk, for blocks
of (almost always) the same length, and drops the block as soon as the
kernel has read it. ``build(spec, start, stop)`` gives the same arrays
(bit for bit: the same float operations in the same order; see
tests/test_blocks.py) from buffers kept per thread (one set each, for the
last block length):

- the inputs no axis or design parameter sets or scales (``price``,
  ``scale``, ...: ``Spec.varying_params``) are written once, and reused
  as they are by every block of the same length;
- the others are reset to their base values and the axes applied in place:
  a chunk is a box of the grid (engine/spec/layout.py), so every axis is a
  broadcast over the block (A runs of its m values, each repeated B
  times) and is applied without per-point indices or gathers; ``ca_spread``
  takes exp once per axis value. Other ranges, and grids with a design,
  go through :func:`fill` with per-point indices.

Measured (benchmarks/e2e_breakdown.py, 10^5-point chunks of
benchmarks/grid_3sectors_1e7.toml, CPU time, the kernel run in between):
0.02 us/point against 0.18-0.20 for ``Spec.block``'s fresh arrays.

No fresh memory a chunk (no page faults), about four fewer arrays to
write. A block is valid until the next ``build`` in the same thread, and
must not be modified: the kernels only read their inputs
(``kernels.solve``), and the runner hands the block to the kernel and
drops it.

:class:`Ahead` builds the blocks of a sequence of ranges one ahead of
their use, in a thread of its own (the synchronous scheduler: block k+1
is built on the other core while the kernel solves block k; NumPy's
copies and products release the GIL), in two sets of buffers used in
turn.
"""
import math
import queue
import threading

import numpy as np

from coordsweep.engine.spec.axes import apply_axis
from coordsweep.kernels.params import SECTOR_PARAMS

#: (thread id, slot) -> its _Buffers (one set a thread and slot: the last
#: block length)
_BUFFERS = {}


def _tile_rows(row, out):
    """Every row of `out` (p, n), C-contiguous, set to `row` (n,): the row
    written once, then doubled by contiguous copies (a broadcast assignment
    of a short row costs about five times more). Returns out."""
    n = out.shape[1]
    flat = out.reshape(-1)
    if flat.size:
        flat[:n] = row
    k = n
    while k < flat.size:
        m = min(k, flat.size - k)
        flat[k:k + m] = flat[:m]
        k += m
    return out


def base_arrays(spec, p):
    """The spec's base values broadcast to p points (fresh, writable arrays)."""
    n = spec.n_sectors
    out = {"labor": np.full(p, spec.labor, dtype=np.float64),
           "labor_share": np.full(p, spec.labor_share, dtype=np.float64)}
    for name in SECTOR_PARAMS:
        out[name] = _tile_rows(spec.sectors[name], np.empty((p, n), dtype=np.float64))
    return out


def _check_range(spec, start, stop):
    start, stop = int(start), int(stop)
    if not 0 <= start <= stop <= spec.size:
        raise IndexError(f"block [{start}, {stop}) outside the grid of {spec.size} points")
    return start, stop


def fresh(spec, start, stop):
    """Kernel inputs of the grid points with flat C-order index in
    [start, stop), in fresh arrays (``Spec.block``)."""
    start, stop = _check_range(spec, start, stop)
    if not spec.shape:
        return base_arrays(spec, stop - start)
    return points(spec, np.unravel_index(np.arange(start, stop, dtype=np.int64), spec.shape))


def points(spec, idx):
    """Kernel inputs of the grid points with multi-indices `idx` (one
    integer array per dimension, equal lengths), in fresh arrays."""
    return fill(spec, base_arrays(spec, len(idx[0]) if idx else 1), idx)


def fill(spec, params, idx):
    """Apply the axes (then a design) at multi-indices `idx` to `params`,
    base values of len(idx[0]) points, in place; returns params. A
    design's sample indices must be consecutive, possibly wrapping once
    (see :func:`design_rows`)."""
    p = len(idx[0]) if idx else 1
    if not spec.shape or p == 0:
        return params
    with np.errstate(over="ignore", invalid="ignore"):
        for axis, i in zip(spec.axes, idx):
            # a block repeats each axis value: indexed (ca_spread takes exp
            # once per axis value), unless the axis is the longer
            vals, index = (axis.values, i) if len(axis) < p else (axis.take(i), None)
            apply_axis(params, axis, spec.ca_weight, vals, 1, p, 1, index)
        if spec.design is not None:
            rows = design_rows(spec.design, idx[-1])
            for k, dp in enumerate(spec.design.params):
                apply_axis(params, dp, spec.ca_weight, rows[:, k], 1, p, 1)
    return params


def points_at(spec, values):
    """Kernel inputs of P points anywhere in the spec's parameter space,
    not only at grid or design points (``Spec.points_at``): ``values``
    maps each axis and design parameter name to (P,) values (an axis of
    one value may be left out: it keeps that value); the base point, then
    the axes in spec order, then the design's parameters, each applied as
    a grid point applies it. Domains are not checked."""
    values = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    names = [a.name for a in spec.axes] + (spec.design.names if spec.design else [])
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise KeyError(f"not an axis or design parameter of the spec: {', '.join(unknown)}")
    shapes = {v.shape for v in values.values()}
    if len(shapes) > 1 or any(len(s) != 1 for s in shapes):
        raise ValueError("points_at: every value array must have the same shape (P,)")
    p = next(iter(shapes))[0] if shapes else 1
    params = base_arrays(spec, p)
    with np.errstate(over="ignore", invalid="ignore"):
        for axis in spec.axes:
            if axis.name in values:
                v = values[axis.name]
            elif axis.size == 1:
                v = np.full(p, axis.take(np.array([0]))[0])
            else:
                raise KeyError(f"points_at: no values for the axis {axis.name!r}")
            apply_axis(params, axis, spec.ca_weight, v, 1, p, 1)
        for dp in (spec.design.params if spec.design is not None else []):
            if dp.name not in values:
                raise KeyError(f"points_at: no values for the design parameter {dp.name!r}")
            apply_axis(params, dp, spec.ca_weight, values[dp.name], 1, p, 1)
    return params


def design_rows(design, s):
    """A design's rows at sample indices s (consecutive, possibly wrapping
    once past the end: a block is a contiguous flat range)."""
    size = design.size
    if s.size >= size:
        return design.rows(0, size)[s]
    s0, s1 = int(s[0]), int(s[-1])
    if s1 >= s0:
        return design.rows(s0, s1 + 1)[s - s0]
    rows = np.concatenate([design.rows(s0, size), design.rows(0, s1 + 1)])
    return rows[(s - s0) % size]


def _base_key(spec):
    """What the base arrays of a spec depend on (a task of the distributed
    scheduler gets its own copy of the spec: compared by value)."""
    return (float(spec.labor), float(spec.labor_share), spec.n_sectors,
            tuple(np.asarray(spec.sectors[name], np.float64).tobytes()
                  for name in SECTOR_PARAMS),
            frozenset(spec.varying_params()))


class _Buffers:
    def __init__(self, spec, p):
        self.key = _base_key(spec)
        self.p = p
        self.varying = spec.varying_params()
        self.arrays = base_arrays(spec, p)

    def reset(self, spec):
        """The varying arrays back to their base values."""
        for name in self.varying:
            a = self.arrays[name]
            if a.ndim == 1:
                a.fill(getattr(spec, name))
            else:
                _tile_rows(spec.sectors[name], a)


def build(spec, start, stop, slot=0):
    """Kernel inputs of flat indices [start, stop) of `spec`'s grid, equal to
    ``spec.block(start, stop)``, in this thread's reused buffers (those of
    `slot`: a thread may keep several blocks)."""
    start, stop = _check_range(spec, start, stop)
    p = stop - start
    me = (threading.get_ident(), slot)
    buf = _BUFFERS.get(me)
    if buf is None or buf.p != p or buf.key != _base_key(spec):
        _BUFFERS.pop(me, None)  # the old buffers go before the new ones come
        buf = _BUFFERS[me] = _Buffers(spec, p)
    else:
        buf.reset(spec)
    if not spec.shape:
        return dict(buf.arrays)
    box = _box(spec.shape, start, stop) if spec.design is None else None
    if box is None:
        idx = np.unravel_index(np.arange(start, stop, dtype=np.int64), spec.shape)
        return dict(fill(spec, buf.arrays, idx))
    with np.errstate(over="ignore", invalid="ignore"):
        for j, axis in enumerate(spec.axes):
            a, m, b, vals = _axis_view(spec.shape, box, j, axis, p)
            apply_axis(buf.arrays, axis, spec.ca_weight, vals, a, m, b)
    return dict(buf.arrays)


def _box(shape, start, stop):
    """(k, first multi-index, c) when the flat range [start, stop) is the
    box (i_0, ..., i_{k-1}, i_k .. i_k + c - 1, all of axes k+1 ...) of the
    grid (a chunk of engine/spec/layout.py is one), else None."""
    p = stop - start
    if p <= 0:
        return None
    first = tuple(int(i) for i in np.unravel_index(start, shape))
    inner = 1
    for k in reversed(range(len(shape))):
        if start % inner == 0 and p % inner == 0 and 1 <= p // inner <= shape[k] - first[k]:
            return k, first, p // inner
        inner *= shape[k]
    return None


def _axis_view(shape, box, j, axis, p):
    """(A, m, B, values): the box's p points, in C order, are A runs of the
    m values of axis j, each value repeated B times (an axis before the
    box's run: one value for the whole box). An axis after the run has all
    its values in the box (at most p: a long range is read by index)."""
    k, first, c = box
    if j < k:
        return 1, 1, p, axis.take(np.array([first[j]]))
    b = math.prod(shape[j + 1:])
    if j == k:
        return 1, c, b, axis.take(np.arange(first[k], first[k] + c))
    return c * math.prod(shape[k + 1:j]), shape[j], b, axis.values


class Ahead:
    """The blocks of `ranges` ([(start, stop)], in the order they will be
    asked for) built one ahead in a thread of its own: ``take(start,
    stop)`` returns the block of the next range (a range skipped, e.g. a
    chunk already done, is dropped on the way), which stays valid until
    the next ``take`` (its buffers are then built into again). A range
    asked for out of order is built in the caller's thread. An error in
    the thread is raised by the ``take`` of its range. ``close`` stops the
    thread (a context manager)."""

    def __init__(self, spec, ranges):
        self._spec = spec
        self._ranges = [(int(a), int(b)) for a, b in ranges]
        self._pending = set(self._ranges)  # built or to be built, not yet taken
        self._ready = queue.Queue()
        self._free = threading.Semaphore(2)  # the two buffer sets
        self._taken = False  # a block handed out, its set not yet free
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="coordsweep-blocks",
                                        daemon=True)
        self._thread.start()

    def _loop(self):
        for k, (start, stop) in enumerate(self._ranges):
            self._free.acquire()
            if self._stop:
                return
            try:
                item = (start, stop), build(self._spec, start, stop, slot=1 + k % 2), None
            except BaseException as exc:  # noqa: BLE001 - raised by take
                item = (start, stop), None, exc
            self._ready.put(item)

    def take(self, start, stop):
        """The block of [start, stop) (built ahead when it is the next of
        the ranges not yet taken)."""
        if self._taken:  # the caller is done with the block it took last
            self._free.release()
            self._taken = False
        want = (int(start), int(stop))
        while want in self._pending:
            got, block, exc = self._ready.get()
            self._pending.discard(got)
            if got == want:
                self._taken = True
                if exc is not None:
                    raise exc
                return block
            self._free.release()  # a range skipped: its set is free again
        return build(self._spec, *want)

    def close(self):
        self._stop = True
        self._free.release()
        self._free.release()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def release():
    """Drop every thread's buffers (the runner, at the end of a run's tasks:
    their memory back; a block built before must no longer be in use)."""
    _BUFFERS.clear()
