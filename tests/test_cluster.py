"""Cluster users without a batch system: job-array parts run by
hand and concurrently, atomic creation of the shared store, inspect's
missing parts, --resume-or-create, --scheduler-file, Client and cluster
objects in the API, the worker count under a restricted CPU affinity, the
caller's environment left alone, the sbatch script and bad cluster options.
The same things on a real SLURM: tests/test_slurm.py."""
import json
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

from engine_helpers import (assert_identical_stores, assert_same_snapshot, chunk_done,
                            coordsweep, coordsweep_popen, main_inprocess, snapshot,
                            store_attrs, three_sector_spec, write_spec)

CHUNK_POINTS = 60          # 21 x 20 grid, chunk (3, 20): 7 chunks
SHAPE = (21, 20)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A small spec and its synchronous reference store."""
    d = tmp_path_factory.mktemp("cluster")
    spec_path = write_spec(d, three_sector_spec(*SHAPE, name="cluster test"))
    ref = os.path.join(d, "ref.zarr")
    code, _, err = main_inprocess("run", spec_path, "--store", ref, "--scheduler",
                                  "synchronous", "--quiet")
    assert code == 0, err
    return {"dir": d, "spec": spec_path, "ref": ref}


def run_args(spec, store, *extra):
    return ("run", spec, "--store", store, "--chunk-points", CHUNK_POINTS, "--quiet", *extra)


# --- job-array parts -----------------------------------------------------------------
def test_parts_run_concurrently_by_hand_equal_a_single_run(sweep, tmp_path):
    store = str(tmp_path / "parts.zarr")
    procs = [coordsweep_popen(*run_args(sweep["spec"], store, "--part", f"{k}/3"))
             for k in (1, 2, 3)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, (out, err)
    attrs = store_attrs(store)
    assert attrs["complete"] == 1 and attrs["parts"] == 3 and attrs["run_id"]
    assert chunk_done(store).all() and chunk_done(store).size == 7
    assert_identical_stores(sweep["ref"], store)
    # the chunks were shared out: 7 chunks as 3 + 2 + 2, each computed once
    computed = sorted(int(out.split("chunks")[1].split("computed")[0]) for out, _ in outs)
    assert computed == [2, 2, 3]
    # a requeued part finds its share done: nothing computed, nothing written
    before = snapshot(store)
    code, out, err = main_inprocess(*run_args(sweep["spec"], store, "--part", "2/3"))
    assert code == 0, err
    assert "0 computed this run" in out
    assert_same_snapshot(before, snapshot(store))


def test_missing_parts_inspect_and_resume(sweep, tmp_path):
    store = str(tmp_path / "p.zarr")
    code, out, err = main_inprocess(*run_args(sweep["spec"], store, "--part", "2/3"))
    assert code == 0, err
    assert "part              2/3" in out
    done = chunk_done(store).astype(bool)
    assert list(np.flatnonzero(done)) == [1, 4]   # chunks c with c % 3 == 1
    assert store_attrs(store)["complete"] == 0
    code, out, err = main_inprocess("inspect", store)
    assert code == 0, err
    assert "parts: 3" in out and "missing: 1/3 (3 chunks), 3/3 (2 chunks)" in out
    # another part count, another spec, --overwrite: refused, store untouched
    before = snapshot(store)
    other = write_spec(tmp_path, three_sector_spec(*SHAPE, name="other"), "other.toml")
    for args, needle in ((run_args(sweep["spec"], store, "--part", "1/4"), "3 parts"),
                         (run_args(other, store, "--part", "1/3"), "different spec"),
                         (run_args(sweep["spec"], store, "--part", "1/3", "--overwrite"),
                          "never overwrites"),
                         (run_args(sweep["spec"], store, "--part", "4/3"), "1 <= K <= M"),
                         (run_args(sweep["spec"], store, "--part", "x"), "K/M")):
        code, _, err = main_inprocess(*args)
        assert code == 2, (args, err)
        assert needle in err and err.count("\n") == 1, err
    assert_same_snapshot(before, snapshot(store))
    for k in (3, 1):
        code, _, err = main_inprocess(*run_args(sweep["spec"], store, "--part", f"{k}/3",
                                                "--scheduler", "synchronous"))
        assert code == 0, err
    assert store_attrs(store)["complete"] == 1   # the last part completed it
    code, out, _ = main_inprocess("inspect", store)
    assert "none missing" in out and "complete: yes" in out
    assert_identical_stores(sweep["ref"], store)


def test_a_part_with_other_solver_variants_is_refused(sweep, tmp_path):
    """The parts of one array must use the same variants: a part asking for
    others exits 2 naming both, the store untouched; the store records the
    variants that computed every point."""
    store = str(tmp_path / "v.zarr")
    code, _, err = main_inprocess(*run_args(sweep["spec"], store, "--part", "1/2",
                                            "--solver", "wage=brent"))
    assert code == 0, err
    before = snapshot(store)
    code, _, err = main_inprocess(*run_args(sweep["spec"], store, "--part", "2/2",
                                            "--solver", "wage=bisect,equilibria=brute"))
    assert code == 2 and err.count("\n") == 1, err
    assert "wage=brent,equilibria=auto,path=lockstep" in err
    assert "wage=bisect,equilibria=brute,path=lockstep" in err
    assert_same_snapshot(before, snapshot(store))
    code, _, err = main_inprocess(*run_args(sweep["spec"], store, "--part", "2/2",
                                            "--solver", "wage=brent"))
    assert code == 0, err
    attrs = store_attrs(store)
    assert attrs["complete"] == 1 and attrs["solver"] == "wage=brent,equilibria=auto,path=lockstep"


def test_a_complete_store_of_other_variants_is_not_returned_as_this_run(sweep, tmp_path):
    import coordsweep as cs
    from coordsweep.engine.errors import StoreError
    store = str(tmp_path / "a.zarr")
    spec = cs.load_spec(sweep["spec"])
    cs.run(spec, store=store, scheduler="synchronous", progress=False)
    assert int(cs.run(spec, store=store, progress=False).attrs["complete"]) == 1
    with pytest.raises(StoreError, match="equilibria=brute"):
        cs.run(spec, store=store, progress=False, solver="equilibria=brute")
    # an incomplete store of other variants is refused too (not resumed)
    part = str(tmp_path / "p.zarr")
    code, _, err = main_inprocess(*run_args(sweep["spec"], part, "--part", "1/2",
                                            "--solver", "wage=brent"))
    assert code == 0 and store_attrs(part)["complete"] == 0, err
    from coordsweep.engine.spec.parts import run_id
    from coordsweep.engine.store import lease
    from coordsweep.kernels import solvers
    # the array's other part never comes: its shared lease gone (as after its timeout)
    lease.release(part, run_id(spec.text, 2, solvers.text("wage=brent")))
    before = snapshot(part)
    with pytest.raises(StoreError, match="wage=brent"):
        cs.run(spec, store=part, progress=False)
    assert_same_snapshot(before, snapshot(part))


def test_the_part_that_completes_the_store_releases_the_lease(sweep, tmp_path):
    """After the last part, nothing holds the store: inspect says no run in
    progress and --overwrite is accepted at once."""
    from coordsweep.engine.store import lease
    store = str(tmp_path / "l.zarr")
    for k in (1, 2):
        code, _, err = main_inprocess(*run_args(sweep["spec"], store, "--part", f"{k}/2",
                                                "--scheduler", "synchronous"))
        assert code == 0, err
    assert store_attrs(store)["complete"] == 1
    assert lease.read(store) is None
    code, out, _ = main_inprocess("inspect", store)
    assert "in progress" not in out
    code, _, err = main_inprocess(*run_args(sweep["spec"], store, "--overwrite",
                                            "--scheduler", "synchronous"))
    assert code == 0, err


def _race(args):
    spec_path, store, barrier = args
    from coordsweep.engine.run.jobarray import create_or_join
    from coordsweep.kernels import solvers
    from coordsweep.engine.spec.model import load_spec
    spec = load_spec(spec_path)
    barrier.wait()
    _, done, created = create_or_join(spec, store, CHUNK_POINTS, 4, solvers.text(None))
    return created, int(done.sum())


def test_concurrent_creators_exactly_one_wins(sweep, tmp_path):
    """Eight processes create the same store at the same moment: one
    template is written, the others join it; no temporary copy is left."""
    ctx = multiprocessing.get_context("spawn")
    for trial in range(3):
        store = str(tmp_path / f"race{trial}.zarr")
        with ctx.Manager() as mgr:
            barrier = mgr.Barrier(8)
            with ctx.Pool(8) as pool:
                res = pool.map(_race, [(sweep["spec"], store, barrier)] * 8)
        assert sum(created for created, _ in res) == 1, res
        assert all(n == 0 for _, n in res)
        assert sorted(os.listdir(tmp_path)) == sorted(f"race{t}.zarr" for t in range(trial + 1))
        assert store_attrs(store)["parts"] == 4


# --- resume-or-create, scheduler file, Client / cluster objects -------------------------
def test_resume_or_create(sweep, tmp_path):
    store = str(tmp_path / "rc.zarr")
    args = run_args(sweep["spec"], store, "--resume-or-create", "--scheduler", "synchronous")
    code, out, err = main_inprocess(*args)           # nothing there: created
    assert code == 0, err
    assert "7 computed this run" in out
    assert_identical_stores(sweep["ref"], store)
    before = snapshot(store)
    code, out, err = main_inprocess(*args)           # complete: nothing to do
    assert code == 0, err
    assert "0 computed this run" in out
    assert_same_snapshot(before, snapshot(store))


def test_scheduler_file_and_client_objects(sweep, tmp_path):
    import coordsweep
    from distributed import Client, LocalCluster
    sched_file = str(tmp_path / "scheduler.json")
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=":0", scheduler_kwargs={"scheduler_file": sched_file}
                      ) as cluster:
        assert json.load(open(sched_file))["address"] == cluster.scheduler_address
        code, out, err = main_inprocess(*run_args(sweep["spec"], str(tmp_path / "f.zarr"),
                                                  "--scheduler-file", sched_file))
        assert code == 0, err
        assert "connected at start to the scheduler in" in out
        assert_identical_stores(sweep["ref"], str(tmp_path / "f.zarr"))
        # a cluster object
        res = coordsweep.run_sweep(sweep["spec"], str(tmp_path / "c.zarr"),
                                   scheduler=cluster, progress=False)
        assert "given cluster" in res.workers.how
        assert_identical_stores(sweep["ref"], str(tmp_path / "c.zarr"))
        # the active client is used when no scheduler is named
        with Client(cluster) as client:
            res = coordsweep.run_sweep(sweep["spec"], str(tmp_path / "a.zarr"), progress=False)
            assert res.workers.how == "the active dask client's workers"
            assert res.workers.count == 1
            assert not client.status == "closed"
        assert_identical_stores(sweep["ref"], str(tmp_path / "a.zarr"))
    code, _, err = main_inprocess(*run_args(sweep["spec"], str(tmp_path / "x.zarr"),
                                            "--scheduler-file", str(tmp_path / "none.json")))
    assert code == 2 and "no such file" in err
    assert not os.path.exists(tmp_path / "x.zarr")


# --- worker counts and environments ----------------------------------------------------
COUNT = ("from coordsweep.engine.run.cluster import local_worker_count; "
         "n, how = local_worker_count(); print(n, '|', how)")


def _pinned(cpus):
    return lambda: os.sched_setaffinity(0, cpus)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and at least 2 CPUs")
def test_worker_count_follows_cpu_affinity(sweep, tmp_path):
    cpu = min(os.sched_getaffinity(0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    full = subprocess.run([sys.executable, "-c", COUNT], capture_output=True, text=True,
                          env=env, check=True).stdout
    assert int(full.split("|")[0]) == len(os.sched_getaffinity(0))
    one = subprocess.run([sys.executable, "-c", COUNT], capture_output=True, text=True,
                         env=env, preexec_fn=_pinned({cpu}), check=True).stdout
    assert int(one.split("|")[0]) == 1 and "affinity" in one
    # inside a SLURM job: --cpus-per-task bounds it
    slurm = subprocess.run([sys.executable, "-c", COUNT], capture_output=True, text=True,
                           env={**env, "SLURM_CPUS_PER_TASK": "1"}, check=True).stdout
    assert slurm.split("|")[0].strip() == "1" and "SLURM_CPUS_PER_TASK=1" in slurm
    # the local cluster of `coordsweep run` under taskset: one worker process
    store = str(tmp_path / "pinned.zarr")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "coordsweep"),
                           *map(str, run_args(sweep["spec"], store, "--scheduler", "local"))],
                          capture_output=True, text=True, env=env, preexec_fn=_pinned({cpu}),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.strip().startswith("workers"))
    assert line.split()[1] == "1" and "affinity" in line, line
    assert_identical_stores(sweep["ref"], store)


def test_caller_environment_unchanged(sweep, tmp_path, monkeypatch):
    import coordsweep
    from coordsweep.engine.run.cluster import (LOCAL_CLUSTER_CONFIG, MALLOC_ENV, PINNED_THREADS,
                                              open_client)
    for k in MALLOC_ENV:  # (the caller's own value would win)
        monkeypatch.delenv(k, raising=False)
    before = dict(os.environ)
    ds = coordsweep.run(sweep["spec"], str(tmp_path / "env.zarr"), scheduler="local",
                        workers=1, progress=False)
    assert dict(os.environ) == before
    assert ds.attrs["complete"] == 1
    assert_identical_stores(sweep["ref"], str(tmp_path / "env.zarr"))
    # the workers have the limits in their own environment, the caller not
    # even while the cluster runs
    want = {**{v: "1" for v in PINNED_THREADS}, **MALLOC_ENV}
    with open_client("local", 2) as (client, info):
        assert dict(os.environ) == before
        envs = client.run(lambda: {v: os.environ.get(v) for v in want})
        assert info.count == 2 and len(envs) == 2
        assert all(e == want for e in envs.values()), envs
        # and the local cluster's dask settings (no profiler in the workers)
        import dask
        conf = client.run(lambda: {k: dask.config.get(k) for k in LOCAL_CLUSTER_CONFIG})
        assert all(c == LOCAL_CLUSTER_CONFIG for c in conf.values()), conf
        import time
        client.gather(client.map(time.sleep, [0.3, 0.3], pure=False))  # a task on each
        profiled = client.run(lambda dask_worker: dask_worker.profile_recent["count"])
        assert set(profiled.values()) == {0}, profiled
    import dask
    assert dask.config.get("distributed.worker.profile.enabled") is True
    assert dict(os.environ) == before


def test_local_workers_have_the_kernels_before_the_first_task(sweep, tmp_path, monkeypatch):
    """The workers of the local cluster a run starts load the kernels when
    the cluster is up, all at once, not each in its first task: when the
    tasks are submitted, every worker has numba's implementations and the
    kernels loaded. The tasks return their chunks' summary counts."""
    import coordsweep
    from coordsweep.engine.run import executors
    seen = []
    orig = executors.Distributed.run

    def spy(self, tasks, job, progress):
        seen.append(self.client.run(lambda: {m: m in sys.modules for m in (
            "coordsweep.kernels.api", "numba.np.arraymath")}))
        return orig(self, tasks, job, progress)
    monkeypatch.setattr(executors.Distributed, "run", spy)
    # ... and every task returns its chunk's summary counts: the driver's
    # summary reads no chunk back, and equals the one read from the store
    from coordsweep.engine.analysis import results
    from coordsweep.engine.run import runner
    known = []
    orig_summary = results.summary

    def summary(store, layout, counted=None):
        known.append(len(counted or {}))
        return orig_summary(store, layout, counted)
    monkeypatch.setattr(runner.results, "summary", summary)
    store = str(tmp_path / "warm.zarr")
    res = coordsweep.run_sweep(sweep["spec"], store, scheduler="local", workers=2,
                               chunk_points=CHUNK_POINTS, progress=False)
    assert res.workers.count == 2 and res.workers.started
    assert len(seen) == 1 and len(seen[0]) == 2, seen
    assert all(all(v.values()) for v in seen[0].values()), seen
    assert_identical_stores(sweep["ref"], store)
    assert known == [res.chunks_total] == [7]
    from coordsweep.engine.spec.layout import Layout
    read = orig_summary(store, Layout.for_grid(SHAPE, CHUNK_POINTS))
    assert read["regime_counts"] == res.summary["regime_counts"]
    assert (read["regime_counts_per_sector"] == res.summary["regime_counts_per_sector"]).all()
    assert (read["share_multiple_equilibria"], read["status_ok"], read["status_bits"]) == (
        res.summary["share_multiple_equilibria"], res.summary["status_ok"],
        res.summary["status_bits"])


