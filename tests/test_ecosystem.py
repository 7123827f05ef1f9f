"""The store, the export, the API and the CLI fit their users' tools:
CF-1.10 metadata (checked by the IOOS compliance checker and cf_xarray),
a store every zarr 3 reader opens (tensorstore), netCDF/Parquet/CSV exports
that round-trip, the notebook API and the shell conventions of the CLI."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from engine_helpers import (COORDSWEEP, ROOT, chunk_done, is_held, main_inprocess,
                            make_partial_store, open_group, release_held, slow_chunks_env,
                            store_attrs, three_sector_spec, write_spec)
from engine_helpers import coordsweep as cli_subprocess

N_THETA, N_COST, CHUNK = 9, 7, 20


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A complete store (several chunks) written by `coordsweep run`, a partial
    store of the same spec, and the spec file."""
    d = tmp_path_factory.mktemp("eco")
    spec = write_spec(d, three_sector_spec(n_theta=N_THETA, n_cost=N_COST))
    store = str(d / "full.zarr")
    code, out, err = main_inprocess("run", spec, "--store", store, "--scheduler",
                                    "synchronous", "--chunk-points", CHUNK, "--quiet", "--json")
    assert code == 0, err
    partial = str(d / "partial.zarr")
    layout = make_partial_store(spec, partial, CHUNK, [0, 2])
    return {"dir": d, "spec": spec, "store": store, "partial": partial, "layout": layout,
            "run_json": json.loads(out)}


def _results(path):
    from coordsweep import open_store
    from coordsweep.engine.analysis.export import results
    return results(open_store(path)).load()


def assert_same_results(a, b, *, attrs=True):
    """Same variables, dims, dtypes, bit-identical values (NaN where NaN)."""
    assert set(a.variables) == set(b.variables)
    for name in a.variables:
        x, y = a[name], b[name]
        assert x.dims == y.dims, name
        assert x.dtype == y.dtype or (x.dtype.kind in "OUT" and y.dtype.kind in "OUT"), \
            (name, x.dtype, y.dtype)
        xv, yv = np.asarray(x.values), np.asarray(y.values)
        if xv.dtype.kind == "f":
            assert np.array_equal(np.isnan(xv), np.isnan(yv)), name
            bits = f"u{xv.itemsize}"
            assert np.array_equal(xv[~np.isnan(xv)].view(bits), yv[~np.isnan(yv)].view(bits)), name
        else:
            assert xv.tolist() == yv.tolist(), name
        if attrs and name in a.data_vars:
            for key in ("long_name", "units", "flag_meanings"):
                assert x.attrs.get(key) == y.attrs.get(key), (name, key)


# --- CF conventions ------------------------------------------------------------
def _zarr_json_files(store):
    for dirpath, _, files in os.walk(store):
        for f in files:
            if f == "zarr.json":
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    yield os.path.relpath(dirpath, store), json.load(fh)


def test_store_attributes_are_cf(made):
    from coordsweep import open_store
    from coordsweep.kernels.codes import REGIME_NAMES
    from coordsweep.kernels.params import PARAM
    ds = open_store(made["store"])
    at = ds.attrs
    assert at["Conventions"] == "CF-1.10"
    assert "coordsweep run" in at["history"] and "--chunk-points" in at["history"]
    assert "Rodriguez-Clare" in at["references"] and "Economia 6(1)" in at["references"]
    assert at["source"].startswith("coordsweep ")
    import datetime
    datetime.datetime.fromisoformat(at["date_created"])
    assert at["complete"] == 1 and not isinstance(at["complete"], bool)
    # every output and axis has UDUNITS units or none (flags, booleans); the
    # economic units sit in comment
    for name, var in ds.variables.items():
        assert var.attrs.get("units") in (None, "1"), (name, var.attrs.get("units"))
        assert "long_name" in var.attrs, name
    assert ds.welfare_nc.attrs["units"] == "1" and "numeraire" in ds.welfare_nc.attrs["comment"]
    assert ds.cost_scale.attrs["units"] == "1"
    assert all(p.units == "1" for p in PARAM.values())  # what axis units derive from
    # the not-computed code is declared
    assert list(ds.regime.attrs["flag_values"]) == list(range(len(REGIME_NAMES)))
    assert list(ds.regime.attrs["valid_range"]) == [0, len(REGIME_NAMES) - 1]
    assert ds.regime.attrs["flag_meanings"].split() == list(REGIME_NAMES)
    assert ds.target_ca.attrs["flag_meanings"].split() == ["agro", "manu", "serv"]
    assert list(ds.target_ca.attrs["valid_range"]) == [0, 2]
    assert ds.n_equilibria.attrs["valid_min"] == 0
    # chunk_done is bookkeeping on its own labelled dim
    raw = open_group(made["store"])
    assert raw["chunk_done"].metadata.dimension_names == ("chunk",)
    assert np.array_equal(raw["chunk"][:], np.arange(raw["chunk_done"].shape[0]))


