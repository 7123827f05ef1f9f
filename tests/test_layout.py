"""Chunk layouts: contiguous flat ranges that tile the grid exactly once,
and default sizes that keep tasks few and large."""
import itertools
import math

import numpy as np
import pytest

from coordsweep.engine.spec.layout import Layout, default_chunk_points


@pytest.mark.parametrize("shape", [(7, 5, 3), (1000,), (3, 1, 4), (), (2, 2, 2, 2)])
@pytest.mark.parametrize("target", [1, 2, 4, 7, 15, 16, 100, 10**6])
def test_chunks_tile_the_grid_as_contiguous_flat_ranges(shape, target):
    layout = Layout.for_grid(shape, target)
    size = math.prod(shape)
    flat = np.arange(size).reshape(shape) if shape else np.array(0)
    covered = np.zeros(size, int)
    for cid in range(layout.nchunks):
        start, stop = layout.flat_range(cid)
        region = layout.region(cid)
        # the region of the grid is exactly the flat range [start, stop)
        assert np.array_equal(np.ravel(flat[region]), np.arange(start, stop))
        assert math.prod(layout.region_shape(cid)) == stop - start
        covered[start:stop] += 1
        assert stop - start <= max(target, 1) or max(layout.chunks) == 1
    assert (covered == 1).all()


def test_chunk_shape_takes_whole_trailing_axes():
    assert Layout.for_grid((100, 100, 100), 25_000).chunks == (2, 100, 100)
    assert Layout.for_grid((10, 20), 1).chunks == (1, 1)
    assert Layout.for_grid((10, 20), 10**9).chunks == (10, 20)
    with pytest.raises(ValueError):
        Layout((10, 20), (2, 10))      # not a contiguous flat range
    with pytest.raises(ValueError):
        Layout((10, 20), (1, 30))      # larger than the axis


@pytest.mark.parametrize("size", [1, 10**3, 10**4, 10**5, 10**6, 10**7, 10**9, 10**11])
def test_default_chunk_size_keeps_tasks_large_and_few(size):
    points = default_chunk_points(size)
    assert points >= 10_000                      # never tiny tasks
    assert math.ceil(size / points) <= 10_000    # never more than 10^4 tasks
    if 160_000 <= size <= 800_000:
        assert math.ceil(size / points) == 16    # small clusters get several each


@pytest.mark.parametrize("shape", [(19999, 50001), (10001, 60000), (3, 7, 40000, 1000)])
def test_default_layout_never_exceeds_the_task_cap(shape):
    """Chunks round down along an axis, so the cap is checked on the layout."""
    layout = Layout.for_grid(shape)
    assert layout.nchunks <= 10_000
    assert math.prod(layout.chunks) >= 10_000
