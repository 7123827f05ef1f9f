"""engine/analysis/flags.py, results.py, geometry.py: status decoding and counts, regime counts, the
computed-point mask (from the store's chunk Layout), on hand-made arrays
whose answers are counted here independently."""
import numpy as np
import xarray as xr

from coordsweep.engine.analysis import flags, geometry, results
from coordsweep.engine.store import provenance
from coordsweep.engine.spec.layout import Layout
from coordsweep.kernels import codes


def test_describe_status():
    assert flags.describe_status(0) == ["ok"]
    assert flags.describe_status(codes.PATH_SHAPE | codes.NON_FINITE) == \
        ["path_shape", "non_finite"]
    assert flags.describe_status(codes.NOT_COMPUTED) == ["not_computed"]
    # bit 7 of the int8 (128 as a bit field) is a refined store's filled point
    assert flags.describe_status(128 | codes.WAGE_NOT_CONVERGED) == \
        ["wage_not_converged", "filled"]
    # a store's own bit names win
    assert flags.describe_status(3, {1: "a", 2: "b"}) == ["a", "b"]
    assert flags.describe_status(5, {1: "a"}) == ["a", "unknown(4)"]


def test_status_counts_leave_out_uncomputed_points():
    s = np.array([0, 0, codes.PATH_SHAPE, codes.PATH_SHAPE | codes.NON_FINITE,
                  codes.NOT_COMPUTED, codes.NOT_COMPUTED, 128], dtype=np.int64)
    c = results.status_counts(s)
    assert c.computed == 5 and c.missing == 2 and c.ok == 2 and c.unknown == 0
    assert c.bits["path_shape"] == 2 and c.bits["non_finite"] == 1 and c.bits["filled"] == 1
    assert c.bits["wage_not_converged"] == 0 and c.bits["not_computed"] == 0
    # NaN (a masked point) is not computed either
    c = results.status_counts(np.array([0.0, np.nan, 4.0]))
    assert (c.computed, c.ok, c.missing, c.bits["path_shape"]) == (2, 1, 1, 1)
    line = results.status_line(results.status_counts(s))
    assert line == ("ok 2 of 5 computed points; path_shape 2; non_finite 1; filled 1; "
                    "not computed yet 2")


def test_code_and_regime_counts():
    found, missing = results.code_counts(np.array([3.0, 1.0, np.nan, 3.0, -1.0]))
    assert found == {-1: 1, 1: 1, 3: 2} and list(found) == [-1, 1, 3] and missing == 1
    reg = np.array([[[0, 2], [2, 2]], [[5, 2], [0, -1]]], dtype=np.int8)   # (2, 2, sectors)
    per = results.regime_counts(reg)
    assert per == [({0: 2, 2: 1, 5: 1}, 0), ({-1: 1, 2: 3}, 0)]


def _dataset(shape, chunks, done):
    axes = [f"a{k}" for k in range(len(shape))]
    coords = {a: (a, np.arange(n, dtype=float)) for a, n in zip(axes, shape)}
    return xr.Dataset({"n_equilibria": (axes, np.ones(shape, np.int64)),
                       "chunk_done": (("chunk",), np.asarray(done, np.int8))},
                      coords=coords, attrs={"chunk_shape": list(chunks)})


def test_computed_mask_follows_the_layout():
    shape, chunks = (5, 3, 4), (1, 2, 4)
    layout = Layout(shape, chunks)
    done = np.zeros(layout.nchunks, bool)
    done[[0, 3, layout.nchunks - 1]] = True
    mask = geometry.computed_mask(_dataset(shape, chunks, done))
    assert mask.dims == ("a0", "a1", "a2")
    # independently: the chunk of point (i, j, k) is i * 2 + j // 2
    i, j, k = np.meshgrid(*map(np.arange, shape), indexing="ij")
    np.testing.assert_array_equal(mask.values, done[i * 2 + j // 2])


def test_computed_mask_none_when_complete_or_unknown():
    assert geometry.computed_mask(_dataset((4,), (2,), [1, 1])) is None
    assert geometry.computed_mask(_dataset((4,), (2,), [1, 0, 0])) is None   # wrong count
    ds = _dataset((4,), (2,), [1, 0])
    del ds.attrs["chunk_shape"]
    assert geometry.computed_mask(ds) is None


def test_mask_uncomputed():
    ds = _dataset((4,), (2,), [0, 1])
    da = xr.DataArray(np.array([True, False, True, True]), dims=("a0",))
    out = geometry.mask_uncomputed(da, geometry.computed_mask(ds))
    assert np.isnan(out.values[:2]).all() and out.values[2:].tolist() == [1, 1]


def test_axes_sectors_and_versions():
    ds = _dataset((3, 2), (1, 2), [1, 1, 1])
    assert geometry.sweep_axes(ds) == ("a0", "a1")
    assert geometry.sector_names(ds) == []
    v = provenance.versions()
    assert tuple(v) == provenance.VERSION_ATTRS and all(v.values())


def test_one_byte_counts_match_the_general_path():
    """status_counts and code_counts of int8/uint8 arrays (one histogram of
    the 256 byte values) against the same values as int16 (a pass a bit):
    every byte value, the not-computed bit, the refined store's -128."""
    from coordsweep.engine.analysis.flags import COMPUTED_STATUS_NAMES
    rng = np.random.default_rng(7)
    for dtype in (np.int8, np.uint8):
        info = np.iinfo(dtype)
        cases = [np.arange(info.min, info.max + 1).astype(dtype), np.zeros(0, dtype)]
        for _ in range(20):
            cases.append(rng.integers(info.min, info.max + 1, size=int(rng.integers(1, 500)))
                         .astype(dtype))
            cases.append(rng.choice(np.array([0, 1, 8, 64, 65, info.min, info.max], dtype),
                                    size=int(rng.integers(1, 500))))
        for a in cases:
            wide = a.astype(np.int16)
            for bits in (None, COMPUTED_STATUS_NAMES):
                assert results.status_counts(a, bits) == results.status_counts(wide, bits)
            fast, slow = results.code_counts(a), results.code_counts(wide)
            assert fast == slow and list(fast[0]) == list(slow[0])  # (same order too)
