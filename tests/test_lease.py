"""One writer per store: the store lease (engine/store/lease.py).

test_second_run_is_refused_while_first_runs: a second `coordsweep run
--overwrite` must not replace the template under a running first run.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from engine_helpers import (assert_identical_stores, assert_same_snapshot, chunk_done,
                            coordsweep, five_sector_spec, is_held, main_inprocess,
                            release_held, snapshot, three_sector_spec, write_spec)

from coordsweep.engine import config
from coordsweep.engine.spec.parts import run_id

SHAPE = (20, 20, 20)     # 8,000 points, five sectors
CHUNK_POINTS = 400       # 20 chunks


def _env(**extra):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _popen(env, *args):
    from engine_helpers import COORDSWEEP, ROOT
    return subprocess.Popen([COORDSWEEP, *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(cond, proc=None, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def refs(tmp_path_factory):
    """Uninterrupted reference stores of spec A (five sectors) and spec B
    (three sectors), and their spec files."""
    from coordsweep.engine.run.runner import run_sweep
    d = tmp_path_factory.mktemp("lease")
    a = write_spec(d, five_sector_spec(*SHAPE), "a.toml")
    b = write_spec(d, three_sector_spec(11, 11, name="other spec"), "b.toml")
    run_sweep(a, str(d / "ref_a.zarr"), scheduler="synchronous", progress=False)
    run_sweep(b, str(d / "ref_b.zarr"), scheduler="synchronous", progress=False)
    return {"a": a, "b": b, "ref_a": str(d / "ref_a.zarr"), "ref_b": str(d / "ref_b.zarr")}


def _one_line(stderr):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def _paused_run_of_a(refs, store, marker, seconds, hold_after=None):
    """`coordsweep run` of spec A into store, each chunk write held
    `seconds` by a debug pause that touches `marker` (engine/run/debug.py);
    with hold_after N, held before chunk N + 1 until `marker`.go exists."""
    hold = {} if hold_after is None else {"COORDSWEEP_DEBUG_HOLD_AFTER": hold_after}
    return _popen(_env(COORDSWEEP_DEBUG_PAUSE=f"write:{seconds}:{marker}", **hold),
                  "run", refs["a"], "--store", store, "--scheduler", "synchronous",
                  "--chunk-points", CHUNK_POINTS, "--quiet")


def test_second_run_is_refused_while_first_runs(refs, tmp_path):
    """Finding 1: B (--overwrite, another spec) while A writes the store
    (A is held after its first chunk until B and inspect are done: it
    cannot finish first, whatever the machine's speed)."""
    store = str(tmp_path / "shared.zarr")
    marker = str(tmp_path / "paused")
    a = _paused_run_of_a(refs, store, marker, 0, hold_after=1)
    try:
        def started():
            try:
                return chunk_done(store).sum() >= 1 and is_held(tmp_path, 1)
            except Exception:  # noqa: BLE001 - template not written yet
                return False
        assert _wait_for(started, a), a.communicate()
        b = coordsweep("run", refs["b"], "--store", store, "--overwrite",
                       "--scheduler", "synchronous", "--quiet")
        assert b.returncode == 2, (b.stdout, b.stderr)
        line = _one_line(b.stderr)
        assert "in use by run" in line and f"pid {a.pid}" in line, line
        assert socket.gethostname() in line
        # inspect works while the run is in progress and shows its progress
        code, out, err = main_inprocess("inspect", store)
        assert code == 0, err
        assert "run: in progress" in out and f"pid {a.pid}" in out
        assert "chunks done" in out and "complete: no" in out
        release_held(tmp_path)
        out, err = a.communicate(timeout=300)
    finally:
        if a.poll() is None:
            a.kill()
    assert a.returncode == 0, err
    assert chunk_done(store).all()
    assert_identical_stores(refs["ref_a"], store)
    assert not os.path.exists(os.path.join(store, "coordsweep.lease.json"))


def test_stopped_run_loses_its_lease_and_writes_nothing(refs, tmp_path):
    """A run frozen (SIGSTOP) past the lease timeout is taken over by B
    (--overwrite); when A continues, its task stops before writing: B's
    store stays bit-identical to B's reference, A exits 1 with one line."""
    store = str(tmp_path / "taken.zarr")
    marker = str(tmp_path / "paused")
    a = _paused_run_of_a(refs, store, marker, 0, hold_after=0)
    try:
        assert _wait_for(lambda: os.path.exists(marker), a), a.communicate()
        os.kill(a.pid, signal.SIGSTOP)  # held in the pause, before its first write
        time.sleep(1.5)
        b = subprocess.run(
            [sys.executable, "-m", "coordsweep", "run", refs["b"], "--store", store,
             "--overwrite", "--scheduler", "synchronous", "--quiet"],
            env=_env(COORDSWEEP_LEASE_TIMEOUT=1), capture_output=True, text=True,
            timeout=300)
        assert b.returncode == 0, b.stderr
        after_b = snapshot(store)
        release_held(tmp_path)
        os.kill(a.pid, signal.SIGCONT)
        out, err = a.communicate(timeout=300)
    finally:
        if a.poll() is None:
            os.kill(a.pid, signal.SIGCONT)
            a.kill()
    assert a.returncode == 1, err
    line = _one_line(err)
    assert "no longer holds the store" in line
    assert_same_snapshot(after_b, snapshot(store))
    assert_identical_stores(refs["ref_b"], store)


# --- the lease module ---------------------------------------------------------------
def _fake_lease(store, **fields):
    os.makedirs(store, exist_ok=True)
    rec = {"run_id": "someone", "host": socket.gethostname(), "pid": os.getpid(),
           "heartbeat": time.time(), "started": "?", "state": "running", "shared": False}
    rec.update(fields)
    with open(os.path.join(store, "coordsweep.lease.json"), "w") as f:
        json.dump(rec, f)
    return rec


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_leases_are_taken_over_live_ones_refused(tmp_path):
    from coordsweep.engine.store import lease
    store = str(tmp_path / "s.zarr")
    _fake_lease(store, pid=_dead_pid())                     # dead pid, this host
    assert lease.acquire(store, "mine")["run_id"] == "someone"
    assert lease.read(store)["run_id"] == "mine"
    lease.release(store, "mine")
    _fake_lease(store, host="elsewhere", pid=1)             # live on another host
    with pytest.raises(lease.LeaseHeld, match="host elsewhere, pid 1"):
        lease.acquire(store, "mine")
    _fake_lease(store, host="elsewhere", pid=1, heartbeat=time.time() - 10 * config.TIMEOUT)
    assert lease.acquire(store, "mine") is not None         # heartbeat too old
    lease.release(store, "mine")
    assert lease.read(store) is None


def test_inspect_says_what_a_lease_record_says_of_its_run(tmp_path):
    """A plain run's record: in progress while its pid lives, stale once it
    is gone; a job array's shared record (any part writes it) whose pid has
    exited on this host is not a run in progress: other parts may be."""
    from coordsweep.engine.store import lease
    store = str(tmp_path / "s.zarr")
    _fake_lease(store, pid=os.getpid())
    assert lease.state_of(lease.read(store)) == "in progress"
    _fake_lease(store, pid=_dead_pid())
    assert lease.state_of(lease.read(store)) == "stale (its run is gone)"
    _fake_lease(store, pid=os.getpid(), shared=True)
    assert lease.state_of(lease.read(store)) == "in progress (parts of a job array)"
    _fake_lease(store, pid=_dead_pid(), shared=True)
    state = lease.state_of(lease.read(store))
    assert state.startswith("parts of a job array: the part that beat last has exited")
    _fake_lease(store, pid=_dead_pid(), shared=True, heartbeat=time.time() - 10 * config.TIMEOUT)
    assert lease.state_of(lease.read(store)) == "stale (its run is gone)"


def test_job_array_parts_share_the_lease(tmp_path):
    from coordsweep.engine.store import lease
    store = str(tmp_path / "a.zarr")
    text = five_sector_spec(2, 2, 2)
    rid = run_id(text, 3, "s")
    assert rid == run_id(text, 3, "s") != run_id(text, 2, "s")
    assert rid != run_id(text, 3, "other solver")
    assert lease.acquire(store, rid, shared=True) is None
    # another part of the same array joins; another array or a plain run is refused
    assert lease.acquire(store, rid, shared=True) is None
    with pytest.raises(lease.LeaseHeld):
        lease.acquire(store, run_id(text, 2, "s"), shared=True)
    with pytest.raises(lease.LeaseHeld):
        lease.acquire(store, lease.new_run_id())


def test_a_shared_lease_is_released_on_exit_once_the_store_is_complete(tmp_path):
    """The parts of one array: part A is still inside its lease when part B
    completes the store and releases it, and A's last heartbeat writes the
    record back (the crossing, constructed); A's exit, after its heartbeat
    has stopped, still leaves no lease. While the store is incomplete a
    finished part leaves the shared lease to the others."""
    from coordsweep.engine.store import lease
    store = str(tmp_path / "a.zarr")
    complete = {"now": False}
    rid = run_id("spec text", 2, "s")
    a = lease.Lease(store, rid, shared=True, release_when=lambda: complete["now"])
    with a:
        with lease.Lease(store, rid, shared=True, release_when=lambda: complete["now"]):
            pass  # B finishes first, the store still incomplete: the lease stays
        assert lease.read(store)["run_id"] == rid
        record = lease.read(store)
        complete["now"] = True
        lease.release(store, rid)  # B completed the store and released the lease ...
        with open(os.path.join(store, "coordsweep.lease.json"), "w") as f:
            json.dump(record, f)  # ... and A's heartbeat, read before, wrote it back
        assert lease.read(store)["run_id"] == rid
    assert lease.read(store) is None


def test_refused_run_touches_nothing_not_even_a_stale_lease(refs, tmp_path):
    from coordsweep.engine.run.runner import run_sweep
    store = str(tmp_path / "done.zarr")
    run_sweep(refs["b"], store, scheduler="synchronous", progress=False)
    _fake_lease(store, pid=_dead_pid())
    before = snapshot(store)
    code, out, err = main_inprocess("run", refs["b"], "--store", store,
                                    "--scheduler", "synchronous", "--quiet")
    assert code == 2 and "--overwrite" in err
    assert_same_snapshot(before, snapshot(store))


def test_task_without_the_lease_writes_nothing(refs, tmp_path):
    from coordsweep.engine.store import lease
    from coordsweep.engine.spec.layout import Layout
    from coordsweep.engine.run.executors import compute_chunk
    from coordsweep.engine.run.runner import run_sweep
    from coordsweep.engine.spec.model import load_spec
    store = str(tmp_path / "held.zarr")
    run_sweep(refs["b"], store, scheduler="synchronous", progress=False, chunk_points=20)
    spec = load_spec(refs["b"])
    layout = Layout.for_grid(spec.shape, 20)
    import zarr
    zarr.open_group(store, mode="r+")["chunk_done"][3] = 0  # chunk 3 still to do
    _fake_lease(store, run_id="the-holder")
    before = snapshot(store)
    with pytest.raises(lease.LeaseLost, match="no longer holds"):
        compute_chunk(spec, store, layout, 3, "a-stale-run", 12345)
    assert_same_snapshot(before, snapshot(store))


def test_chunk_marked_by_another_run_is_not_done(refs, tmp_path):
    """Each chunk record carries the store's run token: a mark written by
    a task of another run does not count; --resume computes that chunk."""
    import zarr

    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.engine.run.runner import run_sweep
    store = str(tmp_path / "marks.zarr")
    run_sweep(refs["b"], store, scheduler="synchronous", progress=False, chunk_points=20)
    n = chunk_done(store).size
    group = zarr.open_group(store, mode="r+")
    assert int(group["chunk_done"][2]) == group.attrs["run_token"] != 1
    group["chunk_done"][2] = zstore.run_token("another run")
    done = zstore.done_chunks(store)
    assert not done[2] and done.sum() == n - 1
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert code == 1 and "not computed: chunks 2" in out
    code, out, err = main_inprocess("run", refs["b"], "--store", store, "--resume",
                                    "--scheduler", "synchronous", "--quiet")
    assert code == 0, err
    assert "1 computed this run" in out
    assert np.all(chunk_done(store) == 1)
    assert_identical_stores(refs["ref_b"], store)


def test_task_of_a_run_that_lost_its_lease_stops_before_reading_the_store(refs, tmp_path):
    """A task (compute_chunk) checks the lease before it reads the store's
    done-markers: after a takeover by a run of another spec (another
    layout) it raises LeaseLost, not an index error from the new store
    (CI saw `BoundsCheckError` when the computing thread, not the writer
    thread, was the first to resume after SIGCONT)."""
    import shutil

    from coordsweep.engine.store import lease
    from coordsweep.engine.spec.layout import Layout
    from coordsweep.engine.run.executors import compute_chunk
    from coordsweep.engine.spec.model import load_spec
    store = str(tmp_path / "taken.zarr")
    shutil.copytree(refs["ref_b"], store)          # B's store: one chunk
    spec_a = load_spec(refs["a"])
    layout_a = Layout.for_grid(spec_a.shape, CHUNK_POINTS)
    assert layout_a.nchunks > 1
    _fake_lease(store, run_id="run-b")
    with pytest.raises(lease.LeaseLost, match="no longer holds the store"):
        compute_chunk(spec_a, store, layout_a, layout_a.nchunks - 1, run_id="run-a")
    # the store is B's, untouched
    assert_identical_stores(refs["ref_b"], store)
