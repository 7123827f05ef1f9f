"""An incomplete store never passes off unwritten points as results:
xarray.open_zarr reads them as NaN (floats), -1 (regime, targets,
n_equilibria) and the NOT_COMPUTED status bit; written chunks are intact."""
import numpy as np

from engine_helpers import make_partial_store, open_dataset, three_sector_spec, write_spec
from coordsweep.engine.analysis.flags import describe_status
from coordsweep.kernels.codes import NOT_COMPUTED, STATUS_BITS


def test_unwritten_chunks_read_as_not_computed(tmp_path):
    spec = write_spec(tmp_path, three_sector_spec(n_theta=9, n_cost=5))
    store = tmp_path / "partial.zarr"
    layout = make_partial_store(spec, store, 10, [1])   # only chunk 1 of several
    assert layout.nchunks > 2
    ds = open_dataset(str(store))
    written = np.zeros(layout.shape, bool)
    written[layout.region(1)] = True
    status = ds.status.values
    assert ds.status.dtype == np.int8 and ds.regime.dtype == np.int8
    assert (status[~written] == NOT_COMPUTED).all()
    assert not (status[written] & NOT_COMPUTED).any()
    assert (ds.regime.values[~written] == -1).all()
    assert (ds.regime.values[written] >= 0).all()
    for name in ("n_equilibria", "target_ca", "target_cluster", "target_best"):
        assert (ds[name].values[~written] == -1).all(), name
        assert (ds[name].values[written] >= 0).all(), name
    assert np.isnan(ds.wage_nc.values[~written]).all()
    assert np.isfinite(ds.wage_nc.values[written]).all()
    assert describe_status(NOT_COMPUTED) == ["not_computed"]
    assert NOT_COMPUTED in ds.status.attrs["flag_masks"]
    assert "not_computed" in ds.status.attrs["flag_meanings"].split()
    assert len({bit for bit, _, _ in STATUS_BITS}) == len(STATUS_BITS)


def test_file_url_store(tmp_path):
    """A store given as a file:// URL is the same store as the plain path."""
    import coordsweep
    from coordsweep.engine.cli import main
    spec = write_spec(tmp_path, three_sector_spec(n_theta=5, n_cost=3))
    url = "file://" + str(tmp_path / "url.zarr")
    ds = coordsweep.run(spec, store=url, scheduler="synchronous", progress=False)
    assert ds.attrs["complete"] == 1
    assert (tmp_path / "url.zarr" / "zarr.json").exists()
    assert main(["inspect", url]) == 0
    again = open_dataset(str(tmp_path / "url.zarr"))
    assert np.array_equal(again.wage_nc.values, ds.wage_nc.values, equal_nan=True)


def test_inspect_counts_status_of_computed_points(tmp_path, capsys):
    from coordsweep.engine.cli import main
    spec = write_spec(tmp_path, three_sector_spec(n_theta=9, n_cost=5))
    store = tmp_path / "partial.zarr"
    layout = make_partial_store(spec, store, 10, [0, 2])
    written = sum(layout.flat_range(c)[1] - layout.flat_range(c)[0] for c in (0, 2))
    status = open_dataset(str(store)).status.values
    ok = int((status == 0).sum())
    assert main(["inspect", str(store)]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("status: "))
    assert f"ok {ok:,} of {written:,} computed points" in line
    assert f"not computed yet {layout.size - written:,}" in line


def test_resume_finishes_a_store_killed_after_its_last_chunk(tmp_path):
    """Every chunk written and recorded, but the run died before marking the
    store complete: --resume computes nothing and marks it complete."""
    from coordsweep.engine.cli import main
    from engine_helpers import chunk_done, store_attrs
    spec = write_spec(tmp_path, three_sector_spec(n_theta=9, n_cost=5))
    store = tmp_path / "full.zarr"
    layout = make_partial_store(spec, store, 10, range(5))
    assert layout.nchunks == 5 and chunk_done(str(store)).all()
    assert store_attrs(str(store))["complete"] == 0
    assert main(["run", str(spec), "--store", str(store), "--resume",
                 "--scheduler", "synchronous", "--quiet"]) == 0
    attrs = store_attrs(str(store))
    assert attrs["complete"] == 1 and attrs["chunks_done"] == 5


def test_store_locations(tmp_path):
    from coordsweep.engine.cli import main
    from coordsweep.engine.store.zarrstore import normalize
    assert normalize("file:///tmp/a.zarr") == "/tmp/a.zarr"
    assert normalize("file://localhost/tmp/a.zarr") == "/tmp/a.zarr"
    assert normalize("s3://bucket/a.zarr") == "s3://bucket/a.zarr"
    assert normalize("results/a.zarr") == "results/a.zarr"
    assert main(["inspect", "nosuchproto://x/y.zarr"]) == 2
