"""The dynamics outputs through the engine: ``[outputs] dynamics = K`` run
into a store (the same bits for any chunking, scheduler and local-cluster workers, the other
outputs unchanged), in memory, and printed by ``coordsweep solve``."""
import json
from pathlib import Path

import numpy as np
import pytest

import specs
from engine_helpers import (assert_identical_stores, coordsweep, main_inprocess,
                            open_dataset, write_spec)
from coordsweep.kernels.outputs import DYNAMICS_OUTPUTS

# eta > 0, tau and sigma on some sectors
BASE = specs.spec_text("dynamics test", specs.policy_sectors(),
                       axes={"externality_scale": (0.5, 2.5, 5), "cost_scale": (0.2, 1.4, 4)})
K = 16
SEED = 3
TEXT = BASE + f"\n[outputs]\ndynamics = {K}\ndynamics_seed = {SEED}\n"


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    d = tmp_path_factory.mktemp("dynamics")
    out = {"spec": write_spec(d, TEXT)}
    for name, chunk, sched in (("small", 3, "synchronous"), ("large", 20, "threads"),
                               ("cluster", 7, "local")):
        chunked = write_spec(d, TEXT + f"\n[run]\nchunk_points = {chunk}\n", f"{name}.toml")
        out[name] = d / f"{name}.zarr"
        how = ("--scheduler", sched) if sched != "local" else ("--workers", "2")
        proc = coordsweep("run", chunked, "--store", out[name], *how)
        assert proc.returncode == 0, proc.stderr
    out["plain"] = d / "plain.zarr"
    proc = coordsweep("run", write_spec(d, BASE, "plain.toml"), "--store", out["plain"],
                      "--scheduler", "synchronous")
    assert proc.returncode == 0, proc.stderr
    return out


def test_store_holds_the_dynamics(stores):
    ds = open_dataset(stores["small"])
    for o in DYNAMICS_OUTPUTS:
        v = ds[o.name]
        assert v.dims == ("externality_scale", "cost_scale"), o.name
        assert v.dtype == np.float64
    for name in ("basin_nc", "basin_best", "p_stuck"):
        v = ds[name].values
        assert ((v >= 0) & (v <= 1)).all() and np.allclose(v * K, np.round(v * K)), name
    np.testing.assert_allclose(ds["selection_gap"].values,
                               ds["welfare_best_eq"].values - ds["welfare_expected"].values,
                               rtol=0, atol=1e-12)
    push = ds["big_push"].values
    ok = np.isfinite(push)
    assert ok.any() and np.allclose(push[ok] * 4096, np.round(push[ok] * 4096))
    # several equilibria somewhere, and the economy does not always find the best
    assert (ds["n_equilibria"].values > 1).any() and (ds["p_stuck"].values > 0).any()
    assert (ds["status"].values & 2 == 0).all()


def test_chunking_and_other_outputs(stores):
    assert_identical_stores(stores["small"], stores["large"])
    assert_identical_stores(stores["small"], stores["cluster"])
    a, p = open_dataset(stores["small"]), open_dataset(stores["plain"])
    for o in DYNAMICS_OUTPUTS:
        assert o.name not in p
    for name in p.data_vars:
        if name != "chunk_done":
            assert np.array_equal(a[name].values, p[name].values,
                                  equal_nan=a[name].dtype.kind == "f"), name


def test_in_memory_run_equals_store(stores):
    import coordsweep as cs
    mem = cs.run(stores["spec"], progress=False)
    st = open_dataset(stores["small"])
    for o in DYNAMICS_OUTPUTS:
        assert np.array_equal(mem[o.name].values, st[o.name].values, equal_nan=True), o.name


def test_solve_prints_the_dynamics(stores):
    ds = open_dataset(stores["small"])
    xs, cs_ = ds["externality_scale"].values, ds["cost_scale"].values
    i, j = 3, 1
    at = ("--at", f"externality_scale={float(xs[i])!r}", "--at", f"cost_scale={float(cs_[j])!r}")
    code, out, err = main_inprocess("solve", stores["spec"], "--json", *at)
    assert code == 0, err
    obj = json.loads(out)
    for o in DYNAMICS_OUTPUTS:
        want = float(ds[o.name].values[i, j])
        got = obj[o.name]
        assert (got is None and np.isnan(want)) or got == want, o.name
    code, out, err = main_inprocess("solve", stores["spec"], *at)
    assert code == 0, err
    for o in DYNAMICS_OUTPUTS:
        assert o.name in out
    code, out, _ = main_inprocess("solve", write_spec(Path(stores["spec"]).parent, BASE, "p.toml"),
                                  "--json")
    assert not any(o.name in json.loads(out) for o in DYNAMICS_OUTPUTS)