def test_jobqueue_workers_get_the_worker_environment():
    """dask-jobqueue job scripts export the thread limits and the malloc
    settings before the worker (and its nanny) start."""
    pytest.importorskip("dask_jobqueue")
    from coordsweep.engine.run.cluster import cluster_options, make_jobqueue_cluster, worker_env
    cluster = make_jobqueue_cluster(cluster_options(
        {"kind": "slurm", "cores": 2, "memory": "4GB", "walltime": "00:10:00"}))
    try:
        lines = cluster.job_script().splitlines()
    finally:
        cluster.close()
    start = next(k for k, line in enumerate(lines) if "distributed.cli.dask_worker" in line)
    for k, v in worker_env().items():
        assert f"export {k}={v}" in lines[:start], (k, lines)


# --- the sbatch script and bad options --------------------------------------------------
def test_slurm_script(sweep, tmp_path):
    out = str(tmp_path / "job.sh")
    code, msg, err = main_inprocess("slurm-script", sweep["spec"], "--array", 3, "--cpus", 2,
                                    "--time", "00:30:00", "--store", "s.zarr", "-o", out)
    assert code == 0, err
    text = open(out).read()
    assert os.access(out, os.X_OK)
    for needle in ("#SBATCH --array=1-3", "#SBATCH --cpus-per-task=2",
                   "#SBATCH --time=00:30:00", "#SBATCH --requeue",
                   '--part "$SLURM_ARRAY_TASK_ID/3"', os.path.abspath("s.zarr"),
                   os.path.abspath(sweep["spec"])):
        assert needle in text, needle
    before = snapshot(out)
    for args, needle in ((("--array", 0), "--array"), (("--array", 2, "--time", "x"), "walltime"),
                         (("--array", 2, "-o", out), "exists")):
        code, _, err = main_inprocess("slurm-script", sweep["spec"], *args)
        assert code == 2 and needle in err, err
    assert_same_snapshot(before, snapshot(out))
    # a grid point outside MODEL.md's domains: refused as `run` refuses it
    bad = write_spec(tmp_path, three_sector_spec(3, 3, cost_stop=-1.0), "bad.toml")
    code, _, err = main_inprocess("slurm-script", bad, "--array", 2, "-o", tmp_path / "bad.sh")
    assert code == 2 and "cost" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "bad.sh").exists()


