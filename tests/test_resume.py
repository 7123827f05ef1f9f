"""Kill and resume (CONTRACT.md "Command line": an interrupted store is
continued with --resume, computing only what is missing).

`coordsweep run` is started as a subprocess on a five-sector grid that
takes several seconds, SIGKILLed once some but not all chunks are
recorded in the store's completion record, and then:
- the store says it is incomplete (attrs and chunk_done), and
  `coordsweep inspect` reports the partial count;
- a plain run (no --resume) exits 2 and leaves the store untouched;
- --resume computes exactly the missing chunks, does not rewrite finished
  ones, and the result is bit-identical to an uninterrupted run.
"""
import os
import shutil
import signal
import time

import numpy as np
import pytest

from engine_helpers import (assert_identical_stores, assert_same_snapshot, chunk_done,
                            coordsweep, coordsweep_popen, five_sector_spec, is_held,
                            main_inprocess, slow_chunks_env, snapshot, store_attrs,
                            write_spec)

SHAPE = (40, 40, 40)        # 64,000 points, five sectors
CHUNK_POINTS = 1600         # chunk (1, 40, 40): 40 chunks
NCHUNKS = 40
KILL_AFTER = 3              # chunks recorded before the kill


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """A store whose `coordsweep run` was SIGKILLed part way."""
    d = tmp_path_factory.mktemp("resume")
    spec_path = write_spec(d, five_sector_spec(*SHAPE))
    store = os.path.join(d, "killed.zarr")
    # the run is held before its chunk KILL_AFTER + 1 (debug pause): it
    # cannot finish before the kill, whatever the machine's speed
    proc = coordsweep_popen("run", spec_path, "--store", store, "--scheduler", "synchronous",
                            "--chunk-points", CHUNK_POINTS, "--quiet",
                            env=slow_chunks_env(d, 0, hold_after=KILL_AFTER))
    done = None
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                n = int(chunk_done(store).sum())
            except Exception:  # noqa: BLE001 - store not created yet, chunk being written
                n = 0
            if n >= KILL_AFTER and is_held(d, KILL_AFTER):
                break
            time.sleep(0.01)
        exited = proc.poll()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        out, err = proc.communicate()
        assert exited is None, (f"the run ended (exit {exited}) before it could be killed"
                                f"\n{out}\n{err}")
        done = chunk_done(store)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return {"dir": d, "spec_path": spec_path, "store": store, "done": done}


def test_killed_store_is_incomplete(killed):
    done = killed["done"]
    assert done.shape == (NCHUNKS,)
    assert set(np.unique(done)) <= {0, 1}
    assert KILL_AFTER <= done.sum() < NCHUNKS
    attrs = store_attrs(killed["store"])
    assert attrs["complete"] == 0
    assert attrs["chunks_total"] == NCHUNKS
    # `coordsweep inspect` says so
    code, out, err = main_inprocess("inspect", killed["store"])
    assert code == 0, err
    assert f"{int(done.sum())}/{NCHUNKS} chunks" in out
    assert "complete: no" in out
    for axis in ("ca_spread", "externality.biotech", "cost_scale", "sector"):
        assert axis in out


def test_plain_run_refuses_incomplete_store(killed):
    before = snapshot(killed["store"])
    proc = coordsweep("run", killed["spec_path"], "--store", killed["store"],
                      "--scheduler", "synchronous", "--chunk-points", CHUNK_POINTS, "--quiet")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "--resume" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert_same_snapshot(before, snapshot(killed["store"]))
    assert np.array_equal(chunk_done(killed["store"]), killed["done"])


def test_resume_computes_missing_chunks_bit_identical(killed, tmp_path):
    from coordsweep.engine.spec.layout import Layout
    from coordsweep.engine.run.runner import run_sweep
    # work on a copy (mtimes preserved) so the other tests see the killed store
    store = str(tmp_path / "resumed.zarr")
    shutil.copytree(killed["store"], store)
    done = killed["done"].astype(bool)
    layout = Layout(SHAPE, tuple(store_attrs(store)["chunk_shape"]))
    assert layout.nchunks == NCHUNKS

    def chunk_file(cid):
        idx = np.unravel_index(cid, layout.grid)
        return os.path.join(store, "welfare_nc", ".".join(["c", *map(str, idx)]))

    finished = [int(c) for c in np.flatnonzero(done)]
    mtimes = {c: os.stat(chunk_file(c)).st_mtime_ns for c in finished}

    result = run_sweep(killed["spec_path"], store, resume=True, scheduler="synchronous",
                       progress=False)
    assert result.chunks_total == NCHUNKS
    assert result.chunks_computed == int((~done).sum())
    assert chunk_done(store).all()
    attrs = store_attrs(store)
    assert attrs["complete"] == 1 and attrs["chunks_done"] == NCHUNKS
    # finished chunks were not computed (written) again
    for c in finished:
        assert os.stat(chunk_file(c)).st_mtime_ns == mtimes[c], f"chunk {c} rewritten"

    # an uninterrupted run (default chunking) gives the same bits
    ref = str(tmp_path / "uninterrupted.zarr")
    full = run_sweep(killed["spec_path"], ref, scheduler="synchronous", progress=False)
    assert full.chunks_total != NCHUNKS  # a different layout, same values
    assert_identical_stores(ref, store)

    # a second --resume has nothing to do: the store is complete, and stays as it is
    code, out, err = main_inprocess("run", killed["spec_path"], "--store", store, "--resume",
                                    "--scheduler", "synchronous", "--quiet")
    assert code == 0, err
    assert "0 computed this run" in out
    assert all(os.stat(chunk_file(c)).st_mtime_ns == mtimes[c] for c in mtimes)
