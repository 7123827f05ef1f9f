"""Refined runs ([run.refine], engine/run/refine.py) against full runs of
the same grid: ready sweeps and random specs at a few thousand points, a
killed refinement resumed, an island the refinement misses and
`inspect --verify-fill` finds, bad tables and --part refused."""
import json
import os
import signal
import time

import numpy as np
import pytest

from engine_helpers import (COORDSWEEP, ROOT, assert_identical_stores, coordsweep,
                            main_inprocess, open_dataset, refine_table, shrink, snapshot,
                            write_spec)

from coordsweep.engine.spec import refine as zrefine
from coordsweep.engine.spec.model import parse_spec
from coordsweep.kernels.codes import FILLED
from coordsweep.kernels.outputs import OUTPUTS


def run(spec, store, **kw):
    from coordsweep.engine.run.runner import run_sweep
    return run_sweep(spec, str(store), scheduler="synchronous", progress=False, **kw)


def check_refined(full, refined, expect_exact=True):
    """The refined store against the full one: solved points bit for bit;
    filled points hold the fill values and the filled bit; the refined
    outputs are what the planner makes of the full grid's values (the plan
    replayed on them); returns the points where a refined output differs
    from the full grid's."""
    a, b = open_dataset(refined), open_dataset(full)
    spec = parse_spec(a.attrs["spec"])
    table = a.attrs["refine"]
    ref = zrefine.parse({k: table[k] for k in zrefine.KEYS if table.get(k) is not None},
                        list(spec.dims), [x.name for x in spec.axes], list(spec.sector_names))
    solved = a["computed"].values
    assert table["levels_done"] == table["levels"] == ref.levels
    assert table["points_solved"] == int(solved.sum())
    for name, per, dtype, _, _ in OUTPUTS:
        x, y = a[name].values, b[name].values
        xs, ys = x[solved], y[solved]
        if x.dtype.kind == "f":
            assert np.array_equal(xs.view("u8"), ys.view("u8")) or \
                np.array_equal(xs, ys, equal_nan=True), name
        else:
            assert np.array_equal(xs, ys), name
    assert (a["status"].values[~solved] == FILLED).all()
    cols = ref.columns(spec.n_sectors)
    refined_names = {n for n, _ in cols}
    for name, per, dtype, _, _ in OUTPUTS:
        if name in refined_names or name == "status":
            continue
        x = a[name].values[~solved]
        if x.dtype.kind == "f":
            assert np.isnan(x).all(), name
        elif x.dtype.kind == "b":
            assert not x.any(), name
        else:
            assert (x == -1).all(), name
    # the plan replayed on the full grid's values
    plan = zrefine.Planner(spec.shape, ref, [np.int64] * len(cols))
    keys = np.stack([b[n].values.reshape(-1) if s is None
                     else b[n].values.reshape(-1, spec.n_sectors)[:, s]
                     for n, s in cols], axis=1)
    for level in range(ref.levels):
        idx = plan.points(level)
        plan.record(idx, keys[idx])
    plan.finish()
    np.testing.assert_array_equal(plan.solved, solved.reshape(-1))
    differ = np.zeros(solved.size, bool)
    for j, (n, s) in enumerate(cols):
        got = a[n].values.reshape(-1) if s is None \
            else a[n].values.reshape(-1, spec.n_sectors)[:, s]
        np.testing.assert_array_equal(got, plan.values[j], err_msg=f"{n}[{s}]")
        differ |= got != keys[:, j]
    if expect_exact:
        assert not differ.any(), f"{int(differ.sum())} points differ from the full grid"
    return differ


READY = [
    ("paper_1_coordination_failures.toml", 65, {"on": ["regime", "target_best"], "coarse": 16}),
    ("paper_1_coordination_failures.toml", 49,
     {"on": ["regime"], "sectors": ["manu"], "coarse": 8, "axes": ["cost_scale"]}),
    ("paper_2_targeting.toml", 41, {"on": ["target_best", "target_ca"], "coarse": 8}),
    ("paper_3_import_substitution.toml", 41, {"on": ["regime", "n_equilibria"], "coarse": 4}),
    ("paper_4_uniform_cost_subsidy.toml", 33, {"on": ["has_partial", "coop_fb"], "coarse": 8}),
    ("two_sectors.toml", 57, {"on": ["regime", "coop_best_eq"], "coarse": 16}),
    ("five_sectors.toml", 13, {"on": ["regime"], "coarse": 4}),
]


@pytest.mark.parametrize("name,num,table", READY, ids=[f"{r[0][:-5]}-{r[1]}" for r in READY])
def test_ready_sweeps_refined_equal_full(tmp_path, name, num, table):
    text = open(os.path.join(ROOT, "sweeps", name), encoding="utf-8").read()
    full = run(write_spec(tmp_path, shrink(text, num), "full.toml"), tmp_path / "full.zarr")
    res = run(write_spec(tmp_path, shrink(text, num, table), "ref.toml"), tmp_path / "ref.zarr",
              chunk_points=700)
    assert res.points_computed < full.points
    check_refined(tmp_path / "full.zarr", tmp_path / "ref.zarr")