@pytest.mark.parametrize("args,needle", [
    (("--jobs", "2"), "--jobs needs --cluster"),
    (("--cluster", "slurm", "--walltime", "soon"), "--walltime"),
    (("--cluster", "slurm", "--jobs", "0"), "--jobs must be"),
    (("--cluster", "slurm", "--scheduler", "threads"), "choose one"),
    (("--cluster", "lsf"), "--cluster"),
])
def test_bad_cluster_options(sweep, tmp_path, args, needle):
    store = str(tmp_path / "bad.zarr")
    code, _, err = main_inprocess(*run_args(sweep["spec"], store, *args))
    assert code == 2 and needle in err, err
    assert not os.path.exists(store)


def test_worker_lifetime_before_walltime():
    from coordsweep.engine.run.cluster import parse_walltime, worker_lifetime
    assert parse_walltime("01:00:00") == 3600 and parse_walltime("1-00:00:00") == 86400
    assert parse_walltime("30") == 1800 and parse_walltime("10:00") == 600
    for w in (120, 600, 3600, 86400):
        life, stagger = worker_lifetime(w)
        assert 0 < life and life + stagger < w, (w, life, stagger)


def test_spec_cluster_table(sweep, tmp_path):
    text = open(sweep["spec"]).read() + '\n[run.cluster]\nkind = "slurm"\nnodes = 3\n'
    bad = write_spec(tmp_path, text, "bad.toml")
    proc = coordsweep("run", bad, "--store", str(tmp_path / "s.zarr"))
    assert proc.returncode == 2 and "nodes" in proc.stderr, proc.stderr
    assert not os.path.exists(tmp_path / "s.zarr")


