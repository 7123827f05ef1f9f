"""Sensitivity analyses over design stores (`coordsweep sensitivity`,
engine/analysis/sensitivity.py), checked against facts of the model, not only
against SALib's own numbers:

- with every sector non-spontaneous (costs > 0), S0 is empty and
  welfare_nc = L^alpha (sum (p_i a_i)^eps)^(1-alpha) does not depend on
  costs or externalities: their ST is 0 within its interval, while prices
  and productivities carry the variance;
- target_cluster depends only on the externalities;
- a sector's regime at S0 does not depend on the other sectors' costs and
  externalities (they stay out of S0);
- one design parameter: S1 = ST = 1 (at each value of an axis);
- stored values at design points equal `coordsweep solve` there;
- NaN outputs refused with their share; non-zero status counted;
- an output that does not depend on the design's parameters (the same
  number up to its last bits) refused, by design and given-data methods;
- a killed design run resumes bit-identical.
"""
import json
import os
import shutil
import signal
import time

import numpy as np
import pytest

from coordsweep.engine.analysis import sensitivity, sensitivity_text
from coordsweep.engine.errors import UsageError
from coordsweep.engine.run.runner import run_sweep
from coordsweep.engine.spec.model import load_spec
from coordsweep.kernels.codes import PATH_SHAPE, REGIME_NAMES, WAGE_NOT_CONVERGED
from coordsweep.kernels.outputs import OUTPUTS

from engine_helpers import (assert_identical_stores, chunk_done, coordsweep, coordsweep_popen,
                            is_held, json_matches, main_inprocess, open_dataset, slow_chunks_env,
                            write_spec)
from specs import TWO_SECTORS, spec_text

def model(name):
    """The spec's name and two sectors (the design or axes follow)."""
    return spec_text(name, TWO_SECTORS, labor=None)


def bounds(name, low, high, spacing=None):
    return (f'[design.params."{name}"]\nlow = {low}\nhigh = {high}\n'
            + (f'spacing = "{spacing}"\n' if spacing else ""))


EIGHT = "".join(bounds(f"{p}.{s}", lo, hi, sp) for s in ("agro", "manu") for p, lo, hi, sp in (
    ("price", 0.7, 1.3, None), ("productivity", 0.7, 1.3, None),
    ("externality", 0.05, 1.5, None), ("cost", 0.02, 0.6, "log")))
EIGHT_SPEC = (model("eight")
              + '[design]\nmethod = "sobol"\nsamples = 256\nseed = 11\n' + EIGHT)
ONE_SPEC = (model("one") + '[axes.labor_share]\nvalues = [0.5, 0.65]\n'
            '[design]\nmethod = "sobol"\nsamples = 512\nseed = 3\n'
            + bounds("externality.manu", 0.2, 2.0))
MORRIS_SPEC = (model("morris")
               + '[design]\nmethod = "morris"\nsamples = 20\nseed = 5\n'
               + bounds("externality.manu", 0.05, 1.5) + bounds("cost.manu", 0.02, 0.6, "log")
               + bounds("productivity.agro", 0.7, 1.3) + bounds("labor_share", 0.45, 0.7))


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    d = tmp_path_factory.mktemp("sensitivity")
    out = {"dir": d}
    for key, text, chunk in (("eight", EIGHT_SPEC, 700), ("one", ONE_SPEC, 1000),
                             ("morris", MORRIS_SPEC, None)):
        path = write_spec(d, text, f"{key}.toml")
        store = str(d / f"{key}.zarr")
        run_sweep(path, store, scheduler="synchronous", chunk_points=chunk, progress=False)
        out[key], out[key + "_spec"] = store, path
    return out


def sens(store, *args):
    code, out, err = main_inprocess("sensitivity", store, *args)
    return code, out, err