def random_spec(rng):
    nsec = int(rng.integers(2, 5))
    names = [f"s{k}" for k in range(nsec)]
    lines = ['name = "random refine"', "[model]", "labor_share = 0.6"]
    for n in names:
        lines += ["[[model.sectors]]", f'name = "{n}"',
                  f"price = {rng.uniform(0.8, 1.2):.3f}",
                  f"productivity = {rng.uniform(0.7, 1.4):.3f}",
                  f"externality = {rng.uniform(0.1, 1.3):.3f}",
                  f"cost = {rng.uniform(0.02, 0.2):.3f}"]
    axes = [("externality_scale", 0.0, 2.0), ("cost_scale", 0.0, 4.0),
            ("ca_spread", 0.0, 1.5)]
    ndim = int(rng.integers(1, 4))
    chosen = [axes[k] for k in sorted(rng.choice(3, ndim, replace=False))]
    sizes = [int(rng.integers(5, 60 if ndim == 1 else 40 if ndim == 2 else 14))
             for _ in chosen]
    for (a, lo, hi), n in zip(chosen, sizes):
        lines += [f"[axes.{a}]", f"start = {lo}", f"stop = {hi}", f"num = {n}"]
    on = [str(v) for v in rng.choice(zrefine.REFINABLE, int(rng.integers(1, 3)),
                                     replace=False)]
    refine = {"on": on, "coarse": int(2 ** rng.integers(1, 4))}
    if ndim > 1 and rng.random() < 0.4:
        refine["axes"] = [chosen[int(rng.integers(ndim))][0]]
    if "regime" in on and rng.random() < 0.5:
        refine["sectors"] = [names[int(rng.integers(nsec))]]
    return "\n".join(lines) + "\n", refine


@pytest.mark.parametrize("seed", range(5))
def test_random_specs(tmp_path, seed):
    rng = np.random.default_rng(1000 + seed)
    text, table = random_spec(rng)
    full_spec = write_spec(tmp_path, text, "full.toml")
    run(full_spec, tmp_path / "full.zarr")
    ref_spec = write_spec(tmp_path, text + refine_table(table), "ref.toml")
    run(ref_spec, tmp_path / "ref.zarr", chunk_points=int(rng.integers(50, 400)))
    # smooth maps of a few thousand points: exact, except where a region is
    # thinner than a cell (then the plan replayed on the full values still holds)
    check_refined(tmp_path / "full.zarr", tmp_path / "ref.zarr", expect_exact=False)


ISLAND = """
name = "island"
[model]
labor_share = 0.6
[[model.sectors]]
name = "agro"
price = 1.0
productivity = 1.3
externality = 0.3
cost = 0.1
[[model.sectors]]
name = "manu"
price = 1.0
productivity = 1.0
externality = 0.6
cost = 0.1
[axes.externality_scale]
start = 0.5
stop = 1.5
num = 9
[axes.cost_scale]
values = [4.0, 4.0, 4.0, 4.0, 4.0, 0.2, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]
[run.refine]
on = ["regime"]
axes = ["cost_scale"]
coarse = 16
"""


def test_island_missed_and_verify_fill_finds_it(tmp_path):
    """The assumption violated on purpose: along cost_scale one point (cost
    0.2) of another regime between two coarse points of equal regime."""
    spec = write_spec(tmp_path, ISLAND)
    run(spec, tmp_path / "ref.zarr")
    full = write_spec(tmp_path, ISLAND.split("[run.refine]")[0], "full.toml")
    run(full, tmp_path / "full.zarr")
    differ = check_refined(tmp_path / "full.zarr", tmp_path / "ref.zarr", expect_exact=False)
    differ = differ.reshape(9, 17)
    assert differ[:, 5].any() and not np.delete(differ, 5, axis=1).any()
    code, out, err = main_inprocess("inspect", tmp_path / "ref.zarr", "--verify-fill", "10000")
    assert code == 1, (out, err)
    assert "mismatch at" in out and "cost_scale=0.2" in out
    assert out.count("mismatch at") == _mismatches(tmp_path)
    # a sample that misses the island passes: N = 1 from the points that agree
    code, out, _ = main_inprocess("inspect", tmp_path / "ref.zarr", "--verify-fill", "1",
                                  "--seed", str(_seed_missing(tmp_path)))
    assert code == 0 and "every refined output matches" in out
    # --json: the store's inspect object with the check's counts and lines
    code, out, _ = main_inprocess("inspect", tmp_path / "ref.zarr", "--verify-fill", "10000",
                                  "--json")
    assert code == 1
    got = json.loads(out)
    assert got["complete"] is True
    assert got["verify_fill"]["checked"] == got["verify_fill"]["filled"] > 0
    assert len(got["verify_fill"]["mismatches"]) == _mismatches(tmp_path)
    assert all("cost_scale=0.2" in line for line in got["verify_fill"]["mismatches"])


def test_min_level_catches_the_island(tmp_path):
    """The island at cost index 4 (one point of another regime between
    coarse points 0 and 16 of equal regime): coarse 16 alone fills over
    it; with min_level 2 the sub-grid of step 4 is solved whole, the
    island is found and refined around, the map equals the full grid's and
    --verify-fill finds nothing."""
    text = ISLAND.replace("4.0, 4.0, 4.0, 4.0, 4.0, 0.2,", "4.0, 4.0, 4.0, 4.0, 0.2, 4.0,")
    full = write_spec(tmp_path, text.split("[run.refine]")[0], "full.toml")
    run(full, tmp_path / "full.zarr")
    run(write_spec(tmp_path, text, "coarse.toml"), tmp_path / "coarse.zarr")
    differ = check_refined(tmp_path / "full.zarr", tmp_path / "coarse.zarr",
                           expect_exact=False).reshape(9, 17)
    assert differ[:, 4].any() and not np.delete(differ, 4, axis=1).any()
    run(write_spec(tmp_path, text + "min_level = 2\n", "deep.toml"), tmp_path / "deep.zarr")
    check_refined(tmp_path / "full.zarr", tmp_path / "deep.zarr")
    solved = open_dataset(tmp_path / "deep.zarr")["computed"].values
    assert solved[:, ::4].all() and solved[:, 4].all() and not solved.all()
    code, out, err = main_inprocess("inspect", tmp_path / "deep.zarr", "--verify-fill", "10000")
    assert code == 0 and "every refined output matches" in out, (out, err)
    code, out, err = main_inprocess("inspect", tmp_path / "deep.zarr")
    assert code == 0 and "min_level 2 (step 4 solved whole)" in out, (out, err)


