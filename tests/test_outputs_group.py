"""CONTRACT.md "Optional outputs": the [outputs] table (checked on parse,
bad values exit 2 with one line and write nothing), the store's
``equilibrium`` dimension and ``eq_*`` variables, and their path through
run, in-memory run, solve, export and plot."""
import json

import numpy as np
import pytest

import specs
from engine_helpers import (assert_identical_stores, coordsweep, main_inprocess,
                            open_dataset, write_spec)
from coordsweep.engine.errors import SpecError
from coordsweep.engine.spec.model import parse_spec
from coordsweep.kernels.outputs import (DYNAMICS_OUTPUTS, EQUILIBRIUM_OUTPUTS, MAX_DYNAMICS,
                                        MAX_EQUILIBRIA, OUTPUTS)

SECTORS = specs.only(specs.EDIT_SECTORS, "price", "productivity", "externality", "cost")
BASE = specs.spec_text("outputs test", SECTORS,
                       axes={"externality_scale": (0.0, 2.0, 7), "cost_scale": (0.0, 3.0, 5)})
K = 4


def with_outputs(body, text=BASE):
    return text + "\n[outputs]\n" + body + "\n"


@pytest.mark.parametrize("body,fragments", [
    ("equilibria = -1", ["outputs.equilibria", "-1"]),
    ("equilibria = 2.5", ["outputs.equilibria", "2.5"]),
    ("equilibria = 16.0", ["outputs.equilibria", "16.0"]),
    ('equilibria = "16"', ["outputs.equilibria", "'16'"]),
    ("equilibria = true", ["outputs.equilibria", "true"]),
    (f"equilibria = {MAX_EQUILIBRIA + 1}", ["outputs.equilibria", str(MAX_EQUILIBRIA)]),
    ("dynamics = -64", ["outputs.dynamics", "-64"]),
    (f"dynamics = {MAX_DYNAMICS + 1}", ["outputs.dynamics", str(MAX_DYNAMICS)]),
    ("dynamics_seed = -3", ["outputs.dynamics_seed", "-3"]),
    ("dynamics_seed = 0.5", ["outputs.dynamics_seed", "0.5"]),
    ("equilibrium = 4", ["unknown key", "'equilibrium'", "[outputs]"]),
])
def test_bad_outputs_exit_2_and_write_nothing(tmp_path, body, fragments):
    spec = write_spec(tmp_path, with_outputs(body))
    store = tmp_path / "s.zarr"
    for args in (("run", spec, "--store", store, "--scheduler", "synchronous"),
                 ("solve", spec)):
        code, out, err = main_inprocess(*args)
        assert code == 2, (args, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        for f in fragments:
            assert f in lines[0], (f, lines[0])
    assert not store.exists()


def test_outputs_not_a_table():
    with pytest.raises(SpecError, match="outputs must be a table"):
        parse_spec(BASE.replace('name = "outputs test"', 'name = "outputs test"\noutputs = 3'))



def test_defaults_and_rows():
    spec = parse_spec(BASE)
    assert spec.outputs == {"equilibria": 0, "dynamics": 0, "dynamics_seed": 0}
    assert spec.output_rows == OUTPUTS
    spec = parse_spec(with_outputs(f"equilibria = {K}\ndynamics_seed = 5"))
    assert spec.outputs == {"equilibria": K, "dynamics": 0, "dynamics_seed": 5}
    assert spec.output_rows == OUTPUTS + EQUILIBRIUM_OUTPUTS


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The same sweep with the list: chunks of 3 points (synchronous) and
    of 35 (threads), and without [outputs]."""
    d = tmp_path_factory.mktemp("outputs")
    text = with_outputs(f"equilibria = {K}")
    spec = write_spec(d, text)
    out = {}
    for name, chunk, sched in (("small", 3, "synchronous"), ("large", 35, "threads")):
        chunked = write_spec(d, text + f"\n[run]\nchunk_points = {chunk}\n", f"{name}.toml")
        out[name] = d / f"{name}.zarr"
        proc = coordsweep("run", chunked, "--store", out[name], "--scheduler", sched)
        assert proc.returncode == 0, proc.stderr
    out["plain"] = d / "plain.zarr"
    proc = coordsweep("run", write_spec(d, BASE, "plain.toml"), "--store", out["plain"],
                      "--scheduler", "synchronous")
    assert proc.returncode == 0, proc.stderr
    out["spec"] = spec
    return out


def test_store_holds_the_list(stores):
    ds = open_dataset(stores["small"])
    assert ds.sizes["equilibrium"] == K
    assert list(ds["equilibrium"].values) == list(range(K))
    for o in EQUILIBRIUM_OUTPUTS:
        assert ds[o.name].dtype == np.dtype(o.dtype), o.name
        want = ("externality_scale", "cost_scale") + (("equilibrium",) if o.per == "equilibrium"
                                                      else ())
        assert ds[o.name].dims == want, o.name
        assert ds[o.name].attrs["long_name"] == o.long_name
    for o in DYNAMICS_OUTPUTS:
        assert o.name not in ds
    listed = ds["eq_listed"].values
    np.testing.assert_array_equal(listed, np.minimum(ds["n_equilibria"].values, K))
    mask = ds["eq_mask"].values
    rank = np.arange(K)
    empty = rank[None, None, :] >= listed[..., None]
    assert (mask[empty] == 4294967295).all() and (mask[~empty] < 8).all()
    assert np.isnan(ds["eq_welfare"].values[empty]).all()
    # rank 0 is the best equilibrium; W descends along the list
    best = (ds["coop_best_eq"].values * (1 << np.arange(3))).sum(-1)
    np.testing.assert_array_equal(mask[..., 0], best)
    np.testing.assert_allclose(ds["eq_welfare"].values[..., 0], ds["welfare_best_eq"].values,
                               rtol=1e-12)
    W = ds["eq_welfare"].values
    assert (np.diff(W, axis=-1)[~empty[..., 1:]] <= 1e-12).all()


def test_list_does_not_depend_on_chunking_and_keeps_the_other_outputs(stores):
    assert_identical_stores(stores["small"], stores["large"])
    a, p = open_dataset(stores["small"]), open_dataset(stores["plain"])
    assert "equilibrium" not in p.dims and not any(n.startswith("eq_") for n in p.data_vars)
    for name in p.data_vars:
        if name != "chunk_done":
            assert np.array_equal(a[name].values, p[name].values,
                                  equal_nan=a[name].dtype.kind == "f"), name


def test_in_memory_run_equals_store(stores):
    import coordsweep as cs
    mem = cs.run(stores["spec"], progress=False)
    st = open_dataset(stores["small"])
    for o in EQUILIBRIUM_OUTPUTS:
        assert mem[o.name].dims == st[o.name].dims
        assert np.array_equal(mem[o.name].values, st[o.name].values,
                              equal_nan=mem[o.name].dtype.kind == "f"), o.name


def test_solve_prints_the_list(tmp_path):
    spec = write_spec(tmp_path, with_outputs(f"equilibria = {K}"))
    code, out, _ = main_inprocess("solve", spec, "--json")
    assert code == 0
    obj = json.loads(out)
    from coordsweep import kernels
    from coordsweep.engine.spec.model import load_spec
    masks, W, w = kernels.equilibrium_list(**{k: (v[0] if np.ndim(v) == 1 else v[0])
                                              for k, v in load_spec(spec).base_point().items()},
                                           k=K)
    n = len(masks)
    assert obj["eq_listed"] == n
    assert obj["eq_mask"] == [int(m) for m in masks] + [4294967295] * (K - n)
    assert obj["eq_welfare"] == [float(x) for x in W] + [None] * (K - n)
    assert obj["eq_wage"][:n] == [float(x) for x in w]
    code, out, _ = main_inprocess("solve", spec)
    assert code == 0 and f"the {n} best stable equilibria" in out
    # without [outputs]: no eq_* key
    code, out, _ = main_inprocess("solve", write_spec(tmp_path, BASE, "plain.toml"), "--json")
    assert not any(k.startswith("eq_") for k in json.loads(out))


def test_export_table_and_plot(stores, tmp_path):
    import pandas as pd
    csv = tmp_path / "t.csv"
    code, _, err = main_inprocess("export", stores["small"], csv)
    assert code == 0, err
    df = pd.read_csv(csv)
    ds = open_dataset(stores["small"])
    for r in range(K):
        np.testing.assert_array_equal(df[f"eq_mask.{r}"].to_numpy(),
                                      ds["eq_mask"].values[..., r].ravel())
    png = tmp_path / "m.png"
    code, _, err = main_inprocess("plot", stores["small"], "--x", "externality_scale",
                                  "--y", "cost_scale", "--var", "eq_welfare",
                                  "--select", "equilibrium=1", "-o", png)
    assert code == 0 and png.exists(), err
    code, _, err = main_inprocess("plot", stores["small"], "--x", "externality_scale",
                                  "--y", "cost_scale", "--var", "eq_welfare", "-o", png)
    assert code == 2 and "equilibrium=RANK" in err


def test_sensitivity_of_one_rank():
    """Sobol' indices of eq_welfare at rank 0 are those of welfare_best_eq
    (the same numbers); a rank is required, and checked."""
    import coordsweep as cs
    from coordsweep.engine.analysis import sensitivity
    from coordsweep.engine.errors import UsageError
    text = specs.spec_text("design", SECTORS) + (
        "\n[design]\nmethod = \"sobol\"\nsamples = 16\nseed = 3\n"
        "\n[design.params.externality_scale]\nlow = 0.2\nhigh = 2.0\n"
        "\n[design.params.cost_scale]\nlow = 0.1\nhigh = 2.0\n"
        f"\n[outputs]\nequilibria = {K}\n")
    ds = cs.run(parse_spec(text), progress=False)
    a = sensitivity.indices(ds, "eq_welfare", equilibrium=0)
    b = sensitivity.indices(ds, "welfare_best_eq")
    np.testing.assert_allclose(a["S1"].values, b["S1"].values, rtol=1e-9, atol=1e-12)
    for kwargs, fragment in (({}, "--equilibrium RANK"), ({"equilibrium": K}, "--equilibrium"),):
        with pytest.raises(UsageError, match=fragment):
            sensitivity.indices(ds, "eq_welfare", **kwargs)
    with pytest.raises(UsageError, match="not per listed equilibrium"):
        sensitivity.indices(ds, "eq_listed", equilibrium=0)
    with pytest.raises(UsageError, match="not in this store"):
        sensitivity.indices(ds.drop_vars("eq_mask"), "eq_mask", equilibrium=0)


def test_dynamics_outputs_through_the_engine(tmp_path):
    """dynamics = K: the six variables over the axes, the same from a run in
    chunks of 4 points, one of 35 and in memory; solve --json has them."""
    import coordsweep as cs
    text = with_outputs("dynamics = 8\ndynamics_seed = 2")
    st = {}
    for chunk in (4, 35):
        spec = write_spec(tmp_path, text + f"\n[run]\nchunk_points = {chunk}\n", f"d{chunk}.toml")
        st[chunk] = tmp_path / f"d{chunk}.zarr"
        code, _, err = main_inprocess("run", spec, "--store", st[chunk], "--scheduler",
                                      "synchronous", "--quiet")
        assert code == 0, err
    assert_identical_stores(st[4], st[35])
    ds = open_dataset(st[4])
    mem = cs.run(parse_spec(text), progress=False)
    for o in DYNAMICS_OUTPUTS:
        assert ds[o.name].dims == ("externality_scale", "cost_scale"), o.name
        assert ds[o.name].dtype == np.float64
        assert np.array_equal(mem[o.name].values, ds[o.name].values, equal_nan=True), o.name
    assert "equilibrium" not in ds.dims
    shares = np.stack([ds[n].values for n in ("basin_nc", "basin_best", "p_stuck")])
    assert ((shares >= 0) & (shares <= 1)).all()
    code, out, _ = main_inprocess("solve", write_spec(tmp_path, text, "one.toml"), "--json")
    obj = json.loads(out)
    assert {o.name for o in DYNAMICS_OUTPUTS} <= set(obj)