def sens_json(store, *args):
    code, out, err = sens(store, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_json_keys_of_the_contract(stores):
    obj = sens_json(stores["eight"], "--var", "welfare_nc")
    for k in ("var", "sector", "category", "method", "params", "S1", "S1_conf", "ST", "ST_conf"):
        assert k in obj, k
    assert obj["method"] == "sobol" and obj["var"] == "welfare_nc"
    assert obj["sector"] is None and obj["category"] is None
    assert obj["params"] == load_spec(stores["eight_spec"]).design.names
    assert all(len(obj[k]) == 8 for k in ("S1", "S1_conf", "ST", "ST_conf"))
    m = sens_json(stores["morris"], "--var", "regime", "--sector", "manu",
                  "--category", "coordination_failure")
    assert m["method"] == "morris" and m["category"] == "coordination_failure"
    assert all(len(m[k]) == 4 for k in ("mu_star", "mu_star_conf", "sigma"))


def test_welfare_nc_ignores_costs_and_externalities(stores):
    """No sector is spontaneous (every cost > 0): S0 is empty, so welfare_nc
    depends on prices and productivities only."""
    ds = open_dataset(stores["eight"])
    assert not (ds["regime"].values == REGIME_NAMES.index("spontaneous")).any()
    obj = sens_json(stores["eight"], "--var", "welfare_nc")
    for name, st, conf in zip(obj["params"], obj["ST"], obj["ST_conf"]):
        if name.startswith(("cost", "externality")):
            assert abs(st) <= conf + 1e-12, (name, st, conf)
        else:
            assert st > 0.05 and st > 3 * conf, (name, st, conf)
    assert sum(obj["S1"]) == pytest.approx(1.0, abs=0.15)  # additive in logs: S1 carry it


def test_target_cluster_depends_on_externalities_only(stores):
    obj = sens_json(stores["eight"], "--var", "target_cluster", "--category", "manu")
    for name, s1, st in zip(obj["params"], obj["S1"], obj["ST"]):
        if name.startswith("externality"):
            assert st > 0.2, (name, st)
        else:  # the indicator is the same number whenever only this moves: exactly 0
            assert st == 0.0 and s1 == 0.0, (name, s1, st)


def test_regime_ignores_the_other_sectors_costs_and_externalities(stores):
    obj = sens_json(stores["eight"], "--var", "regime", "--sector", "manu",
                    "--category", "coordination_failure")
    st = dict(zip(obj["params"], obj["ST"]))
    assert st["externality.agro"] == 0.0 and st["cost.agro"] == 0.0
    assert st["cost.manu"] > 0.2 and st["externality.manu"] > 0.1


def test_one_parameter_gives_S1_ST_1_at_each_axis_value(stores):
    obj = sens_json(stores["one"], "--var", "coordination_gap")
    assert obj["dims"] == ["labor_share", "param"]
    assert obj["coords"] == {"labor_share": [0.5, 0.65]}
    assert obj["params"] == ["externality.manu"]
    for k in ("S1", "ST"):
        vals = np.array(obj[k])
        assert vals.shape == (2, 1)
        assert np.all(np.abs(vals - 1.0) <= np.maximum(np.array(obj[k + "_conf"]), 0.02)), (k, obj)
    # the Python API: a Dataset over the axis and param
    res = sensitivity.indices(open_dataset(stores["one"]), "coordination_gap")
    assert res["S1"].dims == ("labor_share", "param") and res.sizes["labor_share"] == 2


def test_stored_points_equal_solve_at_the_design_points(stores, tmp_path):
    spec = load_spec(stores["eight_spec"])
    ds = open_dataset(stores["eight"])
    rows = spec.design.rows(0, spec.design.size)
    for name in spec.design.names:  # the design's points are the coordinates
        assert np.array_equal(ds[name].values, rows[:, spec.design.names.index(name)])
    assert ds.attrs["design_method"] == "sobol" and ds.attrs["design_seed"] == 11
    for i in (0, 17, 1234, spec.design.size - 1):
        path = write_spec(tmp_path, spec.point_spec_text((i,)), f"p{i}.toml")
        point = load_spec(path).base_point()
        assert point["externality"][0, 1] == rows[i, spec.design.names.index("externality.manu")]
        proc = coordsweep("solve", path, "--json")
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        problems = []
        for o in OUTPUTS:
            problems += json_matches(o.name, ds[o.name].isel(sample=i).values, got[o.name])
        assert not problems, (i, problems)


def test_nan_outputs_are_refused_with_their_share(stores):
    ds = open_dataset(stores["eight"])
    cm = ds["critical_mass"].sel(sector="manu").values
    n_nan = int(np.isnan(cm).sum())
    assert 0 < n_nan < cm.size  # the design crosses regimes where it is undefined
    code, out, err = sens(stores["eight"], "--var", "critical_mass", "--sector", "manu")
    assert code == 2 and out == ""
    msg = err.strip()
    assert len(msg.splitlines()) == 1
    assert f"NaN at {n_nan:,} of {cm.size:,} design points ({100 * n_nan / cm.size:.1f}%)" in msg
    assert "--category coordination_failure" in msg and "nothing is imputed" in msg
    # threshold_wage: +inf for spontaneous, NaN for inert: none here, so it is analysed
    assert sens(stores["eight"], "--var", "threshold_wage", "--sector", "agro")[0] == 0


def test_status_points_are_counted_and_nan_there_refused(stores):
    ds = open_dataset(stores["eight"]).load()
    clean = sensitivity.indices(ds, "coordination_gap")
    assert clean.attrs["status_nonzero"] == 0 and clean.attrs["status_bits"] == {}
    status = ds["status"].values.copy()
    status[[3, 50, 51]] = PATH_SHAPE
    status[7] = PATH_SHAPE | WAGE_NOT_CONVERGED
    ds["status"].values = status
    res = sensitivity.indices(ds, "coordination_gap")
    assert res.attrs["status_nonzero"] == 4
    assert res.attrs["status_bits"] == {"wage_not_converged": 1, "path_shape": 4}
    assert np.array_equal(res["ST"].values, clean["ST"].values)  # finite there: included
    assert "4 points have a non-zero status" in sensitivity_text.format_text(res)
    assert sensitivity_text.to_json(res)["status_nonzero"] == 4
    gap = ds["coordination_gap"].values.copy()
    gap[7] = np.nan  # a failed point's number: refused, never imputed
    ds["coordination_gap"].values = gap
    with pytest.raises(UsageError, match=r"NaN at 1 of 2,560 design points \(0.0%\)"):
        sensitivity.indices(ds, "coordination_gap")


def test_indicators_and_bad_arguments(stores):
    s = stores["eight"]
    obj = sens_json(s, "--var", "n_equilibria", "--category", "multiple")
    assert max(obj["ST"]) > 0.1
    for args, message in [
        (("--var", "regime", "--sector", "manu"), "pass --category"),
        (("--var", "regime", "--sector", "manu", "--category", "stuck"), "not a category"),
        (("--var", "regime", "--category", "inert"), "per sector: pass --sector"),
        (("--var", "regime", "--sector", "steel", "--category", "inert"), "not a sector"),
        (("--var", "target_best"), "categorical: pass --category"),
        (("--var", "welfare_nc", "--category", "inert"), "not categorical"),
        (("--var", "welfare_nc", "--sector", "agro"), "one number per point"),
        (("--var", "wellfare"), "not an output"),
        (("--var", "n_equilibria", "--category", "many"), "'multiple'"),
        (("--var", "regime", "--sector", "agro", "--category", "partial_coordination"),
         "same (0) at every design point"),
    ]:
        code, out, err = sens(s, *args)
        assert code == 2 and message in err, (args, err)
        assert len(err.strip().splitlines()) == 1


def test_refuses_grid_lhs_and_incomplete_stores(tmp_path):
    grid = write_spec(tmp_path, model("g")
                      + "[axes.cost_scale]\nvalues = [0.5, 1.0]\n", "grid.toml")
    run_sweep(grid, str(tmp_path / "grid.zarr"), scheduler="synchronous", progress=False)
    code, _, err = sens(tmp_path / "grid.zarr", "--var", "welfare_nc")
    assert code == 2 and "without a [design]" in err
    lhs = write_spec(tmp_path, model("l") + '[design]\nmethod = "lhs"\n'
                     'samples = 50\n' + bounds("cost.agro", 0.05, 0.5), "lhs.toml")
    run_sweep(lhs, str(tmp_path / "lhs.zarr"), scheduler="synchronous", progress=False)
    code, _, err = sens(tmp_path / "lhs.zarr", "--var", "welfare_nc")
    assert code == 2 and "a 'lhs' design: pass --method" in err
    from engine_helpers import make_partial_store
    part = write_spec(tmp_path, EIGHT_SPEC, "part.toml")
    make_partial_store(part, tmp_path / "part.zarr", 700, [0, 2])
    code, _, err = sens(tmp_path / "part.zarr", "--var", "welfare_nc")
    assert code == 2 and "incomplete (2/4 chunks done)" in err


def test_an_output_constant_up_to_rounding_is_refused(tmp_path):
    """welfare_nc over costs and externalities alone (every cost > 0: S0
    empty) is one number; a point may reach it by other operations, so
    its last bits may differ: no variance to apportion either way."""
    assert sensitivity._constant(np.array([1.4604123292805207, 1.460412329280521]))
    assert sensitivity._constant(np.zeros(5))
    assert not sensitivity._constant(np.array([1.0, 1.0 + 1e-9]))
    assert not sensitivity._constant(np.array([0.0, 1e-300]))
    path = write_spec(tmp_path, model("c") + '[design]\nmethod = "sobol"\nsamples = 64\n'
                      'seed = 7\n' + bounds("externality.manu", 0.05, 2.0)
                      + bounds("cost.manu", 0.1, 3.0, "log"), "c.toml")
    store = str(tmp_path / "c.zarr")
    run_sweep(path, store, scheduler="synchronous", progress=False)
    for method in ("sobol", "rbd_fast"):
        code, out, err = sens(store, "--var", "welfare_nc", "--method", method)
        assert code == 2 and "no variance to apportion" in err, (method, out, err)
    code, out, err = sens(store, "--var", "regime", "--sector", "manu",
                          "--category", "coordination_failure")
    assert code == 0, err


def test_second_order_and_chart(stores, tmp_path):
    text = (model("s2") + '[design]\nmethod = "sobol"\nsamples = 128\n'
            'second_order = true\n' + bounds("externality.manu", 0.05, 1.5)
            + bounds("cost.manu", 0.02, 0.6, "log") + bounds("labor_share", 0.45, 0.7))
    path = write_spec(tmp_path, text, "s2.toml")
    run_sweep(path, str(tmp_path / "s2.zarr"), scheduler="synchronous", progress=False)
    png = tmp_path / "s2.png"
    obj = sens_json(tmp_path / "s2.zarr", "--var", "coordination_gap", "-o", png)
    assert np.array(obj["S2"]).shape == (3, 3)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    png = tmp_path / "axes.png"
    code, out, _ = sens(stores["one"], "--var", "coordination_gap", "-o", png)
    assert code == 0 and "labor_share = 0.65" in out and png.stat().st_size > 1000


def test_report_of_a_design_store_shows_indices(stores, tmp_path):
    code, out, err = main_inprocess("report", stores["morris"], "-o", tmp_path / "rep")
    assert code == 0, err
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "morris indices of coordination_gap" in page
    assert "regime of manu == coordination_failure" in page
    assert (tmp_path / "rep" / "sensitivity-coordination_gap.png").exists()


# --- a killed design run resumes bit-identical -----------------------------------------
FIVE = ('name = "five design"\n[model]\nlabor_share = 0.6\n' + "".join(
    f'[[model.sectors]]\nname = "s{j}"\nprice = 1.0\nproductivity = 1.0\n'
    f'externality = {0.2 * (j + 1)}\ncost = 0.08\n' for j in range(5)))


@pytest.mark.parametrize("method,samples", [("sobol", 2048), ("lhs", 24000)])
def test_killed_design_run_resumes_bit_identical(tmp_path, method, samples):
    text = (FIVE + f'[design]\nmethod = "{method}"\nsamples = {samples}\nseed = 9\n'
            + "".join(bounds(f"cost.s{j}", 0.02, 0.5, "log") for j in range(5))
            + "".join(bounds(f"externality.s{j}", 0.0, 1.5) for j in range(5)))
    spec_path = write_spec(tmp_path, text)
    store = str(tmp_path / "killed.zarr")
    proc = coordsweep_popen("run", spec_path, "--store", store, "--scheduler", "synchronous",
                            "--chunk-points", 500, "--quiet",
                            env=slow_chunks_env(tmp_path, 0, hold_after=2))
    try:  # held before its third chunk: the run cannot finish before the kill
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if int(chunk_done(store).sum()) >= 2 and is_held(tmp_path, 2):
                    break
            except Exception:  # noqa: BLE001 - store not there yet
                pass
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = chunk_done(store).astype(bool)
    assert 0 < done.sum() < done.size
    assert sens(store, "--var", "welfare_nc")[0] == 2  # incomplete: refused
    result = run_sweep(spec_path, store, resume=True, scheduler="synchronous", progress=False)
    assert result.chunks_computed == int((~done).sum())
    ref = str(tmp_path / "ref.zarr")
    run_sweep(spec_path, ref, scheduler="threads", workers=2, chunk_points=7000, progress=False)
    assert_identical_stores(store, ref)
    shutil.rmtree(ref)
    assert os.path.isdir(store)