def _mismatches(tmp_path):
    a, b = open_dataset(tmp_path / "ref.zarr"), open_dataset(tmp_path / "full.zarr")
    return int((a["regime"].values != b["regime"].values).sum())


def _seed_missing(tmp_path):
    """A seed whose one-point sample is a filled point the fill got right."""
    a, b = open_dataset(tmp_path / "ref.zarr"), open_dataset(tmp_path / "full.zarr")
    wrong = (a["regime"].values != b["regime"].values).any(axis=-1).reshape(-1)
    filled = np.flatnonzero(~a["computed"].values.reshape(-1))
    for seed in range(100):
        pick = np.random.default_rng(seed).choice(filled, size=1, replace=False)
        if not wrong[pick].any():
            return seed
    raise AssertionError("no seed")


def test_verify_fill_refuses_unrefined_store(tmp_path):
    text = shrink(open(os.path.join(ROOT, "sweeps", "two_sectors.toml")).read(), 5)
    run(write_spec(tmp_path, text), tmp_path / "s.zarr")
    code, out, err = main_inprocess("inspect", tmp_path / "s.zarr", "--verify-fill", "3")
    assert code == 2 and "not a refined store" in err and len(err.strip().splitlines()) == 1


# --- kill and resume ----------------------------------------------------------------

#: level 2 of this plan has 132 points (2 tasks of 100), level 3 334 (4 tasks); level 4,
#: the last, is solved task by task while the chunks it completes are written
PAUSES = ["refine-write-3-2", "refine-level-2", "refine-write-4-1", "refine-level-4",
          "write", "finalize"]


@pytest.mark.parametrize("pause", PAUSES)
def test_killed_refinement_resumes_bit_identical(tmp_path, pause):
    import subprocess
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime", "target_best"],
                                                  "coarse": 16}))
    ref = tmp_path / "ref.zarr"
    run(spec, ref, chunk_points=100)
    store = tmp_path / "killed.zarr"
    marker = tmp_path / "marker"
    env = dict(os.environ, COORDSWEEP_DEBUG_PAUSE=f"{pause}:120:{marker}")
    args = [COORDSWEEP, "run", spec, "--store", str(store), "--scheduler", "synchronous",
            "--chunk-points", "100", "--quiet"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    attrs = open_dataset(store).attrs
    if pause.startswith("refine-"):
        level = int(pause.split("-")[2])
        assert attrs["refine"]["levels_done"] == level
        assert not attrs["complete"]
        # inspect: the levels' points solved so far, nothing filled yet
        code, text, err = main_inprocess("inspect", store)
        assert code == 0, err
        solved = attrs["refine"]["points_solved"]
        assert solved > 0 and f"solved {solved:,} of " in text, text
        assert "none filled yet: the refinement is incomplete" in text
        assert "the rest filled" not in text
    out = coordsweep("run", spec, "--store", store, "--scheduler", "synchronous",
                     "--chunk-points", "100", "--quiet", "--resume")
    assert out.returncode == 0, out.stderr
    assert_identical_stores(ref, store)
    assert open_dataset(store).attrs["refine"] == open_dataset(ref).attrs["refine"]
    assert not os.path.exists(store / "refine_levels")


def test_split_levels_fail_and_resume_bit_identical(tmp_path, monkeypatch):
    """Off the synchronous scheduler a level is cut into several tasks
    (sizes made small here); a run that fails in a task of level 3 and is
    resumed with the synchronous scheduler (which would not cut it) keeps
    the levels' recorded task sizes and ends bit for bit as an
    uninterrupted synchronous run."""
    from coordsweep.engine.run import refine as rrefine
    from coordsweep.engine.run.runner import run_sweep
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime", "target_best"],
                                                  "coarse": 16, "min_level": 1}))
    ref = tmp_path / "ref.zarr"
    run(spec, ref)
    assert open_dataset(ref).attrs["refine"]["min_level"] == 1
    monkeypatch.setattr(rrefine, "MIN_TASK_POINTS", 40)
    monkeypatch.setattr(rrefine, "RECORD_CHUNK", 8)
    real_pause, seen = rrefine.debug.pause, []

    def pause(point):
        seen.append(point)
        if point == "refine-write-3-2":
            raise RuntimeError("killed")
        real_pause(point)
    monkeypatch.setattr(rrefine.debug, "pause", pause)
    store = tmp_path / "s.zarr"
    with pytest.raises(RuntimeError, match="killed"):
        run_sweep(spec, str(store), scheduler="threads", workers=2, progress=False)
    assert sum(p.startswith("refine-write-3-") for p in seen) > 1  # level 3 was cut
    files = rrefine.LevelFiles(store)
    sizes = {k: files.meta(k)["task_points"] for k in range(4)}
    assert sizes[3] < 65 * 65 and all(v % 8 == 0 for v in sizes.values())
    assert open_dataset(store).attrs["refine"]["levels_done"] == 3
    monkeypatch.setattr(rrefine.debug, "pause", real_pause)
    run(spec, store, resume=True)
    assert_identical_stores(ref, store)
    assert open_dataset(store).attrs["refine"] == open_dataset(ref).attrs["refine"]


