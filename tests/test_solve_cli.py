"""`coordsweep solve SPEC --json` agrees with the independent reference
(tests/reference.py) on random points drawn from MODEL.md's domains, and
the plot/report commands honour the exit-code contract.

The CLI runs in-process (engine.cli.main) so that dozens of points cost
seconds; one subprocess call checks the installed entry point too.
"""
import contextlib
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from coordsweep.engine.cli import main
from coordsweep.kernels.codes import REGIME_NAMES
from coordsweep.kernels.outputs import OUTPUTS
from coordsweep.kernels.params import SECTOR_PARAMS
from reference import random_point, reference_solve
from specs import spec_text

REL = 1e-9
ABS = 1e-12


def _spec_text(params, names):
    sectors = [(name, {p: np.asarray(params[p])[j] for p in SECTOR_PARAMS
                       if params.get(p) is not None})
               for j, name in enumerate(names)]
    return spec_text("random point", sectors, labor=params["labor"],
                     labor_share=params["labor_share"])


def _run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _close(got, want):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    if isinstance(want, float) and math.isinf(want):
        return got == ("inf" if want > 0 else "-inf")
    if isinstance(want, (bool, np.bool_)):
        return got is bool(want)
    if isinstance(want, (int, np.integer)):
        return got == int(want) and not isinstance(got, bool)
    return isinstance(got, (int, float)) and abs(got - want) <= REL * abs(want) + ABS


def _points():
    rng = np.random.default_rng(20261128)
    for k in range(60):
        n = 1 + k % 6
        yield random_point(rng, n, high_alpha=(k % 5 == 0))


@pytest.mark.parametrize("params", list(_points()), ids=lambda p: f"N{len(p['price'])}")
def test_solve_json_matches_reference(params, tmp_path):
    n = len(params["price"])
    names = [f"s{j}" for j in range(n)]
    spec = tmp_path / "point.toml"
    spec.write_text(_spec_text(params, names))
    code, out, err = _run_cli(["solve", str(spec), "--json"])
    assert code == 0, err
    got = json.loads(out)
    want = reference_solve(**params)
    assert set(got) == {o.name for o in OUTPUTS}
    for o in OUTPUTS:
        w = want[o.name]
        g = got[o.name]
        if o.per == "point":
            assert _close(g, w.item() if hasattr(w, "item") else w), (o.name, g, w)
        else:
            assert isinstance(g, list) and len(g) == n, o.name
            for j in range(n):
                wj = np.asarray(w)[j].item()
                if o.name == "regime":
                    assert g[j] == REGIME_NAMES[wj], (o.name, j, g[j], wj)
                else:
                    assert _close(g[j], wj), (o.name, j, g[j], wj)


def test_installed_entry_point_prints_json(tmp_path):
    """The console script itself (not only engine.cli.main): one point."""
    spec = tmp_path / "one.toml"
    spec.write_text(_spec_text(dict(labor=1.0, labor_share=0.8, price=[1.0],
                                    productivity=[1.0], externality=[1.0], cost=[0.39]),
                               ["solo"]))
    exe = [sys.executable, "-m", "coordsweep", "solve", str(spec), "--json"]
    res = subprocess.run(exe, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    # alpha = 0.8, theta = 1, c = 0.39: g(1) = 0.2 * 31 / 16 - 0.39 < 0 < max g
    assert got["regime"] == ["partial_coordination"]
    assert got["has_partial"] is True
    assert 0 < got["critical_mass"][0] < got["partial_share"][0] < 1


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    import coordsweep
    tmp = tmp_path_factory.mktemp("plotcli")
    spec = tmp / "two.toml"
    spec.write_text(_spec_text(dict(labor=1.0, labor_share=0.6, price=[1.0, 1.0],
                                    productivity=[1.2, 1.0], externality=[0.3, 0.8],
                                    cost=[0.15, 0.15]), ["agro", "manu"])
                    + "\n[axes.externality_scale]\nstart = 0.0\nstop = 2.0\nnum = 21\n"
                    + "\n[axes.cost_scale]\nstart = 0.0\nstop = 3.0\nnum = 11\n")
    store = tmp / "two.zarr"
    coordsweep.run(str(spec), store=str(store), scheduler="synchronous", progress=False)
    return store


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_command_writes_requested_png(small_store, tmp_path):
    out = tmp_path / "regime.png"
    code, stdout, err = _run_cli(["plot", str(small_store), "--x", "externality_scale",
                                  "--y", "cost_scale", "--var", "regime", "--sector", "manu",
                                  "-o", str(out), "--width", "500", "--height", "300"])
    assert code == 0, err
    assert _png_size(out) == (500, 300)
    out1 = tmp_path / "line.png"
    code, _, err = _run_cli(["plot", str(small_store), "--x", "cost_scale", "--var",
                             "coordination_gap", "--select", "externality_scale=1.0",
                             "-o", str(out1)])
    assert code == 0, err
    assert _png_size(out1) == (800, 600)


@pytest.mark.parametrize("args, needle", [
    (["--x", "externality_scale", "--y", "cost_scale", "--var", "nonsense"], "nonsense"),
    (["--x", "bogus_axis", "--var", "n_equilibria", "--select", "cost_scale=1"], "bogus_axis"),
    (["--x", "externality_scale", "--y", "cost_scale", "--var", "regime", "--sector", "zzz"],
     "zzz"),
    (["--x", "cost_scale", "--var", "n_equilibria"], "externality_scale"),
    (["--x", "cost_scale", "--var", "n_equilibria", "--select", "externality_scale=abc"],
     "abc"),
])
def test_plot_command_bad_arguments_exit_2(small_store, tmp_path, args, needle):
    out = tmp_path / "x.png"
    code, _, err = _run_cli(["plot", str(small_store), *args, "-o", str(out)])
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_plot_and_report_on_missing_store_exit_2(tmp_path):
    for argv in (["plot", str(tmp_path / "none.zarr"), "--x", "a", "--var", "regime",
                  "-o", str(tmp_path / "p.png")],
                 ["report", str(tmp_path / "none.zarr"), "-o", str(tmp_path / "rep")]):
        code, _, err = _run_cli(argv)
        assert code == 2 and "none.zarr" in err


def test_report_command(small_store, tmp_path):
    outdir = tmp_path / "rep"
    code, stdout, err = _run_cli(["report", str(small_store), "-o", str(outdir)])
    assert code == 0, err
    html = (outdir / "index.html").read_text()
    pngs = sorted(outdir.glob("*.png"))
    assert pngs and html.count("<img") == len(pngs)
    assert "externality_scale" in html and "cost_scale" in html
