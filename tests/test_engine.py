"""The sweep engine end to end (CONTRACT.md "Results store"):

- the stored values do not depend on chunking, worker count or scheduler
  (synchronous, threads, a 2-worker local cluster, an external scheduler
  address): bit-identical variables;
- the value at a grid point equals `coordsweep solve --json` on that point's
  spec (Spec.point_spec_text);
- the store layout: dims, coordinates, variables, dtypes, attributes.
"""
import importlib.metadata
import logging
import os

import numpy as np
import pytest

from engine_helpers import (assert_identical_stores, coordsweep_popen, json_matches,
                            open_dataset, parse_json, store_attrs, three_sector_spec,
                            write_spec)

N_THETA, N_COST = 31, 21  # 651 points, 3 sectors

#: a dask HTTP server on the default port of another cluster on the machine
pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use")


@pytest.fixture(scope="module")
def cluster():
    """One 2-worker dask.distributed cluster for the module (an "external"
    scheduler from the engine's point of view)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None,
                                  silence_logs=logging.ERROR) as cl:
        yield cl


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    """The reference run: synchronous scheduler, default (one large) chunk."""
    from coordsweep.engine.run.runner import run_sweep
    from coordsweep.engine.spec.model import load_spec
    d = tmp_path_factory.mktemp("ref")
    spec_path = write_spec(d, three_sector_spec(N_THETA, N_COST))
    store = os.path.join(d, "ref.zarr")
    result = run_sweep(spec_path, store, scheduler="synchronous", progress=False)
    assert result.chunks_total == 1 and result.chunks_computed == 1
    return {"spec_path": spec_path, "spec": load_spec(spec_path), "store": store,
            "result": result}


# --- 1. bit-identical stores -------------------------------------------------------
# (scheduler, workers, chunk_points, expected number of chunks)
CONFIGS = [
    pytest.param("threads", 2, 150, 5, id="threads-2-chunks-of-7-rows"),
    pytest.param("local", 2, 100, 8, id="local-2-workers-chunks-of-4-rows"),
    pytest.param("address", None, 300, 3, id="address-chunks-of-14-rows"),
]


@pytest.mark.parametrize("scheduler, workers, chunk_points, nchunks", CONFIGS)
def test_bit_identical_across_schedulers_and_chunking(ref, cluster, tmp_path, scheduler,
                                                      workers, chunk_points, nchunks):
    from coordsweep.engine.run.runner import PINNED_THREADS, run_sweep
    if scheduler == "address":
        scheduler = cluster.scheduler_address
    store = tmp_path / "s.zarr"
    saved = {var: os.environ.get(var) for var in PINNED_THREADS}
    try:
        result = run_sweep(ref["spec_path"], store, scheduler=scheduler, workers=workers,
                           chunk_points=chunk_points, progress=False)
    finally:  # "local" pins the thread counts in os.environ: restore them
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    # the chunking really differs from the reference (one chunk)
    assert result.chunks_total == nchunks
    assert result.chunks_computed == nchunks
    assert store_attrs(store)["complete"] == 1
    assert_identical_stores(ref["store"], store)
    # the summary does not depend on the chunking either
    for key in ("points", "share_multiple_equilibria", "regime_counts", "status_ok"):
        assert result.summary[key] == ref["result"].summary[key], key
    assert np.array_equal(result.summary["regime_counts_per_sector"],
                          ref["result"].summary["regime_counts_per_sector"])


def test_one_point_chunks_equal_large_chunks(tmp_path):
    """chunk_points=1 (one task and one zarr chunk per point) vs the default."""
    from coordsweep.engine.run.runner import run_sweep
    spec_path = write_spec(tmp_path, three_sector_spec(9, 6))  # 54 points
    big = run_sweep(spec_path, tmp_path / "big.zarr", scheduler="synchronous",
                    progress=False)
    one = run_sweep(spec_path, tmp_path / "one.zarr", scheduler="synchronous",
                    chunk_points=1, progress=False)
    assert big.chunks_total == 1
    assert one.chunks_total == one.chunks_computed == 54
    assert store_attrs(tmp_path / "one.zarr")["chunk_shape"] == [1, 1]
    assert_identical_stores(tmp_path / "big.zarr", tmp_path / "one.zarr")


def test_subgrid_values_do_not_depend_on_grid(ref, tmp_path):
    """A grid whose points are a subset of the reference grid's (every
    other externality_scale value, the same cost_scale values) stores the
    same values at those points: no state leaks between the points of a
    chunk."""
    from coordsweep.engine.run.runner import run_sweep
    values = ref["spec"].axes[0].values[::2]
    text = three_sector_spec(N_THETA, N_COST).replace(
        f"start = 0.0\nstop = 2.0\nnum = {N_THETA}\n",
        "values = [" + ", ".join(repr(float(v)) for v in values) + "]\n")
    assert "values = [0.0, " in text
    spec_path = write_spec(tmp_path, text)
    run_sweep(spec_path, tmp_path / "sub.zarr", scheduler="synchronous", chunk_points=62,
              progress=False)
    sub = open_dataset(tmp_path / "sub.zarr")
    full = open_dataset(ref["store"]).isel(externality_scale=slice(0, None, 2))
    assert np.array_equal(sub.externality_scale.values, full.externality_scale.values)
    for name in sub.data_vars:
        if name == "chunk_done":
            continue
        assert sub[name].dtype == full[name].dtype
        assert np.array_equal(sub[name].values, full[name].values,
                              equal_nan=sub[name].dtype.kind == "f"), name


# --- 2. grid points vs `coordsweep solve --json` ------------------------------------
def test_grid_points_equal_solve_json(ref, tmp_path):
    from coordsweep.kernels.outputs import OUTPUTS
    spec = ref["spec"]
    ds = open_dataset(ref["store"])
    rng = np.random.default_rng(20261128)
    points = {(0, 0), (N_THETA - 1, N_COST - 1)}
    while len(points) < 4:
        points.add((int(rng.integers(N_THETA)), int(rng.integers(N_COST))))
    points = sorted(points)
    procs = []
    for k, index in enumerate(points):
        path = write_spec(tmp_path, spec.point_spec_text(index), f"point{k}.toml")
        procs.append((index, coordsweep_popen("solve", path, "--json")))
    problems = []
    regimes_seen = set()
    for index, proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (index, err)
        obj = parse_json(out)
        assert set(obj) == {o.name for o in OUTPUTS}, index
        at = ds.isel(externality_scale=index[0], cost_scale=index[1])
        for o in OUTPUTS:
            stored = at[o.name].values
            problems += [f"point {index}: {p}" for p in json_matches(o.name, stored, obj[o.name])]
        regimes_seen.update(obj["regime"])
    assert not problems, "\n".join(problems)
    # the points are not all alike
    assert len(regimes_seen) >= 2


# --- 6. the store contract ------------------------------------------------------------
def test_store_contract(ref):
    import coordsweep
    from coordsweep.kernels.codes import REGIME_NAMES, STATUS_BITS
    from coordsweep.kernels.outputs import OUTPUTS
    spec, store = ref["spec"], ref["store"]
    ds = open_dataset(store)  # xarray.open_zarr

    axes = [a.name for a in spec.axes]
    assert axes == ["externality_scale", "cost_scale"]
    assert set(ds.sizes) - {"chunk"} == set(axes + ["sector"])
    assert ds.sizes["sector"] == spec.n_sectors
    for axis in spec.axes:
        assert ds[axis.name].dims == (axis.name,)
        assert ds[axis.name].dtype == np.float64
        assert np.array_equal(ds[axis.name].values, axis.values)
    assert np.array_equal(ds.externality_scale.values, np.linspace(0.0, 2.0, N_THETA))
    assert np.array_equal(ds.cost_scale.values, np.linspace(0.0, 3.0, N_COST))
    assert list(ds.sector.values) == ["agro", "manu", "serv"]

    for o in OUTPUTS:
        assert o.name in ds.data_vars, o.name
        var = ds[o.name]
        expected_dims = tuple(axes) + (("sector",) if o.per == "sector" else ())
        assert var.dims == expected_dims, o.name  # axes in spec order, then sector
        assert var.dtype == np.dtype(o.dtype), (o.name, var.dtype)
    assert ds.regime.dtype == np.int8
    assert list(ds.regime.attrs["flag_values"]) == list(range(len(REGIME_NAMES)))
    assert ds.regime.attrs["flag_meanings"].split() == list(REGIME_NAMES)
    # -1 (not computed / invalid input) lies outside the declared valid range
    assert list(ds.regime.attrs["valid_range"]) == [0, len(REGIME_NAMES) - 1]
    assert ds.coop_best_eq.dtype == np.bool_ and ds.coop_fb.dtype == np.bool_
    assert ds.status.dtype == np.int8
    status_doc = " ".join(str(v) for v in ds.status.attrs.values())
    for bit, bname, _ in STATUS_BITS:
        assert bname in ds.status.attrs["flag_meanings"].split()
        assert str(bit) in status_doc
    assert list(ds.status.attrs["flag_masks"]) == [b for b, _, _ in STATUS_BITS]

    with open(ref["spec_path"], encoding="utf-8") as f:
        assert ds.attrs["spec"] == f.read()
    assert "θ, η, τ" in ds.attrs["spec"]
    assert ds.attrs["coordsweep_version"] == coordsweep.__version__
    assert ds.attrs["coordsweep_version"] == importlib.metadata.version("coordsweep")
    assert ds.attrs["complete"] == 1

    # not a trivial store: numbers, several regimes, multiple equilibria
    assert (ds.status.values == 0).mean() > 0.5
    assert np.isfinite(ds.welfare_nc.values).all()
    assert (ds.n_equilibria.values > 1).any() and (ds.n_equilibria.values == 1).any()
    assert len(np.unique(ds.regime.values)) >= 3
    assert ((ds.regime.values >= 0) & (ds.regime.values < len(REGIME_NAMES))).all()