def test_without_the_solved_points_in_memory_bit_identical(tmp_path, monkeypatch):
    """A process that did not solve a level's points (a worker of a
    cluster, a resumed run) plans from the key columns in the level's files
    and assembles its chunks by solving their solved points again: the
    store equals the one assembled from memory bit for bit."""
    from coordsweep.engine.run import refine as rrefine
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime", "target_best"],
                                                  "coarse": 16, "min_level": 1}))
    run(spec, tmp_path / "ref.zarr", chunk_points=700)
    seen = []
    real_keys = rrefine.LevelFiles.keys

    def keys(self, *args):
        seen.append(args)
        return real_keys(self, *args)
    monkeypatch.setattr(rrefine.LevelFiles, "keys", keys)
    monkeypatch.setattr(rrefine, "_memory_records", lambda *args: None)
    run(spec, tmp_path / "s.zarr", chunk_points=700)
    assert len(seen) >= zrefine.of_spec(parse_spec(open(spec).read())).levels
    assert_identical_stores(tmp_path / "ref.zarr", tmp_path / "s.zarr")


def test_level_files_of_another_plan_are_replaced(tmp_path, monkeypatch):
    """A level whose files were laid out for other points (or in another
    form: no level.json) is laid out again, a task file with another run
    token is not taken as done: the resumed store equals an uninterrupted
    one bit for bit."""
    import json as _json
    from coordsweep.engine.run import refine as rrefine
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime", "target_best"],
                                                  "coarse": 16}))
    ref = tmp_path / "ref.zarr"
    run(spec, ref)
    real_pause = rrefine.debug.pause

    def pause(point):
        if point == "refine-level-3":
            raise RuntimeError("killed")
        real_pause(point)
    monkeypatch.setattr(rrefine.debug, "pause", pause)
    store = tmp_path / "s.zarr"
    with pytest.raises(RuntimeError, match="killed"):
        run(spec, store)
    monkeypatch.setattr(rrefine.debug, "pause", real_pause)
    levels = store / "refine_levels"
    assert sorted(os.listdir(levels / "level_1")) == ["level.json", "t.0"]
    meta = _json.loads((levels / "level_1" / "level.json").read_text())
    (levels / "level_1" / "level.json").write_text(_json.dumps({**meta, "points": "other"}))
    os.remove(levels / "level_2" / "level.json")
    (levels / "level_2" / "zarr.json").write_text("{}")
    data = (levels / "level_3" / "t.0").read_bytes()
    token = int(np.frombuffer(data, "<i8", 1)[0])
    (levels / "level_3" / "t.0").write_bytes(np.array([token + 1], "<i8").tobytes() + data[8:])
    files = rrefine.LevelFiles(store)
    assert files.keys(0, 0, token) is not None and files.keys(3, 0, token) is None
    solved = []
    real_task = rrefine.level_task
    monkeypatch.setattr(rrefine, "level_task",
                        lambda spec, store, info, *a, **k: solved.append(info.level)
                        or real_task(spec, store, info, *a, **k))
    run(spec, store, resume=True)
    assert solved == [1, 2, 3, 4]
    assert_identical_stores(ref, store)
    assert open_dataset(store).attrs["refine"] == open_dataset(ref).attrs["refine"]
    assert not levels.exists()


def test_refined_on_a_two_worker_cluster_equals_synchronous(tmp_path, monkeypatch):
    """Worker processes (their kernels loaded up front) share the levels,
    cut into several tasks, and assemble the chunks from records the other
    worker wrote: the store equals the synchronous one bit for bit."""
    import logging
    distributed = pytest.importorskip("distributed")
    from coordsweep.engine.run import refine as rrefine
    from coordsweep.engine.run.runner import run_sweep
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime", "target_best"],
                                                  "coarse": 16}))
    run(spec, tmp_path / "ref.zarr", chunk_points=500)
    monkeypatch.setattr(rrefine, "MIN_TASK_POINTS", 40)
    monkeypatch.setattr(rrefine, "RECORD_CHUNK", 8)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cl:
        run_sweep(spec, str(tmp_path / "cl.zarr"), scheduler=cl.scheduler_address,
                  chunk_points=500, progress=False)
    assert_identical_stores(tmp_path / "ref.zarr", tmp_path / "cl.zarr")
    assert open_dataset(tmp_path / "cl.zarr").attrs["refine"] == \
        open_dataset(tmp_path / "ref.zarr").attrs["refine"]


@pytest.mark.parametrize("level_points", [10**9, 30])
def test_local_cluster_of_a_refinement_starts_when_needed(tmp_path, monkeypatch,
                                                          level_points):
    """With the local cluster, the levels run in the run's process until
    one has more than CLUSTER_LEVEL_POINTS points; then a cluster starts
    and takes the rest (levels and chunks). Either way the store equals
    the synchronous one bit for bit, and the summary says which ran
    (the coarse level has 25 points: with 30 the cluster starts at the
    next)."""
    pytest.importorskip("distributed")
    from coordsweep.engine.run import refine as rrefine
    from coordsweep.engine.run.runner import run_sweep
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime", "target_best"],
                                                  "coarse": 16}))
    run(spec, tmp_path / "ref.zarr", chunk_points=500)
    monkeypatch.setattr(rrefine, "CLUSTER_LEVEL_POINTS", level_points)
    monkeypatch.setattr(rrefine, "MIN_TASK_POINTS", 40)
    monkeypatch.setattr(rrefine, "RECORD_CHUNK", 8)
    started = []
    real = rrefine.Deferred.start
    monkeypatch.setattr(rrefine.Deferred, "start",
                        lambda self, job: started.append(1) or real(self, job))
    res = run_sweep(spec, str(tmp_path / "lc.zarr"), scheduler="local", workers=2,
                    chunk_points=500, progress=False)
    assert_identical_stores(tmp_path / "ref.zarr", tmp_path / "lc.zarr")
    assert open_dataset(tmp_path / "lc.zarr").attrs["refine"] == \
        open_dataset(tmp_path / "ref.zarr").attrs["refine"]
    assert bool(started) == (level_points == 30)
    assert res.workers.started == (level_points == 30)
    assert ("none here" in res.workers.how) == (level_points != 30)
    assert res.summary["regime_counts"] == run_sweep(
        spec, str(tmp_path / "again.zarr"), scheduler="synchronous", chunk_points=500,
        progress=False).summary["regime_counts"]