def test_no_bool_attributes_and_no_consolidated_metadata(made):
    def bools(obj):
        if isinstance(obj, bool):
            return 1
        if isinstance(obj, dict):
            return sum(bools(v) for v in obj.values())
        if isinstance(obj, list):
            return sum(bools(v) for v in obj)
        return 0

    found = list(_zarr_json_files(made["store"]))
    assert len(found) > 20
    for where, meta in found:
        assert bools(meta.get("attributes", {})) == 0, where
        assert meta.get("consolidated_metadata") is None, where
        if where != "sector":  # the names (CONTRACT.md)
            assert meta.get("data_type", "int8") not in ("string", "bytes"), where


def test_old_store_with_bool_complete_still_reads(made, tmp_path):
    """Stores written before (complete = true) are read as complete."""
    import zarr

    import coordsweep
    from coordsweep.engine.store.conventions import is_complete
    store = str(tmp_path / "old.zarr")
    shutil.copytree(made["store"], store)
    zarr.open_group(store, mode="r+").attrs["complete"] = True
    assert is_complete(store_attrs(store))
    code, out, _ = main_inprocess("inspect", store, "--check")
    assert code == 0 and "complete: yes" in out
    ds = coordsweep.run(made["spec"], store=store)   # mode="auto": opens, computes nothing
    assert ds.sizes["externality_scale"] == N_THETA
    assert is_complete({"complete": 0}) is False and is_complete({}) is False


def test_cf_xarray_understands_flags(made):
    pytest.importorskip("cf_xarray")
    from coordsweep import open_store
    ds = open_store(made["store"]).load()
    assert ds.regime.cf.is_flag_variable and ds.status.cf.is_flag_variable
    failure = ds.regime.cf == "coordination_failure"
    assert np.array_equal(failure.values, ds.regime.values == 2)
    assert failure.values.any()


@pytest.fixture(scope="module")
def exported(made):
    from coordsweep import export
    d = made["dir"]
    return {fmt: str(export(made["store"], d / f"out.{ext}"))
            for fmt, ext in (("netcdf", "nc"), ("parquet", "parquet"), ("csv", "csv"))}


