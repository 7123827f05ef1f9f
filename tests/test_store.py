"""The store module (engine/store/zarrstore.py) on its own: create / write_chunk /
finalize / done_chunks / read_attrs, with hand-made outputs (no kernels):
what each step writes, and what it refuses to touch."""
import os

import numpy as np
import pytest

from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.errors import StoreError
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.store.provenance import VERSION_ATTRS
from coordsweep.engine.spec.model import parse_spec
from coordsweep.kernels.codes import NOT_COMPUTED, REGIME_NAMES
from coordsweep.kernels.outputs import OUTPUTS
from engine_helpers import assert_same_snapshot, open_dataset, snapshot
from specs import TWO_SECTORS, spec_text

SPEC = parse_spec(spec_text("store test", TWO_SECTORS,
                            axes={"externality_scale": (0.0, 2.0, 5),
                                  "cost_scale": (0.0, 3.0, 4)}))
# 5 x 4 grid, chunks of 2 x 4: chunk 0 = rows 0-1, 1 = rows 2-3, 2 = row 4
LAYOUT = Layout.for_grid(SPEC.shape, chunk_points=8)


def test_layout_of_the_tests():
    assert LAYOUT.chunks == (2, 4) and LAYOUT.nchunks == 3


def outputs_for(chunk_id, layout=LAYOUT, nsec=2):
    """Made-up outputs of one chunk: every value says which point (and
    sector) it belongs to, so a misplaced write shows."""
    start, stop = layout.flat_range(chunk_id)
    flat = np.arange(start, stop)
    out = {}
    for o in OUTPUTS:
        base = flat if o.per == "point" else flat[:, None] * nsec + np.arange(nsec)
        if o.name == "regime":
            out[o.name] = (base % len(REGIME_NAMES)).astype(o.dtype)
        elif np.dtype(o.dtype) == np.bool_:
            out[o.name] = base % 2 == 1
        elif np.dtype(o.dtype).kind == "i":
            out[o.name] = (base % 5).astype(o.dtype)
        else:
            out[o.name] = (0.5 + base).astype(o.dtype)
    return out


@pytest.fixture
def created(tmp_path):
    path = str(tmp_path / "s.zarr")
    zstore.create(path, SPEC, LAYOUT)
    return path


def test_create_writes_the_template_only(created):
    assert zstore.exists(created)
    attrs = zstore.read_attrs(created)
    assert attrs["complete"] == 0
    assert attrs["chunks_total"] == 3 and attrs["chunks_done"] == 0
    assert attrs["chunk_shape"] == [2, 4]
    assert attrs["spec"] == SPEC.text and attrs["title"] == "store test"
    assert set(VERSION_ATTRS) <= set(attrs)
    assert not zstore.done_chunks(created).any()
    ds = open_dataset(created)
    assert ds.sizes["externality_scale"] == 5 and ds.sizes["cost_scale"] == 4
    assert list(ds["sector"].values) == ["agro", "manu"]
    assert (ds["status"].values == NOT_COMPUTED).all()
    assert np.isnan(ds["welfare_nc"].values).all()
    assert (ds["regime"].values == -1).all()


def test_create_refuses_an_existing_store(created):
    before = snapshot(created)
    with pytest.raises(StoreError, match="already exists"):
        zstore.create(created, SPEC, LAYOUT)
    assert_same_snapshot(before, snapshot(created))


def test_create_with_overwrite_replaces_a_store(created):
    zstore.write_chunk(created, LAYOUT, 0, outputs_for(0), 2)
    zstore.create(created, SPEC, LAYOUT, overwrite=True)
    assert not zstore.done_chunks(created).any()
    assert np.isnan(open_dataset(created)["welfare_nc"].values).all()