def test_resume_needs_the_same_refinement(tmp_path):
    text = shrink(open(os.path.join(ROOT, "sweeps", "two_sectors.toml")).read(), 17,
                  {"on": ["regime"], "coarse": 4})
    spec = write_spec(tmp_path, text)
    store = tmp_path / "s.zarr"
    run(spec, store)
    from coordsweep.engine.errors import StoreError
    with pytest.raises(StoreError, match="refinement"):
        run(spec, store, resume=True, refine="target_best")


# --- refusals ------------------------------------------------------------------

BAD = [
    ({"on": ["welfare_nc"]}, "not categorical"),
    ({"on": ["regime"], "axes": ["nope"]}, "unknown axis 'nope'"),
    ({"on": ["regime"], "sectors": ["steel"]}, "unknown sector 'steel'"),
    ({"on": ["regime"], "coarse": 6}, "power of 2"),
    ({"on": ["regime"], "coarse": 4, "min_level": 3}, "'min_level' must be an integer from 0 "
     "to 2"),
    ({"on": ["regime"], "axes": ["externality_scale", "cost_scale", "externality_scale",
                                 "cost_scale"]}, "takes 1 to 3"),
]


@pytest.mark.parametrize("table,words", BAD)
def test_bad_refine_table_exit_2_nothing_written(tmp_path, table, words):
    text = shrink(open(os.path.join(ROOT, "sweeps", "two_sectors.toml")).read(), 9, table)
    spec = write_spec(tmp_path, text)
    before = snapshot(tmp_path)
    out = coordsweep("run", spec, "--store", tmp_path / "s.zarr", "--scheduler",
                     "synchronous", "--quiet")
    assert out.returncode == 2, out.stderr
    assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_refine_option_and_part(tmp_path):
    text = shrink(open(os.path.join(ROOT, "sweeps", "two_sectors.toml")).read(), 9)
    spec = write_spec(tmp_path, text)
    before = snapshot(tmp_path)
    for extra, words in ((["--refine", "welfare_fb"], "--refine: 'welfare_fb' is not "),
                         (["--refine", "regime", "--part", "1/2"], "--part does not run a "
                          "refinement")):
        out = coordsweep("run", spec, "--store", tmp_path / "s.zarr", "--quiet", *extra)
        assert out.returncode == 2 and words in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before
    out = coordsweep("run", spec, "--store", tmp_path / "s.zarr", "--scheduler",
                     "synchronous", "--quiet", "--refine", "regime,target_best")
    assert out.returncode == 0, out.stderr
    assert "refined" in out.stdout
    assert open_dataset(tmp_path / "s.zarr").attrs["refine"]["on"] == ["regime", "target_best"]


def test_in_memory_refined_run(tmp_path):
    import coordsweep
    text = shrink(open(os.path.join(ROOT, "sweeps", "two_sectors.toml")).read(), 33,
                  {"on": ["regime"], "coarse": 8})
    spec = write_spec(tmp_path, text)
    ds = coordsweep.run(spec, progress=False)
    run(spec, tmp_path / "s.zarr")
    stored = open_dataset(tmp_path / "s.zarr")
    assert ds["computed"].values.sum() < ds["computed"].size
    for name in ("regime", "computed", "status", "wage_nc"):
        np.testing.assert_array_equal(ds[name].values, stored[name].values)
    assert ds.attrs["refine"] == stored.attrs["refine"]


# --- plot, report, export --------------------------------------------------------

@pytest.fixture(scope="module")
def refined_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("refined")
    text = shrink(open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read(),
                  41, {"on": ["regime", "target_best"], "sectors": ["manu"], "coarse": 8})
    spec = write_spec(d, text)
    run(spec, d / "r.zarr")
    return d / "r.zarr"


def test_plot_caption_has_the_solved_share(refined_store, tmp_path):
    from coordsweep.engine.viz.plot import plot
    ds = open_dataset(refined_store)
    share = float(ds["computed"].values.mean())
    res = plot(ds, x="cost_scale", y="externality_scale", var="regime", sector="manu",
               out=tmp_path / "m.png")
    assert res["solved_share"] == pytest.approx(share)
    title = res["figure"].axes[0].get_title()
    assert f"refined: {100 * share:.1f}% of points solved, the rest filled" in title
    # the filled categories are drawn: no missing cell in the map
    assert res["counts"] and "missing" not in res["counts"]
    res = plot(ds, x="cost_scale", y="externality_scale", var="regime", sector="agro")
    assert "the rest not solved" in res["figure"].axes[0].get_title()
    res = plot(ds, x="cost_scale", var="target_best", select={"externality_scale": 1.0})
    c = ds["computed"].sel(externality_scale=1.0).values
    assert res["solved_share"] == pytest.approx(c.mean())


