"""engine/spec/blocks.py: kernel inputs built into reused buffers equal, bit for
bit, the fresh blocks of Spec.block, and both equal a point-by-point
construction (every factor computed for its own point, the way
Spec.block built blocks before the exp table and the row tiling)."""
import threading

import numpy as np
import pytest

from coordsweep.engine.spec import blocks
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.spec.model import parse_spec
from coordsweep.kernels.params import SECTOR_PARAMS

from test_designs import design_spec
from test_spec import GRID_TEXT

CA_GRID = """
name = "blocks"
[model]
labor = 1.0
labor_share = 0.6
[[model.sectors]]
name = "a"
price = 1.0
productivity = 1.3
externality = 0.3
cost = 0.1
ca_weight = 0.5
[[model.sectors]]
name = "b"
price = 1.1
productivity = 1.0
externality = 0.6
cost = 0.2
ca_weight = -0.25
[[model.sectors]]
name = "c"
price = 0.9
productivity = 0.8
externality = 1.2
cost = 0.1
ca_weight = -0.5
[axes.externality_scale]
start = 0.0
stop = 2.0
num = 7
[axes.cost_scale]
start = 0.1
stop = 4.0
num = 5
[axes.ca_spread]
start = -1.7
stop = 2.3
num = 11
"""

SECTOR_AXES = CA_GRID.split("[axes.")[0] + """
[axes."cost.b"]
values = [0.05, 0.3, 0.2]
[axes.labor_share]
values = [0.5, 0.7]
[axes.price]
values = [0.9, 1.2]
[axes."externality.c"]
values = [0.4, 0.1, 0.9]
[axes.ca_spread]
values = [-0.5, 0.25, 1.0, 1.5]
[axes.externality_scale]
values = [0.5, 2.0]
"""

SPECS = {
    "sector axes first": lambda: parse_spec(SECTOR_AXES),
    "scale axes": lambda: parse_spec(CA_GRID),
    "mixed axes": lambda: parse_spec(GRID_TEXT),
    "axes + design": lambda: design_spec(
        "sobol", 8, axes='[axes.ca_spread]\nvalues = [-0.5, 0.25, 1.0]\n'
                        '[axes."cost.agro"]\nvalues = [0.1, 0.2, 0.3]\n'),
}


