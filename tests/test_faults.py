"""Numerical faults: COORDSWEEP_DEBUG_MAXITER=1 caps every root
finder at one iteration. The affected points get their status bit, the
sweep continues, the run summary and `inspect` count them, and `plot`
masks them."""
import os
import re
import subprocess

import numpy as np

from coordsweep.engine.store.conventions import is_complete
import pytest

from engine_helpers import (COORDSWEEP, ROOT, main_inprocess, open_dataset,
                            three_sector_spec, write_spec)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    spec = write_spec(d, three_sector_spec(11, 9))   # eta > 0: the wage solver runs
    store = str(d / "faulty.zarr")
    env = dict(os.environ, COORDSWEEP_DEBUG_MAXITER="1")
    proc = subprocess.run([COORDSWEEP, "run", spec, "--store", store, "--scheduler",
                           "synchronous", "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return {"spec": spec, "store": store, "out": proc.stdout, "dir": d}


def test_faults_set_status_bits_and_sweep_continues(faulty):
    from coordsweep.kernels.codes import NOT_COMPUTED, PATH_NOT_CONVERGED, WAGE_NOT_CONVERGED
    ds = open_dataset(faulty["store"])
    status = ds["status"].values.astype(int)
    assert not (status & NOT_COMPUTED).any()             # every point computed
    n_wage = int(((status & WAGE_NOT_CONVERGED) != 0).sum())
    n_path = int(((status & PATH_NOT_CONVERGED) != 0).sum())
    assert n_wage > 0 and n_path > 0
    assert is_complete(ds.attrs)
    # the summary counts them
    assert f"wage_not_converged {n_wage:,}" in faulty["out"]
    assert f"path_not_converged {n_path:,}" in faulty["out"]
    # so does inspect
    code, out, err = main_inprocess("inspect", faulty["store"])
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("status:"))
    assert f"wage_not_converged {n_wage:,}" in line
    assert f"path_not_converged {n_path:,}" in line
    m = re.search(r"ok ([\d,]+) of ([\d,]+)", line)
    assert int(m.group(1).replace(",", "")) == int((status == 0).sum())


def test_plot_masks_failed_points(faulty, tmp_path):
    from coordsweep.engine.viz.plot import plot
    from coordsweep.engine.viz.plotdata import FAILED_BITS
    ds = open_dataset(faulty["store"])
    r = plot(ds, x="externality_scale", y="cost_scale", var="welfare_nc",
             out=tmp_path / "w.png")
    failed = (ds["status"].values.astype(int) & FAILED_BITS) != 0
    assert failed.any()
    values = ds["welfare_nc"].values
    expected_nan = failed | np.isnan(values)
    assert r["nonfinite"].get("nan", 0) == int(expected_nan.sum())


def test_without_the_debug_setting_no_faults(faulty, tmp_path):
    from coordsweep.engine.run.runner import run_sweep
    from coordsweep.kernels.codes import PATH_NOT_CONVERGED, WAGE_NOT_CONVERGED
    res = run_sweep(faulty["spec"], str(tmp_path / "clean.zarr"), scheduler="synchronous",
                    progress=False)
    status = res.dataset["status"].values.astype(int)
    assert not (status & (WAGE_NOT_CONVERGED | PATH_NOT_CONVERGED)).any()