def test_report_and_export_of_a_refined_store(refined_store, tmp_path):
    from coordsweep.engine.viz.report import write_report
    index = write_report(open_dataset(refined_store), tmp_path / "rep", width=300, height=240)
    assert "Refined store:" in index.read_text()
    code, out, err = main_inprocess("export", refined_store, tmp_path / "t.csv")
    assert code == 0, err
    import pandas as pd
    df = pd.read_csv(tmp_path / "t.csv")
    ds = open_dataset(refined_store)
    assert len(df) == ds["computed"].size
    filled = ~df["computed"].astype(bool)
    assert filled.sum() == int((~ds["computed"].values).sum()) > 0
    assert (df.loc[filled, "status"] == FILLED).all()
    assert df.loc[filled, "wage_nc"].isna().all()
    assert (df.loc[filled, "regime.manu"] >= 0).all() and (df.loc[filled, "regime.agro"] == -1).all()


def test_netcdf_export_of_a_refined_store_round_trips(refined_store, tmp_path):
    """netCDF attributes are flat: the refinement record travels as JSON and
    comes back as the store's table; every variable, `computed` included,
    equals the store's bit for bit."""
    import coordsweep
    from coordsweep.engine.analysis.export import open_netcdf, results
    code, out, err = main_inprocess("export", refined_store, tmp_path / "r.nc")
    assert code == 0, err
    nc = open_netcdf(tmp_path / "r.nc").load()
    store = results(coordsweep.open_store(refined_store)).load()
    assert nc.attrs["refine"] == store.attrs["refine"]
    assert set(nc.data_vars) == set(store.data_vars)
    for name in store.data_vars:
        assert nc[name].dtype == store[name].dtype, name
        assert np.array_equal(nc[name].values, store[name].values,
                              equal_nan=store[name].dtype.kind == "f"), name
    assert not nc["computed"].values.all()


DESIGN = """
name = "design and refinement"
[model]
labor_share = 0.6
[[model.sectors]]
name = "agro"
price = 1.0
productivity = 1.2
externality = 0.3
cost = 0.15
[[model.sectors]]
name = "manu"
price = 1.0
productivity = 1.0
externality = 1.2
cost = 0.15
[design]
method = "sobol"
samples = 16
seed = 3
second_order = false
[design.params."productivity.agro"]
low = 0.8
high = 1.6
[design.params."externality.manu"]
low = 0.6
high = 1.6
[axes.cost_scale]
start = 0.0
stop = 3.0
num = 17
"""


def test_design_slices_refined_and_sensitivity(tmp_path):
    """A design's samples are slices refined on their own (the sample
    indices of a task are not consecutive); sensitivity takes the refined
    outputs and refuses the others."""
    full = write_spec(tmp_path, DESIGN, "full.toml")
    run(full, tmp_path / "full.zarr", chunk_points=40)
    ref = write_spec(tmp_path, DESIGN + refine_table({"on": ["regime"], "coarse": 4}), "r.toml")
    run(ref, tmp_path / "r.zarr", chunk_points=40)
    check_refined(tmp_path / "full.zarr", tmp_path / "r.zarr", expect_exact=False)
    ds = open_dataset(tmp_path / "r.zarr")
    assert 0 < ds["computed"].values.mean() < 1
    from coordsweep.engine.analysis import sensitivity
    from coordsweep.engine.errors import UsageError
    with pytest.raises(UsageError, match="solved points only"):
        sensitivity.indices(ds, "welfare_nc")
    try:
        sensitivity.indices(ds, "regime", sector="manu", category="coordination_failure")
    except UsageError as exc:  # a slice without variance is fine; a refusal is not
        assert "solved points only" not in str(exc)


def test_optional_outputs_refined(tmp_path):
    """[outputs] equilibria and dynamics: their arrays at solved points as
    the full grid's, the fill value elsewhere."""
    text = shrink(open(os.path.join(ROOT, "sweeps", "two_sectors.toml")).read(), 17)
    text += "\n[outputs]\nequilibria = 2\n" + "dynamics = 4\n"
    run(write_spec(tmp_path, text, "full.toml"), tmp_path / "full.zarr")
    run(write_spec(tmp_path, text + refine_table({"on": ["regime"], "coarse": 8}), "r.toml"),
        tmp_path / "r.zarr", chunk_points=100)
    check_refined(tmp_path / "full.zarr", tmp_path / "r.zarr", expect_exact=False)
    a, b = open_dataset(tmp_path / "r.zarr"), open_dataset(tmp_path / "full.zarr")
    solved = a["computed"].values
    extra = [v for v in b.data_vars if v not in {o[0] for o in OUTPUTS} | {"chunk_done"}]
    assert extra
    for v in extra:
        x, y = a[v].values, b[v].values
        assert x.dtype == y.dtype
        if x.dtype.kind == "f":
            assert np.array_equal(x[solved], y[solved], equal_nan=True), v
            assert np.isnan(x[~solved]).all(), v
        else:
            assert np.array_equal(x[solved], y[solved]), v