def test_parts_of_a_design_equal_a_single_run(tmp_path):
    """A [design] spec (its points are coordinates written with the
    template): three parts started at once give the single run's store."""
    text = three_sector_spec(3, 2, name="design parts") + """
[design]
method = "random"
samples = 400
seed = 3

[design.params."externality.agro"]
low = 0.0
high = 1.0
"""
    spec_path = write_spec(tmp_path, text)
    ref = str(tmp_path / "ref.zarr")
    code, _, err = main_inprocess("run", spec_path, "--store", ref, "--scheduler",
                                  "synchronous", "--quiet")
    assert code == 0, err
    store = str(tmp_path / "parts.zarr")
    procs = [coordsweep_popen("run", spec_path, "--store", store, "--chunk-points", 200,
                              "--quiet", "--part", f"{k}/3") for k in (1, 2, 3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, (out, err)
    assert store_attrs(store)["complete"] == 1
    assert_identical_stores(ref, store)


def test_task_groups():
    """Chunks several a task on a cluster of known size, the last ones one
    a task; every chunk once, in order."""
    from coordsweep.engine.run.executors import CHUNKS_PER_TASK, task_groups
    assert task_groups(range(10), None) == [[c] for c in range(10)]
    assert task_groups(range(10), 2) == [[c] for c in range(10)]  # too few to group
    groups = task_groups(range(100), 2)
    assert [c for g in groups for c in g] == list(range(100))
    assert max(map(len, groups)) == CHUNKS_PER_TASK
    assert [len(g) for g in groups[-4:]] == [1, 1, 1, 1]
    assert len(task_groups(range(40), 2)[0]) == 2  # eight tasks a worker at least
    assert task_groups([7, 3, 5], 1) == [[7], [3], [5]]


def test_local_run_of_grouped_chunks_equals_the_reference(sweep, tmp_path, monkeypatch):
    """Several chunks a task (tiny chunks, so that there are enough of
    them): the store equals the synchronous run's, the summary counts
    come from every chunk, and each task is a group."""
    import coordsweep
    from coordsweep.engine.run import executors
    groups = []
    orig = executors.task_groups

    def spy(tasks, workers):
        groups.append(orig(tasks, workers))
        return groups[-1]
    monkeypatch.setattr(executors, "task_groups", spy)
    store = str(tmp_path / "grouped.zarr")
    res = coordsweep.run_sweep(sweep["spec"], store, scheduler="local", workers=1,
                               chunk_points=20, progress=False)
    assert len(groups) == 1 and max(map(len, groups[0])) > 1, groups
    assert res.chunks_computed == sum(map(len, groups[0]))
    assert_identical_stores(sweep["ref"], store)
    ref = coordsweep.run_sweep(sweep["spec"], str(tmp_path / "sync.zarr"),
                               scheduler="synchronous", chunk_points=20, progress=False)
    np.testing.assert_equal(res.summary, ref.summary)
