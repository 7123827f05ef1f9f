"""Crash safety: `coordsweep run` SIGKILLed at random moments,
a dask worker killed mid-task, a full disk -- and nothing is lost.

- default suite: 3 SIGKILLs at random moments of one sweep, each followed
  by --resume (or a plain run when nothing was created yet), then a last
  --resume: the store is bit-identical to an uninterrupted run and
  `inspect --verify` finds every chunk good;
- `pytest -m slow`: 24 kills, including during the template write and
  the final step (debug pauses mark those moments, engine/run/debug.py);
- a worker process of the local cluster SIGKILLed while it runs a task:
  the run still completes, identical;
- a full disk (a small tmpfs): a one-line error, the finished chunks kept,
  and after more space, --resume completes it, identical.

The random moments come from a seeded generator; the seed is printed.
Every kill is constructed to find the run alive (debug pauses and holds,
engine/run/debug.py), whatever the machine's speed.
"""
import os
import random
import signal
import subprocess
import time

import numpy as np

from coordsweep.engine.store.conventions import is_complete
import pytest

from engine_helpers import (COORDSWEEP, ROOT, assert_identical_stores, chunk_done,
                            five_sector_spec, main_inprocess, store_attrs, write_spec)

SHAPE = (20, 20, 20)     # 8,000 points, five sectors
CHUNK_POINTS = 400       # 20 chunks
NCHUNKS = 20


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    from coordsweep.engine.run.runner import run_sweep
    d = tmp_path_factory.mktemp("crash")
    spec = write_spec(d, five_sector_spec(*SHAPE))
    store = str(d / "ref.zarr")
    run_sweep(spec, store, scheduler="synchronous", progress=False)
    return {"spec": spec, "store": store, "dir": d}


def _exists(store):
    from coordsweep.engine.store import zarrstore as zstore
    return zstore.exists(store)


def _run_args(spec, store, scheduler="synchronous", workers=None):
    args = [COORDSWEEP, "run", spec, "--store", store, "--scheduler", scheduler,
            "--chunk-points", str(CHUNK_POINTS), "--quiet"]
    if workers:
        args += ["--workers", str(workers)]
    if _exists(store):
        args.append("--resume")
    return args


def _done_count(store):
    try:
        return int(chunk_done(store).sum())
    except Exception:  # noqa: BLE001 - no store or template yet
        return 0


#: the debug pause before every chunk's write in "time" kills: a run with
#: r chunks left lives at least r * PAUSE seconds, whatever the machine
PAUSE = 0.05


def kill_once(spec, store, rng, mode, env=None, tmp=None):
    """Start a run (resuming when a store exists) and SIGKILL it at a random
    moment of kind `mode`, constructed so that the run cannot end first:
    "time" (every chunk paused PAUSE s before its write, the kill drawn
    inside the least time the chunks left take), "chunks" (the run held
    before its chunk k + 1 for a random k, killed while held) or a debug
    pause point ("template", "finalize"). Returns True when the kill hit a
    running process."""
    env = dict(os.environ if env is None else env)
    marker = os.path.join(str(tmp), f"marker-{rng.random()}")
    left = NCHUNKS - _done_count(store)
    if mode in ("template", "finalize"):
        env["COORDSWEEP_DEBUG_PAUSE"] = f"{mode}:0.3:{marker}"
    elif mode == "time":
        env["COORDSWEEP_DEBUG_PAUSE"] = f"write:{PAUSE}:{marker}"
    else:
        hold = rng.randint(0, max(0, min(4, left - 1)))
        env["COORDSWEEP_DEBUG_PAUSE"] = f"write:0:{marker}"
        env["COORDSWEEP_DEBUG_HOLD_AFTER"] = str(hold)
    proc = subprocess.Popen(_run_args(spec, store), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if mode == "time":
            # the pauses start once the run computes: wait for the first
            while not os.path.exists(marker) and proc.poll() is None:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.9 * max(left - 1, 0) * PAUSE))
        elif mode == "chunks":
            while not _held(marker, hold) and proc.poll() is None:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
        else:  # a debug pause: kill in it or just after it (inside the step)
            while not os.path.exists(marker) and proc.poll() is None:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.7))
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    if not alive:
        assert proc.returncode == 0, err  # it finished before the kill: fine
    return alive