def test_default_chunks_threads_and_task_counts(tmp_path):
    """A refined store's default chunks (larger than a full run's,
    engine/spec/layout.py) on the threads scheduler (chunk buffers reused
    in each thread, edge chunks between) hold the store of small chunks
    written synchronously bit for bit; the run's summary, counted by the
    chunk tasks, is the one read back from the store."""
    from coordsweep.engine.analysis import results
    from coordsweep.engine.run.runner import run_sweep
    from coordsweep.engine.spec.layout import Layout
    from coordsweep.engine.store import zarrstore
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 449, {"on": ["regime", "target_best"],
                                                   "coarse": 16}))
    shape = (449, 449)
    run(spec, tmp_path / "small.zarr", chunk_points=997)
    res = run_sweep(spec, str(tmp_path / "default.zarr"), scheduler="threads", workers=2,
                    progress=False)
    attrs = zarrstore.read_attrs(tmp_path / "default.zarr")
    chunks = tuple(attrs["chunk_shape"])
    assert chunks == Layout.for_grid(shape, refined=True).chunks
    assert np.prod(chunks) > np.prod(Layout.for_grid(shape).chunks)
    assert_identical_stores(tmp_path / "small.zarr", tmp_path / "default.zarr")
    read = results.summary(str(tmp_path / "default.zarr"), Layout(shape, chunks))
    assert res.summary.keys() == read.keys()
    for key, value in read.items():
        assert np.array_equal(res.summary[key], value) if isinstance(value, np.ndarray) \
            else res.summary[key] == value, key


def test_verify_refined_store_and_repair(tmp_path):
    """Every chunk of a refined store is written (filled points hold fill
    values): `inspect --verify` accepts the store, names a chunk deleted
    from it, and --repair (the levels solved again: their records are gone
    from a complete store) writes it back bit for bit."""
    import shutil
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime"], "coarse": 16}))
    ref = tmp_path / "ref.zarr"
    run(spec, ref, chunk_points=1000)
    code, out, err = main_inprocess("inspect", str(ref), "--verify")
    assert code == 0, out + err
    assert " 0 bad, 0 not computed" in out
    store = str(tmp_path / "damaged.zarr")
    shutil.copytree(ref, store)
    os.remove(os.path.join(store, "welfare_nc", "c.2.0"))
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert code == 1, out + err
    assert "bad chunk 2: welfare_nc: chunk 2/0 is missing" in out
    code, out, err = main_inprocess("run", str(spec), "--store", store, "--resume",
                                    "--repair", "--scheduler", "synchronous", "--quiet")
    assert code == 0, err
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert code == 0, out + err
    assert_identical_stores(ref, store)


def test_chunk_files_hold_zarrs_own_bytes(tmp_path):
    """A refined chunk's outputs are made in memory in the order the store
    keeps them (per-sector floats sector after sector: nothing to copy
    before encoding); every chunk file still holds the bytes zarr's own
    __setitem__ writes for the values it decodes to."""
    import zarr

    from coordsweep.engine.run import refine as rrefine
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml"),
                encoding="utf-8").read()
    table = {"on": ["regime", "target_best"], "coarse": 8}
    run(write_spec(tmp_path, shrink(text, 33, table), "ref.toml"), tmp_path / "ref.zarr",
        chunk_points=300)   # (33 x 33 in chunks of 9 rows: an edge chunk)
    got = zarr.open_group(str(tmp_path / "ref.zarr"), mode="r")
    names = [o.name for o in OUTPUTS] + ["computed"]
    copy = zarr.open_group(str(tmp_path / "copy.zarr"), mode="w")
    for name in names:
        src = got[name]
        dst = copy.create_array(name, shape=src.shape, dtype=src.dtype, chunks=src.chunks,
                                fill_value=src.fill_value, filters=src.filters,
                                compressors=src.compressors,
                                chunk_key_encoding={"name": "default", "separator": "."})
        with zarr.config.set({"array.write_empty_chunks": True}):
            dst[...] = src[...]
    per_sector = 0
    for name in names:
        files = sorted(f for f in os.listdir(tmp_path / "ref.zarr" / name) if f.startswith("c"))
        assert len(files) == 4, name
        for f in files:
            a = (tmp_path / "ref.zarr" / name / f).read_bytes()
            b = (tmp_path / "copy.zarr" / name / f).read_bytes()
            assert a == b, (name, f)
        dtype = np.dtype(got[name].dtype.to_native_dtype() if hasattr(got[name].dtype,
                                                                       "to_native_dtype")
                         else got[name].dtype)
        per_sector += rrefine._sector_major(dtype, got[name].shape[2:])
    assert per_sector == 5   # (the five per-sector floats)


def test_edge_chunk_made_at_the_whole_chunks_size(tmp_path, monkeypatch):
    """An edge chunk's outputs are handed to the store at the whole chunk's
    shape, the points past the grid's end holding the store's fill value
    (status: its own fill value, not the bit filled): the store encodes
    them without a padded copy, and the files hold the bytes of the store's
    own padding (the same run with every chunk at its region's size)."""
    import zarr

    from coordsweep.engine.run import refine as rrefine
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml"),
                encoding="utf-8").read()
    spec = write_spec(tmp_path, shrink(text, 33, {"on": ["regime", "target_best"],
                                                  "coarse": 8}))
    made = []
    real_items = rrefine._ChunkOutputs.items

    def items(self):
        for name, a in real_items(self):
            if self.whole > self.n and name in ("status", "regime", "welfare_nc",
                                                "critical_mass", "computed"):
                made.append((name, a.shape[0], self.n, a[self.n:].copy()))
            yield name, a
    monkeypatch.setattr(rrefine._ChunkOutputs, "items", items)
    run(spec, tmp_path / "whole.zarr", chunk_points=300)  # (33 x 33, chunks of 9 rows)
    monkeypatch.undo()
    assert sorted(m[0] for m in made) == sorted(["status", "regime", "welfare_nc",
                                                 "critical_mass", "computed"])
    group = zarr.open_group(str(tmp_path / "whole.zarr"), mode="r")
    for name, whole, n, tail in made:
        assert (whole, n) == (9 * 33, 6 * 33), name
        fill = group[name].fill_value
        assert np.isnan(tail).all() if tail.dtype.kind == "f" else (tail == fill).all(), name
    assert group["status"].fill_value != FILLED
    monkeypatch.setattr(rrefine, "_whole_chunk", lambda store, layout, run_id, layout_of, n:
                        (n, None, layout))
    run(spec, tmp_path / "padded.zarr", chunk_points=300)
    for name in [o.name for o in OUTPUTS] + ["computed"]:
        for f in sorted(os.listdir(tmp_path / "whole.zarr" / name)):
            if f.startswith("c"):
                assert (tmp_path / "whole.zarr" / name / f).read_bytes() == \
                    (tmp_path / "padded.zarr" / name / f).read_bytes(), (name, f)


