"""How a grid is cut into chunks: one chunk = one dask task = one zarr chunk.

A chunk has shape (1, ..., 1, c, n_{k+1}, ..., n_d): whole trailing axes,
a run of one axis, single indices before it. Such a block is a contiguous
range of flat C-order indices, so a task builds its points with
``Spec.block(start, stop)`` and writes them as one aligned region.
"""
import math
from dataclasses import dataclass

import numpy as np

#: default chunk/task size: few large tasks (>= 10^4 points each, at most
#: 10^5), and for grids under 1.6 x 10^6 points about 16 tasks so that
#: every worker of a small cluster has several to do; grids over 10^9
#: points get larger chunks so that there are never more than 10^4 tasks.
#: A task's fixed cost (done check, one chunk file per output,
#: done-marker) is small beside its points' at 10^5: on
#: benchmarks/grid_3sectors_1e7.toml (the kernel about 0.46 us a point)
#: chunks of 2 x 10^5 and 4 x 10^5 points gave the same points/s as 10^5
#: within the machine's noise, synchronous and on a local cluster of one
#: and of two workers (benchmarks/e2e_breakdown.py --chunk-points, two
#: runs each), while the last chunk's write, after the computing, and a
#: cluster's idle workers at the end grow with the chunk.
MIN_CHUNK_POINTS = 10_000
MAX_CHUNK_POINTS = 100_000
MAX_CHUNKS = 10_000
#: a refined store's (engine/run/refine.py) chunks may be larger: its tasks
#: are cut apart from its chunks, and writing a chunk, mostly fill values,
#: costs per file (one a variable) more than per point
REFINED_MAX_CHUNK_POINTS = 400_000


def default_chunk_points(size, refined=False):
    if refined:  # (fewer chunks: about 8, for the workers of a small cluster)
        points = min(REFINED_MAX_CHUNK_POINTS, max(MIN_CHUNK_POINTS, math.ceil(size / 8)))
    else:
        points = min(MAX_CHUNK_POINTS, max(MIN_CHUNK_POINTS, math.ceil(size / 16)))
    return int(max(points, math.ceil(size / MAX_CHUNKS)))


def chunk_shape(shape, target):
    """Chunk shape for a grid of `shape` with about `target` points a chunk."""
    target = max(1, int(target))
    chunks = [1] * len(shape)
    prod = 1
    for k in reversed(range(len(shape))):
        if prod * shape[k] <= target:
            chunks[k] = shape[k]
            prod *= shape[k]
        else:
            chunks[k] = max(1, target // prod)
            break
    return tuple(chunks)


@dataclass(frozen=True)
class Layout:
    shape: tuple      # grid shape (axis lengths, spec order)
    chunks: tuple     # chunk shape (see module doc)

    def __post_init__(self):
        if len(self.shape) != len(self.chunks):
            raise ValueError("chunk shape and grid shape differ in length")
        for n, c in zip(self.shape, self.chunks):
            if not 1 <= c <= n:
                raise ValueError(f"chunk {self.chunks} invalid for grid {self.shape}")
        # contiguous: after the first axis with chunk > 1, all chunks are full
        first = next((k for k, c in enumerate(self.chunks) if c > 1), len(self.chunks))
        if any(c != n for c, n in zip(self.chunks[first + 1:], self.shape[first + 1:])):
            raise ValueError(f"chunk {self.chunks} is not contiguous in {self.shape}")

    @classmethod
    def for_grid(cls, shape, chunk_points=None, refined=False):
        """The layout of a grid: chunks of about `chunk_points` points, by
        default default_chunk_points (`refined`: a refined store's)."""
        shape = tuple(int(n) for n in shape)
        if chunk_points is not None:
            return cls(shape, chunk_shape(shape, chunk_points))
        points = default_chunk_points(math.prod(shape), refined)
        layout = cls(shape, chunk_shape(shape, points))
        while layout.nchunks > MAX_CHUNKS:  # chunks round down along an axis
            points *= 2
            layout = cls(shape, chunk_shape(shape, points))
        return layout

    @property
    def grid(self):
        """Number of chunks along each axis."""
        return tuple(math.ceil(n / c) for n, c in zip(self.shape, self.chunks))

    @property
    def nchunks(self):
        return math.prod(self.grid)

    @property
    def size(self):
        return math.prod(self.shape)

    def region(self, chunk_id):
        """Tuple of slices of the chunk in the grid."""
        idx = np.unravel_index(int(chunk_id), self.grid) if self.grid else ()
        return tuple(slice(int(i) * c, min((int(i) + 1) * c, n))
                     for i, c, n in zip(idx, self.chunks, self.shape))

    def region_shape(self, chunk_id):
        return tuple(s.stop - s.start for s in self.region(chunk_id))

    def flat_range(self, chunk_id):
        """[start, stop) of the chunk's points in flat C order."""
        region = self.region(chunk_id)
        if not region:
            return 0, 1
        start = int(np.ravel_multi_index(tuple(s.start for s in region), self.shape))
        return start, start + math.prod(s.stop - s.start for s in region)
