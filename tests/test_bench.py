"""coordsweep bench: the harness runs, its dataset holds what it says, and
the variants it compares agree (no timing assertions)."""
import numpy as np
import pytest
import xarray as xr

from coordsweep.engine.run import bench
from coordsweep.engine.cli import main


@pytest.fixture(scope="module")
def small():
    return bench.run_bench(quick=True, sectors=(1, 3), budget=0.02, repeats=2, cold=False)


def test_dataset_layout(small):
    ds = small
    assert list(ds.variant.values) == ["numba", "wage=brent", "equilibria=mitm", "path=brent",
                                       "c", "scipy"]
    assert ds.points_per_s.dims == ("variant", "eta_positive", "n_sectors")
    assert ds.points_per_s_repeats.sizes["repeat"] == 2
    assert bool((ds.points_per_s > 0).all())
    assert bool((ds.ratio_vs_c.sel(variant="c") == 1.0).all())
    assert ds.attrs["machine_cpu_count"]
    assert "-O3 -march=native" in ds.attrs["c_command"]


def test_variants_agree_with_reference(small):
    """The solver variants, the C and the SciPy implementations find what
    the kernels find: same equilibria and regimes; floats within 1e-10
    relative for the solver variants, 1e-9 for the baselines (other root
    finders stop at other last bits; libm and FMA contraction differ)."""
    ds = small
    assert bool((ds.eq_identical == 1.0).all())
    assert bool((ds.regime_identical == 1.0).all())
    assert float(ds.max_rel_diff.sel(
        variant=["wage=brent", "equilibria=mitm", "path=brent"]).max()) <= 1e-10
    assert float(ds.max_rel_diff.max()) < 1e-9
    assert float(ds.max_rel_diff.sel(variant="numba").max()) == 0.0
    assert bool((ds.points_compared > 0).all())


def test_compare_detects_disagreement():
    ref = dict(wage_nc=np.array([1.0, 2.0]), n_equilibria=np.array([1, 2]),
               best_mask=np.array([0, 1]), fb_mask=np.array([0, 1]),
               regime=np.array([[2], [3]]))
    for f in bench.FLOAT_FIELDS:
        ref.setdefault(f, np.array([1.0, np.nan]))
    other = {k: v.copy() for k, v in ref.items()}
    other["n_equilibria"][1] = 3
    other["welfare_fb"] = np.array([1.0 + 1e-6, np.nan])
    c = bench.compare(ref, other)
    assert c["eq_identical"] == 0.5
    assert abs(c["max_rel_diff"] - 1e-6) < 1e-9
    other["critical_mass"] = np.array([1.0, 0.5])  # a number where ref has NaN
    assert bench.compare(ref, other)["max_rel_diff"] == np.inf


def test_written_dataset_round_trips(small, tmp_path):
    out = bench.write_dataset(small, tmp_path / "b.nc")
    back = xr.open_dataset(out)
    np.testing.assert_array_equal(back.points_per_s.values, small.points_per_s.values)
    assert back.attrs["reference_variant"] == "numba"
    back.close()


def test_cli_bench_prints_table_and_refuses_bad_output(tmp_path, capsys):
    out = tmp_path / "b.nc"
    rc = main(["bench", "--quick", "--sectors", "2", "--eta", "0", "--variants", "numba;c",
               "--budget", "0.01", "--repeats", "1", "--no-cold", "--quiet", "-o", str(out),
               "--plot", str(tmp_path / "b.png")])
    text = capsys.readouterr().out
    assert rc == 0 and out.exists()
    assert "points/s" in text and "numba" in text and " c " in text
    before = out.read_bytes()
    assert main(["bench", "--quick", "-o", str(out)]) == 2          # exists
    assert out.read_bytes() == before
    assert main(["bench", "--quick", "-o", str(tmp_path / "b.csv")]) == 2   # suffix
    assert main(["bench", "--sectors", "30", "--quiet"]) == 2       # N out of range
    assert main(["bench", "--variants", "numba;fortran", "--quiet"]) == 2
    assert main(["bench", "--variants", "wage=secant", "--quiet"]) == 2
    assert main(["bench", "--quick", "--plot", str(tmp_path / "b.svg")]) == 2
    assert main(["bench", "--quick", "--budget", "-1", "--quiet"]) == 2
    assert main(["bench", "--quick", "--repeats", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "fortran" in err and "secant" in err
    assert "--budget -1" in err and "--repeats 0" in err
    assert (tmp_path / "b.png").stat().st_size > 0
    assert sorted(tmp_path.iterdir()) == [out, tmp_path / "b.png"]


def test_baselines_ship_with_the_package():
    """`coordsweep bench` needs no source checkout: the C source and both
    baselines are in the installed package (package data in pyproject)."""
    from importlib import resources

    from coordsweep.engine.run.baselines import c_baseline, scipy_baseline
    source = resources.files("coordsweep.engine.run.baselines") / "coordsweep.c"
    assert source.is_file() and "cs_solve_block" in source.read_text()
    assert c_baseline.SOURCE.is_file()
    assert callable(scipy_baseline.solve_block)
    from coordsweep.engine.spec.model import tomllib
    from pathlib import Path
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    setup = project["tool"]["setuptools"]
    assert "coordsweep.engine.run.baselines" in setup["packages"]
    assert "*.c" in setup["package-data"]["coordsweep.engine.run.baselines"]