def test_buffers_made_ahead_hold_the_fill_values_and_are_taken(tmp_path, monkeypatch):
    """The writing threads' buffers made while the levels are solved hold
    every output's fill value at the size of a chunk; the threads that
    write the chunks take them (none is made again) and nothing is kept
    after the run."""
    from coordsweep.engine.run import refine as rrefine
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml"),
                encoding="utf-8").read()
    spec_path = write_spec(tmp_path, shrink(text, 33, {"on": ["regime"], "coarse": 8}))
    spec = parse_spec(open(spec_path, encoding="utf-8").read())
    rrefine.prepare_buffers(spec, 50, 2)
    assert len(rrefine._READY) == 2
    for scratch, filled in rrefine._READY:
        # (the scratch array holds a refined output: regime here)
        assert scratch.size == 50 * max(size for name, *_, size in rrefine.packing(spec)
                                        if name == "regime")
        for name, dtype, shape, size in rrefine.packing(spec):
            arr, clean = filled[(dtype.str, repr(rrefine.fill_value(name, dtype)))]
            assert clean and arr.dtype == dtype and len(arr) >= 50 * int(np.prod(shape))
            fill = rrefine.fill_value(name, dtype)
            assert np.isnan(arr).all() if dtype.kind == "f" else (arr == fill).all(), name
    rrefine.release_buffers()
    assert rrefine._READY == []
    prepared, used = [], []
    real_prepare, real_filled = rrefine.prepare_buffers, rrefine._filled

    def prepare(*a):
        real_prepare(*a)
        prepared.extend(id(arr) for _, filled in rrefine._READY for arr, _ in filled.values())

    def filled(*a):
        entry = real_filled(*a)
        used.append(id(entry[0]))
        return entry
    monkeypatch.setattr(rrefine, "prepare_buffers", prepare)
    monkeypatch.setattr(rrefine, "_filled", filled)
    adopted = []
    real_adopt = rrefine._adopt

    def adopt(tid):
        n = len(rrefine._READY)
        real_adopt(tid)
        if len(rrefine._READY) < n:
            adopted.append(tid)
    monkeypatch.setattr(rrefine, "_adopt", adopt)
    run(spec_path, tmp_path / "ref.zarr", chunk_points=300)
    assert 1 <= len(adopted) == len(set(adopted)) <= 2   # (two writing threads, four chunks)
    assert used and set(used) <= set(prepared)
    assert rrefine._READY == [] and rrefine._FILLED == {}


def test_last_level_chunks_written_before_its_last_task(tmp_path, monkeypatch):
    """With the synchronous scheduler the last level is solved task by task
    and a chunk goes to the writers as soon as its points are recorded: the
    last task of the last level waits until a chunk has been written (an
    event, no timing); the store equals one written after every level."""
    import threading
    from coordsweep.engine.run import refine as rrefine
    text = open(os.path.join(ROOT, "sweeps", "paper_1_coordination_failures.toml")).read()
    spec = write_spec(tmp_path, shrink(text, 65, {"on": ["regime", "target_best"],
                                                  "coarse": 16}))
    last = zrefine.of_spec(parse_spec(open(spec).read())).levels - 1
    monkeypatch.setattr(rrefine, "_overlapped", lambda *a: False)
    run(spec, tmp_path / "ref.zarr", chunk_points=100)
    monkeypatch.undo()
    written, waited, tasks = threading.Event(), [], []
    real_chunk, real_task = rrefine.assemble_chunk, rrefine.level_task

    def chunk(*args, **kw):
        out = real_chunk(*args, **kw)
        written.set()
        return out

    def task(spec, store, info, task, *args, **kw):
        if info.level == last:
            tasks.append(task)
        return real_task(spec, store, info, task, *args, **kw)
    monkeypatch.setattr(rrefine, "assemble_chunk", chunk)
    monkeypatch.setattr(rrefine, "level_task", task)
    real_band = rrefine._task_keys

    def keys(files, info, t, lo, hi, token):
        # the writers have the chunks of tasks 0..t-1: before the last
        # task's keys are taken, one of them must be written
        if info.level == last and t == total[0] - 1:
            waited.append(written.wait(120))
        return real_band(files, info, t, lo, hi, token)
    total = [0]
    real_layout = rrefine._level_layout

    def layout(files, info, idx):
        tp = real_layout(files, info, idx)
        if info.level == last:
            total[0] = -(-len(idx) // tp)
        return tp
    monkeypatch.setattr(rrefine, "_task_keys", keys)
    monkeypatch.setattr(rrefine, "_level_layout", layout)
    run(spec, tmp_path / "s.zarr", chunk_points=100)
    assert total[0] > 2 and tasks == list(range(total[0]))
    assert waited == [True]
    assert_identical_stores(tmp_path / "ref.zarr", tmp_path / "s.zarr")
