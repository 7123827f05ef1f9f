"""Cluster batch jobs on a real SLURM: a private slurmctld +
slurmd + munged started by the `slurm` fixture (tests/slurm_helpers.py).

- `coordsweep run --cluster slurm` (dask-jobqueue, workers in SLURM jobs)
  equals the synchronous run bit for bit;
- the 3-part job array of `coordsweep slurm-script`, submitted with
  sbatch, equals it too;
- an array cancelled mid-run (scancel) and resubmitted with the same
  script completes the store: nothing lost, no chunk recorded done before
  the cancel written again.
"""
import glob
import os
import re
import time

import numpy as np
import pytest

from engine_helpers import (COORDSWEEP, assert_identical_stores, chunk_done, coordsweep,
                            five_sector_spec, main_inprocess, store_attrs, three_sector_spec,
                            write_spec)
from slurm_helpers import slurm  # noqa: F401 - the fixture

pytestmark = pytest.mark.slurm


def _reference(spec_path, store):
    code, _, err = main_inprocess("run", spec_path, "--store", store, "--scheduler",
                                  "synchronous", "--quiet")
    assert code == 0, err


def _computed(log_text):
    m = re.search(r"chunks\s+(\d+) computed this run", log_text)
    assert m, log_text
    return int(m.group(1))


def test_cluster_slurm_equals_synchronous(slurm, tmp_path):
    spec_path = write_spec(tmp_path, three_sector_spec(21, 20, name="slurm cluster"))
    ref = str(tmp_path / "ref.zarr")
    _reference(spec_path, ref)
    store = str(tmp_path / "slurm.zarr")
    import subprocess
    proc = subprocess.run(
        [COORDSWEEP, "run", spec_path, "--store", store, "--chunk-points", "60",
         "--cluster", "slurm", "--jobs", "2", "--cores", "1", "--memory", "1GB",
         "--walltime", "00:10:00", "--scheduler-host", "127.0.0.1"],
        cwd=str(tmp_path), env=slurm.env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout, proc.stderr, slurm.logs())
    assert "--cluster slurm: adaptive, up to 2 jobs x 1 workers" in proc.stdout
    assert re.search(r"dashboard\s+http://", proc.stdout), proc.stdout
    assert store_attrs(store)["complete"] == 1
    assert_identical_stores(ref, store)
    # the workers ran as SLURM jobs: their job logs are in the submit directory
    logs = glob.glob(str(tmp_path / "slurm-*.out"))
    assert logs, os.listdir(tmp_path)
    assert any("Starting worker" in open(p).read() or "Start worker" in open(p).read()
               for p in logs), [open(p).read()[-2000:] for p in logs]


def test_job_array_from_generated_script(slurm, tmp_path):
    spec_path = write_spec(tmp_path, three_sector_spec(21, 20, name="slurm array"))
    ref = str(tmp_path / "ref.zarr")
    _reference(spec_path, ref)
    store = str(tmp_path / "array.zarr")
    script = str(tmp_path / "job.sh")
    code, _, err = main_inprocess("slurm-script", spec_path, "--array", 3, "--cpus", 1,
                                  "--time", "00:10:00", "--store", store, "-o", script)
    assert code == 0, err
    job = slurm.sbatch(script, f"--chdir={tmp_path}")
    slurm.wait_gone(job)
    logs = sorted(glob.glob(str(tmp_path / f"slurm-{job}_*.out")))
    assert len(logs) == 3, (os.listdir(tmp_path), slurm.logs())
    texts = [open(p).read() for p in logs]
    assert all("part              " in t for t in texts), texts
    assert store_attrs(store)["complete"] == 1, texts
    assert_identical_stores(ref, store)
    assert sum(_computed(t) for t in texts) == chunk_done(store).size