def reference(spec, start, stop):
    """The block point by point: base values broadcast, every axis applied
    with its values at each point (exp of each point's own argument)."""
    p = stop - start
    n = spec.n_sectors
    params = {"labor": np.full(p, spec.labor), "labor_share": np.full(p, spec.labor_share)}
    for name in SECTOR_PARAMS:
        params[name] = np.empty((p, n))
        params[name][:] = spec.sectors[name]
    if p == 0:
        return params
    idx = np.unravel_index(np.arange(start, stop), spec.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        for axis, i in zip(spec.axes, idx):
            _reference_apply(spec, params, axis, axis.values[i])
        if spec.design is not None:
            rows = blocks.design_rows(spec.design, idx[-1])
            for k, dp in enumerate(spec.design.params):
                _reference_apply(spec, params, dp, rows[:, k])
    return params


def _reference_apply(spec, params, axis, v):
    """CONTRACT.md's axis names, point by point (v: one value a point)."""
    scaled = {"externality_scale": "externality", "cost_scale": "cost"}
    for q in range(v.size):
        if axis.kind in scaled:
            params[scaled[axis.kind]][q, :] *= v[q]
        elif axis.kind == "ca_spread":
            params["productivity"][q, :] *= np.exp(v[q:q + 1, None] * spec.ca_weight[None, :])[0]
        elif axis.kind == "global_param":
            params[axis.param][q] = v[q]
        elif axis.sector is None:
            params[axis.param][q, :] = v[q]
        else:
            params[axis.param][q, axis.sector] = v[q]


def assert_same(a, b):
    assert set(a) == set(b)
    for k in a:
        assert a[k].dtype == b[k].dtype == np.float64, k
        assert a[k].shape == b[k].shape, k
        assert b[k].flags.c_contiguous, k
        assert np.array_equal(a[k], b[k]), k  # bit for bit (no NaN in these grids)


def ranges(spec):
    """Chunks of two layouts, then ranges of other lengths (a new buffer
    size), single points and the empty range, mixed."""
    out = []
    for points in (spec.size // 4 + 1, 37):
        layout = Layout.for_grid(spec.shape, points)
        out += [layout.flat_range(c) for c in range(layout.nchunks)]
    out += [(0, spec.size), (spec.size - 1, spec.size), (3, 3), (5, 77 % spec.size + 5),
            (0, 1)] + out[:3]
    return [(a, min(b, spec.size)) for a, b in out]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_build_equals_block_and_the_point_by_point_reference(name):
    spec = SPECS[name]()
    for start, stop in ranges(spec):
        ref = reference(spec, start, stop)
        assert_same(ref, spec.block(start, stop))
        assert_same(ref, blocks.build(spec, start, stop))
    blocks.release()


def test_whole_ca_spread_grid_in_chunks_of_a_run():
    """Every chunk of the default layout, as a run builds them one after
    the other in one thread (buffers reused: constants not rewritten,
    the varying inputs reset each time)."""
    spec = parse_spec(CA_GRID.replace("num = 11", "num = 300"))
    layout = Layout.for_grid(spec.shape, 1000)
    for cid in range(layout.nchunks):
        start, stop = layout.flat_range(cid)
        assert_same(reference(spec, start, stop), blocks.build(spec, start, stop))
    blocks.release()


def test_buffers_follow_the_spec_and_the_thread():
    """Another spec (other base values) or another thread never gets the
    buffers of the first."""
    a = parse_spec(CA_GRID)
    b = parse_spec(CA_GRID.replace("price = 1.1", "price = 1.7"))
    first = blocks.build(a, 0, 10)
    assert first["price"][0, 1] == 1.1
    assert blocks.build(b, 0, 10)["price"][0, 1] == 1.7
    assert blocks.build(a, 0, 10)["price"][0, 1] == 1.1
    seen = {}

    def other():
        seen["block"] = blocks.build(a, 10, 20)

    own = blocks.build(a, 0, 10)
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen["block"]["cost"] is not own["cost"]
    assert_same(reference(a, 0, 10), own)
    assert_same(reference(a, 10, 20), seen["block"])
    blocks.release()


@pytest.mark.parametrize("start, stop", [(-1, 3), (5, 4), (0, 386)])
def test_build_outside_the_grid(start, stop):
    spec = parse_spec(CA_GRID)
    assert spec.size == 385
    with pytest.raises(IndexError):
        blocks.build(spec, start, stop)


@pytest.mark.parametrize("name", ["scale axes", "mixed axes", "sector axes first"])
@pytest.mark.parametrize("chunk_points", [1, 2, 3, 5, 12, 37, 100])
def test_every_chunk_is_a_box_built_by_broadcasting(name, chunk_points):
    """A chunk of any layout is a box of the grid (engine/spec/layout.py), built
    without per-point indices; each axis kind before, at and after the
    box's run (the chunk sizes put the run on every axis)."""
    spec = SPECS[name]()
    layout = Layout.for_grid(spec.shape, chunk_points)
    for cid in range(layout.nchunks):
        start, stop = layout.flat_range(cid)
        box = blocks._box(spec.shape, start, stop)
        assert box is not None
        k, first, c = box
        assert first == tuple(r.start for r in layout.region(cid))
        assert c == layout.region_shape(cid)[k]
        assert_same(reference(spec, start, stop), blocks.build(spec, start, stop))
    blocks.release()


def test_ranges_that_are_not_boxes():
    spec = parse_spec(CA_GRID)  # 7 x 5 x 11
    assert blocks._box(spec.shape, 0, 12) is None   # across a row of 11
    assert blocks._box(spec.shape, 3, 14) is None
    assert blocks._box(spec.shape, 5, 5) is None
    assert blocks._box(spec.shape, 11, 33) == (1, (0, 1, 0), 2)
    assert blocks._box(spec.shape, 3, 8) == (2, (0, 0, 3), 5)
    assert blocks._box(spec.shape, 0, 385) == (0, (0, 0, 0), 7)


def _built_signals(monkeypatch):
    """blocks.build wrapped: each range the Ahead thread built, as an Event."""
    built = {}
    lock = threading.Lock()
    original = blocks.build

    def build(spec, start, stop, slot=0):
        out = original(spec, start, stop, slot)
        if slot:
            with lock:
                built.setdefault((start, stop), threading.Event()).set()
        return out

    def event(r):
        with lock:
            return built.setdefault(r, threading.Event())

    monkeypatch.setattr(blocks, "build", build)
    return event


def test_blocks_built_ahead_stay_valid_until_the_next_take(monkeypatch):
    """Every chunk of a run's layout taken in order from Ahead equals the
    reference; a block taken is left alone while the thread builds the next
    one, and the thread builds no further (two sets of buffers)."""
    event = _built_signals(monkeypatch)
    spec = parse_spec(CA_GRID.replace("num = 11", "num = 40"))
    layout = Layout.for_grid(spec.shape, 100)
    ranges = [layout.flat_range(cid) for cid in range(layout.nchunks)]
    assert len(ranges) >= 6
    with blocks.Ahead(spec, ranges) as ahead:
        for k, r in enumerate(ranges):
            block = ahead.take(*r)
            copy = {name: a.copy() for name, a in block.items()}
            if k + 1 < len(ranges):
                assert event(ranges[k + 1]).wait(60)
            if k + 2 < len(ranges):
                assert not event(ranges[k + 2]).is_set()
            assert_same(reference(spec, *r), block)
            assert_same(copy, block)
    blocks.release()


def test_ranges_skipped_or_asked_out_of_order(monkeypatch):
    """A range not taken (a chunk found done) is dropped on the way to the
    next; a range asked for out of order is built in the caller's thread;
    an error building a range is raised by its take, not before."""
    _built_signals(monkeypatch)
    spec = parse_spec(CA_GRID)  # 385 points
    ranges = [(0, 50), (50, 100), (100, 150), (150, 200), (200, 400), (200, 250)]
    with blocks.Ahead(spec, ranges) as ahead:
        assert_same(reference(spec, 0, 50), ahead.take(0, 50))
        assert_same(reference(spec, 150, 200), ahead.take(150, 200))  # two skipped
        assert_same(reference(spec, 50, 100), ahead.take(50, 100))  # out of order
        with pytest.raises(IndexError, match="outside the grid"):
            ahead.take(200, 400)
        assert_same(reference(spec, 200, 250), ahead.take(200, 250))
    blocks.release()


def test_closing_stops_the_thread():
    spec = parse_spec(CA_GRID)
    ahead = blocks.Ahead(spec, [(0, 10), (10, 20), (20, 30), (30, 40)])
    ahead.take(0, 10)
    ahead.close()
    assert not ahead._thread.is_alive()
    blocks.release()