def test_exported_netcdf_passes_cf_checker(exported):
    """The IOOS compliance checker (cf:1.10) finds nothing to correct."""
    checker = os.path.join(os.path.dirname(sys.executable), "compliance-checker")
    if not os.path.exists(checker):
        pytest.skip("compliance-checker is not installed")
    proc = subprocess.run([checker, "-t", "cf:1.10", "-c", "strict", exported["netcdf"]],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All tests passed!" in proc.stdout


# --- other zarr 3 readers ---------------------------------------------------------
def test_tensorstore_reads_every_array(made):
    """Google's tensorstore opens every array of the store but the sector
    names (zarr 3's string type is an extension it lacks; CONTRACT.md wants
    the names as the coordinate) and reads the same bytes as zarr-python;
    the names are in the metadata every reader sees."""
    ts = pytest.importorskip("tensorstore")
    group = open_group(made["store"])
    names = sorted(k for k, _ in group.arrays() if k != "sector")
    assert "regime" in names and "coop_fb" in names and "chunk_done" in names
    for name in names:
        arr = ts.open({"driver": "zarr3", "kvstore": {
            "driver": "file", "path": os.path.join(os.path.abspath(made["store"]), name)}},
            open=True).result()
        got = np.asarray(arr.read().result())
        want = np.asarray(group[name][...])
        assert got.dtype == want.dtype, name
        assert got.tobytes() == want.tobytes(), name
    # the sector names are in the attributes every reader sees
    assert list(group.attrs["sector_names"]) == ["agro", "manu", "serv"]
    assert list(group["sector"].attrs["sector_names"]) == ["agro", "manu", "serv"]
    # and xarray.open_zarr gives the names as the coordinate (CONTRACT.md)
    import xarray as xr
    assert list(xr.open_zarr(made["store"]).sector.values) == ["agro", "manu", "serv"]


# --- export ----------------------------------------------------------------------------------
def test_netcdf_export_round_trips(made, exported):
    from coordsweep.engine.analysis.export import open_netcdf
    store = _results(made["store"])
    nc = open_netcdf(exported["netcdf"]).load()
    assert_same_results(store, nc)
    assert list(nc.sector.values) == ["agro", "manu", "serv"]
    assert "chunk_done" not in nc.variables and "chunk" not in nc.dims
    # compressed, flags typed with the variable's dtype
    import xarray as xr
    raw = xr.open_dataset(exported["netcdf"], decode_cf=False)
    assert raw.wage_nc.encoding.get("zlib") is True
    assert raw.regime.attrs["flag_values"].dtype == np.int8
    assert raw.status.attrs["flag_masks"].dtype == np.int8
    assert raw.target_ca.attrs["flag_values"].dtype == np.int64
    assert raw.attrs["complete"] == 1
    assert "exported to netCDF-4" in raw.attrs["history"]
    # open_store reads an exported file too
    import coordsweep
    assert_same_results(store, coordsweep.open_store(exported["netcdf"]).load())


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_table_export_round_trips(made, exported, fmt):
    from coordsweep.engine.analysis.export import read_table
    from coordsweep.kernels.outputs import OUTPUTS
    ds = _results(made["store"])
    df = read_table(exported[fmt])
    assert len(df) == N_THETA * N_COST
    th, co = np.meshgrid(ds.externality_scale.values, ds.cost_scale.values, indexing="ij")
    assert np.array_equal(df["externality_scale"].to_numpy(), th.ravel())
    assert np.array_equal(df["cost_scale"].to_numpy(), co.ravel())
    for o in OUTPUTS:
        cols = [o.name] if o.per == "point" else [f"{o.name}.{s}" for s in ds.sector.values]
        want = ds[o.name].values.reshape(len(df), -1)
        for j, col in enumerate(cols):
            got = df[col].to_numpy()
            if np.dtype(o.dtype).kind == "f":
                assert np.array_equal(got, want[:, j], equal_nan=True), col
            else:
                assert got.tolist() == want[:, j].tolist(), col
                if fmt == "parquet":
                    assert df[col].dtype == np.dtype(o.dtype), col


def test_incomplete_store_export(made, tmp_path):
    from coordsweep.engine.analysis.export import open_netcdf, read_table
    from coordsweep.kernels.codes import NOT_COMPUTED
    out = tmp_path / "p.nc"
    code, _, err = main_inprocess("export", made["partial"], out)
    assert code == 2 and "incomplete" in err and "--incomplete" in err
    # the count the completion record gives (chunks 0 and 2 written)
    assert f"(2/{made['layout'].nchunks} chunks done)" in err, err
    assert not out.exists() and not list(tmp_path.iterdir())
    assert main_inprocess("export", made["partial"], out, "--incomplete")[0] == 0
    nc = open_netcdf(out)
    computed = (nc.status.values & NOT_COMPUTED) == 0
    layout = made["layout"]
    n_written = sum(np.subtract(*layout.flat_range(c)[::-1]) for c in (0, 2))
    assert computed.sum() == n_written and (~computed).any()
    assert np.isnan(nc.wage_nc.values[~computed]).all()
    assert main_inprocess("export", made["partial"], tmp_path / "p.csv", "--incomplete")[0] == 0
    assert len(read_table(tmp_path / "p.csv")) == n_written


def test_export_never_overwrites_without_asking(made, tmp_path):
    out = tmp_path / "x.nc"
    out.write_text("keep me")
    code, _, err = main_inprocess("export", made["store"], out)
    assert code == 2 and "--overwrite" in err
    assert out.read_text() == "keep me"
    code, out_text, _ = main_inprocess("export", made["store"], out, "--overwrite")
    assert code == 0 and "wrote" in out_text and out.stat().st_size > 1000
    assert main_inprocess("export", made["store"], tmp_path / "x.csv", "--format", "xml")[0] == 2
    assert main_inprocess("export", tmp_path / "nothing.zarr", tmp_path / "y.nc")[0] == 2


# --- Python API ------------------------------------------------------------------------------
def test_load_spec_from_path_text_and_dict(made):
    from coordsweep.engine.spec.model import tomllib

    import coordsweep
    from coordsweep.engine.spec.model import parse_spec
    with open(made["spec"], encoding="utf-8") as f:
        text = f.read()
    a = coordsweep.load_spec(made["spec"])
    b = coordsweep.load_spec(text)
    c = coordsweep.load_spec(tomllib.loads(text))
    d = parse_spec(a.to_toml())
    for other in (b, c, d):
        assert other.shape == a.shape and other.sector_names == a.sector_names
        pa, po = a.block(0, a.size), other.block(0, other.size)
        assert all(np.array_equal(pa[k], po[k]) for k in pa)
    assert tomllib.loads(a.to_toml()) == tomllib.loads(text)
    with pytest.raises(coordsweep.SpecError, match="labor_share"):
        coordsweep.load_spec({"model": {"sectors": [{"name": "a", "price": 1.0,
                                                      "productivity": 1.0,
                                                      "externality": 0.1, "cost": 0.1}]}})
    with pytest.raises(coordsweep.SpecError, match="cannot read"):
        coordsweep.load_spec(os.path.join(str(made["dir"]), "missing.toml"))


def test_run_in_memory_equals_the_store(made):
    import coordsweep
    mem = coordsweep.run(made["spec"], progress=False)
    assert "chunk_done" not in mem.variables and mem.attrs["complete"] == 1
    assert_same_results(_results(made["store"]), mem)


def test_run_in_memory_refuses_large_grids(made, monkeypatch):
    import coordsweep
    from coordsweep.engine import api
    monkeypatch.setattr(api, "MEMORY_MAX_POINTS", N_THETA * N_COST - 1)
    with pytest.raises(coordsweep.UsageError, match="store="):
        coordsweep.run(made["spec"])
    with pytest.raises(coordsweep.UsageError, match="needs a store"):
        coordsweep.run(made["spec"], mode="resume")


def test_run_auto_creates_resumes_and_opens(made, tmp_path):
    import coordsweep
    store = str(tmp_path / "auto.zarr")
    shutil.copytree(made["partial"], store)
    ds = coordsweep.run(made["spec"], store=store, scheduler="synchronous", progress=False)
    assert store_attrs(store)["complete"] == 1 and chunk_done(store).all()
    assert_same_results(_results(made["store"]), ds.drop_vars(["chunk_done", "chunk"]).load())
    # again (a re-run notebook cell): nothing computed, nothing rewritten
    stamp = {p: os.stat(os.path.join(store, p)).st_mtime_ns
             for p in ("zarr.json", "wage_nc/zarr.json")}
    again = coordsweep.run(made["spec"], store=store, scheduler="synchronous")
    assert again.sizes == ds.sizes
    assert stamp == {p: os.stat(os.path.join(store, p)).st_mtime_ns for p in stamp}
    # another spec: refused, the store kept; overwrite replaces it
    other = write_spec(tmp_path, three_sector_spec(n_theta=3, n_cost=2), "other.toml")
    with pytest.raises(coordsweep.StoreError, match="another spec"):
        coordsweep.run(other, store=store)
    with pytest.raises(coordsweep.StoreError, match="complete run"):
        coordsweep.run(made["spec"], store=store, mode="create")
    new = coordsweep.run(other, store=store, mode="overwrite", scheduler="synchronous",
                         progress=False)
    assert new.sizes["externality_scale"] == 3
    with pytest.raises(coordsweep.UsageError, match="mode"):
        coordsweep.run(other, store=store, mode="sometimes")


def test_solve_overrides_are_axis_values(made):
    import coordsweep
    spec = coordsweep.load_spec(made["spec"])
    ds = coordsweep.open_store(made["store"])
    theta, cost = float(ds.externality_scale[4]), float(ds.cost_scale[3])
    got = coordsweep.solve(spec, externality_scale=theta, cost_scale=cost)
    for name in ("wage_nc", "welfare_best_eq", "regime", "critical_mass", "status"):
        want = ds[name].isel(externality_scale=4, cost_scale=3).values
        assert np.array_equal(np.asarray(got[name]), want, equal_nan=True), name
    # a per-sector name (not an identifier) through at=
    a = coordsweep.solve(spec, at={"cost.manu": 0.4})
    b = coordsweep.solve(three_sector_spec(n_theta=N_THETA, n_cost=N_COST, manu_cost=0.4))
    assert np.array_equal(a["threshold_wage"], b["threshold_wage"], equal_nan=True)
    with pytest.raises(coordsweep.SpecError, match="cost"):
        coordsweep.solve(spec, cost_scale=-1.0)


def test_plot_draws_on_given_axes(made):
    from matplotlib.figure import Figure

    import coordsweep
    ds = coordsweep.open_store(made["store"])
    fig = Figure()
    ax = fig.add_subplot()
    got = coordsweep.plot(ds, x="cost_scale", y="externality_scale", var="regime",
                          sector="agro", ax=ax)
    assert got is fig and len(ax.collections) > 0
    assert ax.get_xlabel().startswith("scale factor on every sector's cooperation cost")
    fig2 = coordsweep.plot(made["store"], x="cost_scale", var="wage_nc",
                           select={"externality_scale": 1.0})
    assert isinstance(fig2, Figure) and fig2 is not fig and len(fig2.axes[0].lines) == 1


def test_public_api_names_have_docstrings():
    import inspect

    import coordsweep
    for name in ("run", "solve", "open_store", "load_spec", "plot", "export"):
        fn = getattr(coordsweep, name)
        doc = inspect.getdoc(fn)
        assert doc and "Parameters" in doc and "Returns" in doc, name
        assert inspect.signature(fn).return_annotation is not inspect.Signature.empty, name


# --- command line ----------------------------------------------------------------------------
def test_run_json_summary(made):
    s = made["run_json"]
    ds = _results(made["store"])
    assert s["points"] == N_THETA * N_COST and s["chunks_total"] == s["chunks_computed"]
    for j, sector in enumerate(["agro", "manu", "serv"]):
        from coordsweep.kernels.codes import REGIME_NAMES
        counts = s["regime_counts_per_sector"][sector]
        reg = ds.regime.values[..., j]
        assert counts == {r: int((reg == k).sum()) for k, r in enumerate(REGIME_NAMES)}
    assert s["status_ok"] == int((ds.status.values == 0).sum())


def test_inspect_json_and_check(made):
    code, out, _ = main_inprocess("inspect", made["store"], "--json", "--check")
    info = json.loads(out)
    assert code == 0 and info["complete"] == 1
    assert info["sectors"] == ["agro", "manu", "serv"]
    assert info["dims"] == {"externality_scale": N_THETA, "cost_scale": N_COST, "sector": 3}
    assert info["variables"]["regime"]["dtype"] == "int8"
    code, out, _ = main_inprocess("inspect", made["partial"], "--json", "--check")
    info = json.loads(out)
    assert code == 3 and info["complete"] == 0
    assert info["chunks_done"] == 2 and info["computed_points"] < info["points"]
    assert main_inprocess("inspect", made["partial"])[0] == 0   # without --check: 0
    proc = cli_subprocess("inspect", made["partial"], "--check")
    assert proc.returncode == 3 and "complete: no" in proc.stdout


def test_solve_at_matches_the_grid(made):
    ds = _results(made["store"])
    theta, cost = float(ds.externality_scale[2]), float(ds.cost_scale[5])
    code, out, err = main_inprocess("solve", made["spec"], "--json",
                                    "--at", f"externality_scale={theta!r}",
                                    "--at", f"cost_scale={cost!r}")
    assert code == 0, err
    obj = json.loads(out)
    point = ds.isel(externality_scale=2, cost_scale=5)
    assert obj["n_equilibria"] == int(point.n_equilibria)
    assert obj["wage_nc"] == float(point.wage_nc)
    from coordsweep.kernels.codes import REGIME_NAMES
    assert obj["regime"] == [REGIME_NAMES[int(r)] for r in point.regime.values]
    code, out, _ = main_inprocess("solve", made["spec"], "--at", f"cost_scale={cost!r}")
    assert code == 0 and out.startswith(f"at cost_scale = {cost!r}")
    for bad, fragment in ((["--at", "cost_scale"], "AXIS=VALUE"),
                          (["--at", "cost_scale=abc"], "not a number"),
                          (["--at", "nonsense=1"], "unknown axis"),
                          (["--at", "labor_share=1.5"], "labor_share")):
        code, _, err = main_inprocess("solve", made["spec"], *bad)
        assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, (bad, err)


def test_version_and_help():
    import coordsweep
    proc = cli_subprocess("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"coordsweep {coordsweep.__version__}"
    for sub in ("export", "inspect", "run", "solve"):
        assert cli_subprocess(sub, "--help").returncode == 0


@pytest.mark.parametrize("scheduler, started", [("synchronous", signal.SIG_DFL),
                                                ("local", signal.SIG_DFL),
                                                ("synchronous", signal.SIG_IGN)],
                         ids=["synchronous", "local", "synchronous-started-ignoring-sigint"])
def test_ctrl_c_exits_130_after_a_clean_stop(tmp_path, scheduler, started):
    """Ctrl-C in the middle of a run (SIGINT to the whole process group, as
    a terminal sends it, workers included): exit 130, one message and no
    traceback, the finished chunks kept; --resume completes the store. The
    same for a run started with SIGINT ignored (a script's `cmd &`)."""
    n_theta, n_cost = 81, 61
    spec = write_spec(tmp_path, three_sector_spec(n_theta=n_theta, n_cost=n_cost))
    store = str(tmp_path / "int.zarr")
    proc = subprocess.Popen(
        [COORDSWEEP, "run", spec, "--store", store, "--scheduler", scheduler, "--workers", "1",
         "--chunk-points", "200", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # held before its third chunk's write: it cannot finish before the
        # interrupt; released after it, for the clean stop to finish that chunk
        env=slow_chunks_env(tmp_path, 0.25, hold_after=2),
        start_new_session=True,  # its own process group, like a shell job
        preexec_fn=lambda: signal.signal(signal.SIGINT, started))
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        try:
            if chunk_done(store).sum() >= 2 and is_held(tmp_path, 2):
                break
        except Exception:  # noqa: BLE001 - the store is not there yet
            pass
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    release_held(tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err, err
    done = chunk_done(store)
    assert 0 < done.sum() < done.size
    assert store_attrs(store)["complete"] == 0
    code, _, err = main_inprocess("run", spec, "--store", store, "--scheduler", "synchronous",
                                  "--resume", "--quiet")
    assert code == 0, err
    assert chunk_done(store).all() and store_attrs(store)["complete"] == 1


# --- progress in notebooks and logs -------------------------------------------------------
def test_progress_lines_in_logs():
    import io

    from coordsweep.engine.run.progress import Progress
    buf = io.StringIO()
    bar = Progress(1000, stream=buf, delay=0.0, interval=0.0)
    for _ in range(4):
        bar.update(250)
    bar.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in buf.getvalue()
    assert lines[-1].lstrip("[#]").split()[0] == "100.0%"


def test_progress_in_jupyter_updates_one_output(monkeypatch):
    """In a notebook the progress is one display, updated in place (an HTML
    progress bar and the line), not lines on stderr."""
    pytest.importorskip("IPython")
    import IPython.display

    from coordsweep.engine.run import progress
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj.data)

    monkeypatch.setattr(progress, "in_jupyter", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj, display_id=None: Handle())
    bar = progress.Progress(400, delay=0.0)
    bar.interval = 0.0
    for _ in range(4):
        bar.update(100)
    bar.close()
    assert len(shown) == 5 and all("<progress" in h for h in shown)
    assert 'value="1.0000"' in shown[-1] and "400/400 points" in shown[-1]


def test_example_notebook_executes(tmp_path):
    """docs/example.ipynb runs top to bottom in a fresh kernel (twice, as a
    re-run notebook: the second run opens the store it wrote)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    path = os.path.join(ROOT, "docs", "example.ipynb")
    for _ in range(2):
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, errors
    assert (tmp_path / "results" / "notebook.zarr" / "zarr.json").exists()
    assert (tmp_path / "two_sectors.nc").exists()
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the plot cell shows no figure"


# --- design stores (a `sample` dimension) ------------------------------------------------------
DESIGN = """
[design]
method = "lhs"
samples = 40
seed = 3

[design.params."externality.manu"]
low = 0.1
high = 2.0

[design.params.cost_scale]
low = 0.1
high = 3.0
spacing = "log"
"""


def test_design_store_conventions_export_and_memory(tmp_path):
    """A design store: CF units on the design coordinates, no boolean
    attribute, the same Dataset in memory, and an export that round-trips
    (the design parameters as columns of the point table)."""
    import coordsweep
    from coordsweep.engine.analysis.export import open_netcdf, read_table
    text = three_sector_spec(n_theta=3, n_cost=2).split("[axes.cost_scale]")[0] + DESIGN
    spec = write_spec(tmp_path, text)
    store = str(tmp_path / "design.zarr")
    code, _, err = main_inprocess("run", spec, "--store", store, "--scheduler", "synchronous",
                                  "--chunk-points", "30", "--quiet")
    assert code == 0, err
    ds = coordsweep.open_store(store)
    assert ds["cost_scale"].dims == ("sample",) and ds["cost_scale"].attrs["units"] == "1"
    assert ds["externality.manu"].attrs["units"] == "1"
    assert store_attrs(store)["design_method"] == "lhs"
    for where, meta in _zarr_json_files(store):
        assert "true" not in json.dumps(meta.get("attributes", {})).lower().split(), where
        assert not any(isinstance(v, bool) for v in meta.get("attributes", {}).values()), where
    stored = _results(store)
    assert_same_results(stored, coordsweep.run(spec, progress=False))
    coordsweep.export(store, tmp_path / "d.nc")
    assert_same_results(stored, open_netcdf(tmp_path / "d.nc").load())
    coordsweep.export(store, tmp_path / "d.parquet")
    df = read_table(tmp_path / "d.parquet")
    assert len(df) == 3 * 40
    assert np.array_equal(df["externality.manu"].to_numpy(),
                          np.tile(stored["externality.manu"].values, 3))
    assert np.array_equal(df["regime.agro"].to_numpy(),
                          stored.regime.sel(sector="agro").values.ravel())
    checker = os.path.join(os.path.dirname(sys.executable), "compliance-checker")
    if os.path.exists(checker):
        proc = subprocess.run([checker, "-t", "cf:1.10", "-c", "strict", str(tmp_path / "d.nc")],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0 and "All tests passed!" in proc.stdout, proc.stdout