def test_cancelled_array_resubmitted_loses_nothing(slurm, tmp_path):
    spec_path = write_spec(tmp_path, five_sector_spec(40, 40, 40))
    store = str(tmp_path / "array.zarr")
    script = str(tmp_path / "job.sh")
    code, _, err = main_inprocess("slurm-script", spec_path, "--array", 3, "--cpus", 1,
                                  "--store", store, "-o", script)
    assert code == 0, err
    with open(script) as f:  # small chunks: many of them, the cancel lands mid-run
        text = f.read().replace("--quiet", "--chunk-points 1600 --quiet")
    with open(script, "w") as f:
        f.write(text)
    job = slurm.sbatch(script, f"--chdir={tmp_path}")
    deadline = time.monotonic() + 300
    n = 0
    while time.monotonic() < deadline:
        try:
            n = int(chunk_done(store).sum())
        except Exception:  # noqa: BLE001 - not created yet
            n = 0
        if n >= 4:
            break
        time.sleep(0.05)
    slurm.run("scancel", job)
    slurm.wait_gone(job)
    done = chunk_done(store).astype(bool)
    assert 4 <= done.sum() < done.size, f"{int(done.sum())} of {done.size} chunks done"
    assert store_attrs(store)["complete"] == 0
    code, out, _ = main_inprocess("inspect", store)
    assert "missing:" in out

    from coordsweep.engine.spec.layout import Layout
    layout = Layout((40, 40, 40), tuple(store_attrs(store)["chunk_shape"]))
    assert layout.nchunks == 40

    def chunk_file(cid):
        return os.path.join(store, "welfare_nc",
                            ".".join(["c", *map(str, np.unravel_index(cid, layout.grid))]))

    mtimes = {int(c): os.stat(chunk_file(c)).st_mtime_ns for c in np.flatnonzero(done)}
    job2 = slurm.sbatch(script, f"--chdir={tmp_path}")
    slurm.wait_gone(job2)
    logs = [open(p).read() for p in glob.glob(str(tmp_path / f"slurm-{job2}_*.out"))]
    assert len(logs) == 3, logs
    assert store_attrs(store)["complete"] == 1, logs
    assert chunk_done(store).all()
    # exactly the missing chunks were computed, the done ones not rewritten
    assert sum(_computed(t) for t in logs) == int((~done).sum())
    for c, m in mtimes.items():
        assert os.stat(chunk_file(c)).st_mtime_ns == m, f"chunk {c} rewritten"
    ref = str(tmp_path / "ref.zarr")
    proc = coordsweep("run", spec_path, "--store", ref, "--scheduler", "threads", "--quiet",
                      timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert_identical_stores(ref, store)


def test_workers_retire_before_walltime_and_new_jobs_take_over(slurm, tmp_path):
    """A sweep through --cluster slurm with --walltime 00:01:00 whose every
    chunk takes at least 6 s by construction (the debug pause before each
    chunk's write): 12 chunks, over 72 s of work for one worker that
    retires after about 30 s, before SLURM would kill its job; adaptive
    scaling submits new jobs, workers of more than one job write chunks,
    and the sweep completes with the same bits as the threaded run."""
    import subprocess
    spec_path = write_spec(tmp_path, three_sector_spec(240, 1000, name="slurm walltime"))
    store = str(tmp_path / "w.zarr")
    marker = tmp_path / "paused"
    env = dict(slurm.env, COORDSWEEP_DEBUG_PAUSE=f"write:6:{marker}")
    proc = subprocess.run(
        [COORDSWEEP, "run", spec_path, "--store", store, "--chunk-points", "20000",
         "--cluster", "slurm", "--jobs", "1", "--cores", "1", "--memory", "1GB",
         "--walltime", "00:01:00", "--scheduler-host", "127.0.0.1", "--quiet"],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, (proc.stdout, proc.stderr, slurm.logs())
    logs = [open(p).read() for p in glob.glob(str(tmp_path / "slurm-*.out"))]
    pids = set(marker.read_text().split())
    retired = sum("worker-lifetime-reached" in t for t in logs)
    assert retired >= 1 and len(logs) >= 2, [t[-1500:] for t in logs]
    assert len(pids) >= 2, pids   # chunks written by workers of several jobs
    assert not any("DUE TO TIME LIMIT" in t for t in logs)   # retired, never killed
    assert store_attrs(store)["complete"] == 1
    ref = str(tmp_path / "ref.zarr")
    p = coordsweep("run", spec_path, "--store", ref, "--scheduler", "threads", "--quiet",
                   timeout=1200)
    assert p.returncode == 0, p.stderr
    assert_identical_stores(ref, store)
