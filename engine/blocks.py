"""Kernel input blocks built into reused buffers (engine/runner.py's tasks).

``Spec.block(start, stop)`` returns fresh arrays: nine arrays of P or P x N
float64 a chunk, every one written from the base values, then the axes
applied. A task of a run does this once per chunk, for blocks of (almost
always) the same length, and drops the block as soon as the kernel has
read it. ``build(spec, start, stop)`` gives the same arrays (bit for bit:
the same float operations in the same order, ``Spec.fill``; see
tests/test_blocks.py) from buffers kept per thread (one set each, for the last block length):

- the inputs no axis or design parameter sets or scales (``price``,
  ``scale``, ...: ``Spec.varying_params``) are written once, and reused
  as they are by every block of the same length;
- the others are reset to their base values and the axes applied in place.

No fresh memory a chunk (no page faults), about four fewer arrays to
write. A block is valid until the next ``build`` in the same thread, and
must not be modified: the kernels only read their inputs
(``kernels.solve``), and the runner hands the block to the kernel and
drops it.
"""
import threading

import numpy as np

from coordsweep.kernels.params import SECTOR_PARAMS

#: thread id -> its _Buffers (one set a thread: the last block length)
_BUFFERS = {}


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
        self.arrays = spec._base_arrays(p)

    def reset(self, spec):
        """The varying arrays back to their base values."""
        from coordsweep.engine.spec import _tile_rows
        for name in self.varying:
            a = self.arrays[name]
            if a.ndim == 1:
                a.fill(getattr(spec, name))
            else:
                _tile_rows(spec.sectors[name], a)


def build(spec, start, stop):
    """Kernel inputs of flat indices [start, stop) of `spec`'s grid, equal to
    ``spec.block(start, stop)``, in this thread's reused buffers."""
    start, stop = int(start), int(stop)
    if not 0 <= start <= stop <= spec.size:
        raise IndexError(f"block [{start}, {stop}) outside the grid of {spec.size} points")
    p = stop - start
    me = threading.get_ident()
    buf = _BUFFERS.get(me)
    if buf is None or buf.p != p or buf.key != _base_key(spec):
        _BUFFERS.pop(me, None)  # the old buffers go before the new ones come
        buf = _BUFFERS[me] = _Buffers(spec, p)
    else:
        buf.reset(spec)
    if not spec.shape:
        return dict(buf.arrays)
    idx = np.unravel_index(np.arange(start, stop, dtype=np.int64), spec.shape)
    return dict(spec.fill(buf.arrays, idx))


def release():
    """Drop every thread's buffers (the runner, at the end of a run's tasks:
    their memory back; a block built before must no longer be in use)."""
    _BUFFERS.clear()