def test_write_chunk_writes_its_region_and_marks_it(created):
    zstore.write_chunk(created, LAYOUT, 1, outputs_for(1), 2)
    assert zstore.done_chunks(created).tolist() == [False, True, False]
    ds = open_dataset(created)
    written = np.zeros(LAYOUT.shape, bool)
    written[2:4, :] = True
    flat = np.arange(20).reshape(5, 4)
    for o in OUTPUTS:
        v = ds[o.name].values
        assert v.dtype == np.dtype(o.dtype), o.name
        want = outputs_for(1)[o.name].reshape((2, 4) + ((2,) if o.per == "sector" else ()))
        np.testing.assert_array_equal(v[2:4], want, err_msg=o.name)
    # the rest still reads as never written
    assert (ds["status"].values[~written] == NOT_COMPUTED).all()
    assert np.isnan(ds["welfare_nc"].values[~written]).all()
    np.testing.assert_array_equal(ds["welfare_nc"].values[written], 0.5 + flat[written])


def test_finalize_records_completeness(created):
    for cid in (0, 2):
        zstore.write_chunk(created, LAYOUT, cid, outputs_for(cid), 2)
    assert zstore.finalize(created) is False
    attrs = zstore.read_attrs(created)
    assert attrs["complete"] == 0 and attrs["chunks_done"] == 2
    assert "completed" not in attrs  # (no completion date before it is complete)
    zstore.write_chunk(created, LAYOUT, 1, outputs_for(1), 2)
    assert zstore.finalize(created) is True
    attrs = zstore.read_attrs(created)
    assert attrs["complete"] == 1 and attrs["chunks_done"] == 3
    assert "completed" in attrs
    # what xarray reads says so too
    assert open_dataset(created).attrs["complete"] == 1
    assert zstore.done_chunks(created).all()
    # a chunk found bad again (repair): not complete, no completion date
    from coordsweep.engine.store import verify
    verify.unmark(created, [1])
    assert zstore.finalize(created) is False
    attrs = zstore.read_attrs(created)
    assert attrs["complete"] == 0 and "completed" not in attrs


def test_last_partial_chunk(created):
    """Chunk 2 is one row (the grid does not divide evenly)."""
    assert LAYOUT.region_shape(2) == (1, 4)
    zstore.write_chunk(created, LAYOUT, 2, outputs_for(2), 2)
    ds = open_dataset(created)
    np.testing.assert_array_equal(ds["welfare_nc"].values[4], 0.5 + np.arange(16, 20))
    assert np.isnan(ds["welfare_nc"].values[:4]).all()


def test_read_attrs_refuses_what_is_not_a_coordsweep_store(tmp_path):
    import zarr
    plain = tmp_path / "plain.zarr"
    zarr.open_group(str(plain), mode="w").attrs["something"] = 1
    with pytest.raises(StoreError, match="not a coordsweep results store"):
        zstore.read_attrs(str(plain))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a zarr store written by coordsweep"):
        zstore.read_attrs(str(junk))
    assert (junk / "notes.txt").read_text() == "mine"
    assert not zstore.exists(str(tmp_path / "missing.zarr"))


def test_unknown_protocol_is_a_store_error():
    with pytest.raises(StoreError, match="cannot open"):
        zstore.exists("nosuchprotocol://bucket/x.zarr")


@pytest.mark.parametrize("url, path", [
    ("file:///tmp/a.zarr", "/tmp/a.zarr"),
    ("file://localhost/tmp/a.zarr", "/tmp/a.zarr"),
    ("file://rel/a.zarr", "rel/a.zarr"),
    ("/tmp/a.zarr", "/tmp/a.zarr"),
    ("s3://bucket/a.zarr", "s3://bucket/a.zarr"),
])
def test_normalize(url, path):
    assert zstore.normalize(url) == path


def test_open_group_is_read_only(created):
    group = zstore.open_group(created)
    with pytest.raises(ValueError):
        group["chunk_done"][0] = 1
    assert not zstore.done_chunks(created).any()
    assert os.path.isdir(created)


def test_existing(created, tmp_path):
    assert zstore.existing("file://" + created) == created
    with pytest.raises(StoreError, match="no such store"):
        zstore.existing(str(tmp_path / "missing.zarr"))
    (tmp_path / "other").mkdir()
    with pytest.raises(StoreError, match="not a zarr store"):
        zstore.existing(str(tmp_path / "other"))