def _held(marker, hold):
    """The run waits in its held pause (more than `hold` pauses begun)."""
    try:
        with open(marker) as f:
            return len(f.read().splitlines()) > hold
    except FileNotFoundError:
        return False


def finish_and_compare(spec, store, ref_store):
    proc = subprocess.run(_run_args(spec, store), cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert chunk_done(store).all()
    assert is_complete(store_attrs(store))
    assert_identical_stores(ref_store, store)
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert code == 0, out + err
    assert "0 bad, 0 not computed" in out
    assert not os.path.exists(os.path.join(store, "coordsweep.lease.json"))


def kill_trials(ref, tmp_path, modes, seed):
    rng = random.Random(seed)
    print(f"kill trials: seed {seed}, modes {modes}")
    store = str(tmp_path / "killed.zarr")
    kills = 0
    fresh = 0
    for mode in modes:
        for _ in range(5):  # a run that ended before its kill does not count
            if _exists(store) and is_complete(store_attrs(store)):
                # nothing left to kill in this sweep: check it, start another
                finish_and_compare(ref["spec"], store, ref["store"])
                fresh += 1
                store = str(tmp_path / f"killed{fresh}.zarr")
            if kill_once(ref["spec"], store, rng, mode, tmp=tmp_path):
                kills += 1
                break
    finish_and_compare(ref["spec"], store, ref["store"])
    print(f"kill trials: {kills} SIGKILLs survived, every resumed store bit-identical")
    return kills


def test_three_random_kills_then_resume_is_bit_identical(ref, tmp_path):
    seed = int(os.environ.get("COORDSWEEP_KILL_SEED", random.randrange(10**6)))
    kills = kill_trials(ref, tmp_path, ["time", "chunks", "chunks"], seed)
    assert kills >= 3


@pytest.mark.slow
def test_twenty_four_kills_incl_template_and_final_step(ref, tmp_path):
    seed = int(os.environ.get("COORDSWEEP_KILL_SEED", random.randrange(10**6)))
    modes = (["template", "time", "chunks", "chunks", "chunks", "finalize"] * 4)
    kills = kill_trials(ref, tmp_path, modes, seed)
    assert kills >= 20


def _descendants(pid):
    import psutil
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_worker_killed_mid_task_run_completes_identical(ref, tmp_path):
    """A worker of the local cluster dies (SIGKILL) while it runs a task
    (held inside it by a debug hold after two chunks): dask runs the task
    again elsewhere."""
    store = str(tmp_path / "worker.zarr")
    marker = str(tmp_path / "in-task")
    env = dict(os.environ, COORDSWEEP_DEBUG_PAUSE=f"write:0:{marker}",
               COORDSWEEP_DEBUG_HOLD_AFTER="2")
    proc = subprocess.Popen(_run_args(ref["spec"], store, "local", 2), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and killed is None:
            if _held(marker, 2):
                # the pid of the third pause waits inside its task until released
                with open(marker) as f:
                    pid = int(f.read().split()[2])
                if pid in {p.pid for p in _descendants(proc.pid)}:
                    os.kill(pid, signal.SIGKILL)
                    killed = pid
                    open(marker + ".go", "w").close()
            time.sleep(0.01)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed is not None, "no worker was killed"
    assert proc.returncode == 0, err
    assert chunk_done(store).all()
    assert_identical_stores(ref["store"], store)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (root only); unmounted in teardown."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_clear_error_chunks_kept_resumable(ref, small_disk):
    store = str(small_disk / "full.zarr")
    proc = subprocess.run(_run_args(ref["spec"], store), cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "no space left" in lines[0] and "--resume" in lines[0]
    done = chunk_done(store)
    assert 1 <= done.sum() < NCHUNKS
    # every chunk recorded as done is good
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert "0 bad" in out, out
    # more space: --resume completes the store, identical to an uninterrupted run
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    proc = subprocess.run(_run_args(ref["spec"], store), cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert np.all(chunk_done(store) == 1)
    assert_identical_stores(ref["store"], store)
