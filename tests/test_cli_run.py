"""`coordsweep run` and `coordsweep inspect` (CONTRACT.md "Command line"):
store protection (--overwrite, --resume, not-a-store paths, bad specs,
bad scheduler arguments create or modify nothing), the printed summary,
and what inspect reports.

Calls marked "subprocess" run the installed console script; the others
call engine.cli.main in-process (the function the script hands to
sys.exit), which is much faster and returns the same exit code.
"""
import os
import re
import shutil

import numpy as np
import pytest

from engine_helpers import (assert_identical_stores, assert_same_snapshot, chunk_done,
                            coordsweep, main_inprocess, make_partial_store, open_dataset,
                            snapshot, store_attrs, three_sector_spec, write_spec)

N_THETA, N_COST = 21, 15  # 315 points, 3 sectors
SPEC_A = three_sector_spec(N_THETA, N_COST, name="cli test A")
SPEC_B = three_sector_spec(N_THETA, N_COST, name="cli test B", cost_stop=2.0, manu_cost=0.2)


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    """A complete store of SPEC_A written by `coordsweep run` (subprocess)."""
    d = tmp_path_factory.mktemp("cli")
    spec_a = write_spec(d, SPEC_A, "a.toml")
    spec_b = write_spec(d, SPEC_B, "b.toml")
    store = os.path.join(d, "a.zarr")
    proc = coordsweep("run", spec_a, "--store", store, "--scheduler", "synchronous", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return {"dir": d, "spec_a": spec_a, "spec_b": spec_b, "store": store,
            "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.fixture
def store_copy(complete, tmp_path):
    path = str(tmp_path / "copy.zarr")
    shutil.copytree(complete["store"], path)
    return path


def run_args(spec, store, *extra):
    return ("run", spec, "--store", store, "--scheduler", "synchronous", "--quiet", *extra)


def assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coordsweep: error:"), err
    for f in fragments:
        assert f in lines[0], (f, lines[0])


# --- 7. the summary -------------------------------------------------------------------
def test_run_summary_matches_store(complete):
    from coordsweep.kernels.codes import REGIME_NAMES
    out = complete["stdout"]
    ds = open_dataset(complete["store"])
    points = N_THETA * N_COST

    m = re.search(r"^\s*points\s+([\d,]+)\b", out, re.M)
    assert m and int(m.group(1).replace(",", "")) == points, out
    m = re.search(r"points/s\s+([\d,]+(?:\.\d+)?)", out)
    assert m and float(m.group(1).replace(",", "")) > 0, out

    share = float((ds.n_equilibria.values > 1).mean())
    assert 0 < share < 1  # the test means something
    m = re.search(r"> 1 equilibri\w*\s+([\d.]+)\s*%", out)
    assert m, out
    assert abs(float(m.group(1)) - 100 * share) <= 0.05 + 1e-9, (m.group(1), share)

    # per-regime counts, one column per sector, equal the store's
    header = next(line for line in out.splitlines()
                  if line.split() == list(ds.sector.values))
    assert header
    regime = ds.regime.values.reshape(-1, ds.sizes["sector"])
    for k, name in enumerate(REGIME_NAMES):
        m = re.search(rf"^\s*{name}\s+([\d,\s]+)$", out, re.M)
        assert m, (name, out)
        printed = [int(x.replace(",", "")) for x in m.group(1).split()]
        expected = [int((regime[:, j] == k).sum()) for j in range(regime.shape[1])]
        assert printed == expected, (name, printed, expected)
    assert sum(int((regime == k).sum()) for k in range(len(REGIME_NAMES))) == regime.size


# --- 4. store protection ------------------------------------------------------------------
def test_complete_store_refused_without_overwrite(complete, store_copy):
    before = snapshot(store_copy)
    proc = coordsweep(*run_args(complete["spec_a"], store_copy))  # subprocess
    assert_one_line_error(proc.returncode, proc.stderr, "--overwrite")
    assert_same_snapshot(before, snapshot(store_copy))
    # the same with another spec
    code, _, err = main_inprocess(*run_args(complete["spec_b"], store_copy))
    assert_one_line_error(code, err)
    assert_same_snapshot(before, snapshot(store_copy))
    # --resume of a complete store has nothing to do: success, store untouched
    # (a requeued batch job that always passes --resume must not fail)
    code, out, err = main_inprocess(*run_args(complete["spec_a"], store_copy, "--resume"))
    assert code == 0, err
    assert "0 computed this run" in out
    assert_same_snapshot(before, snapshot(store_copy))


def test_overwrite_replaces_complete_store(complete, store_copy, tmp_path):
    code, out, err = main_inprocess(*run_args(complete["spec_b"], store_copy, "--overwrite",
                                              "--chunk-points", "45"))
    assert code == 0, err
    attrs = store_attrs(store_copy)
    assert attrs["complete"] == 1
    with open(complete["spec_b"], encoding="utf-8") as f:
        assert attrs["spec"] == f.read()
    assert attrs["chunk_shape"] == [3, N_COST]
    assert chunk_done(store_copy).tolist() == [1] * 7
    ds = open_dataset(store_copy)
    assert np.array_equal(ds.cost_scale.values, np.linspace(0.0, 2.0, N_COST))
    # nothing of the old run is left: same bits as a fresh run of spec B
    fresh = str(tmp_path / "fresh_b.zarr")
    assert main_inprocess(*run_args(complete["spec_b"], fresh))[0] == 0
    assert_identical_stores(fresh, store_copy)


def test_resume_needs_same_spec(complete, tmp_path):
    store = str(tmp_path / "partial.zarr")
    layout = make_partial_store(complete["spec_a"], store, 45, [1, 4])
    assert layout.nchunks == 7
    before = snapshot(store)
    # a different spec: refused, untouched
    code, _, err = main_inprocess(*run_args(complete["spec_b"], store, "--resume"))
    assert_one_line_error(code, err, "spec")
    assert_same_snapshot(before, snapshot(store))
    # the same spec text with one comment more is a different text: refused too
    edited = write_spec(tmp_path, SPEC_A + "# a comment\n", "a_edited.toml")
    code, _, err = main_inprocess(*run_args(edited, store, "--resume"))
    assert code == 2, err
    assert_same_snapshot(before, snapshot(store))
    # the right spec: the 5 missing chunks are computed, same bits as one run
    code, out, err = main_inprocess(*run_args(complete["spec_a"], store, "--resume"))
    assert code == 0, err
    assert re.search(r"\b5 computed this run, 7 in all", out), out
    assert store_attrs(store)["complete"] == 1
    assert_identical_stores(complete["store"], store)


NOT_STORES = ["dir-with-file", "empty-dir", "plain-file", "foreign-zarr"]


@pytest.mark.parametrize("kind", NOT_STORES)
def test_not_a_store_is_never_touched(complete, tmp_path, kind):
    path = tmp_path / "thing"
    if kind == "dir-with-file":
        path.mkdir()
        (path / "notes.txt").write_text("precious\n")
    elif kind == "empty-dir":
        path.mkdir()
    elif kind == "plain-file":
        path.write_bytes(b"precious bytes\n")
    else:  # a zarr store written by someone else
        import zarr
        g = zarr.open_group(str(path), mode="w")
        g.attrs["owner"] = "someone else"
        g.create_array("x", shape=(4,), dtype="f8")[:] = np.arange(4.0)
    before = snapshot(path)
    for extra in (("--overwrite",), (), ("--resume",)):
        code, _, err = main_inprocess(*run_args(complete["spec_a"], path, *extra))
        assert_one_line_error(code, err, str(path))
        assert os.path.exists(path)
        assert_same_snapshot(before, snapshot(path))


BAD_SPECS = [
    # (id, edit of SPEC_A, fragment the message names)
    ("grid-point-out-of-domain", ("start = 0.0\nstop = 3.0", "start = -1.0\nstop = 3.0"),
     "cost"),
    ("unknown-key", ("price = 1.1\n", "price = 1.1\ncolour = 1\n"), "colour"),
    ("unknown-axis", ("[axes.cost_scale]", "[axes.cost_scales]"), "cost_scales"),
]


@pytest.mark.parametrize("edit, fragment", [b[1:] for b in BAD_SPECS],
                         ids=[b[0] for b in BAD_SPECS])
def test_bad_spec_creates_or_modifies_no_store(complete, store_copy, tmp_path, edit, fragment):
    assert SPEC_A.count(edit[0]) == 1
    spec = write_spec(tmp_path, SPEC_A.replace(*edit), "bad.toml")
    store = str(tmp_path / "new.zarr")
    code, _, err = main_inprocess(*run_args(spec, store))
    assert_one_line_error(code, err, fragment)
    assert not os.path.exists(store)
    # nor does it touch an existing store, even with --overwrite
    before = snapshot(store_copy)
    code, _, err = main_inprocess(*run_args(spec, store_copy, "--overwrite"))
    assert_one_line_error(code, err, fragment)
    assert_same_snapshot(before, snapshot(store_copy))


@pytest.mark.parametrize("args, fragment", [
    (("--scheduler", "bogus"), "--scheduler"),
    (("--workers", "0"), "--workers"),
    (("--chunk-points", "0"), "chunk_points"),
    (("--resume", "--overwrite"), "--resume"),
    (("--scheduler",), "--scheduler"),
], ids=["scheduler-bogus", "workers-0", "chunk-points-0", "resume-and-overwrite",
        "scheduler-missing-value"])
def test_bad_arguments_exit_2_and_create_no_store(complete, tmp_path, args, fragment):
    store = str(tmp_path / "new.zarr")
    code, _, err = main_inprocess("run", complete["spec_a"], "--store", store, "--quiet",
                                  *(() if "--scheduler" in args else
                                    ("--scheduler", "synchronous")), *args)
    assert_one_line_error(code, err, fragment)
    assert not os.path.exists(store)


def test_bad_scheduler_subprocess(complete, tmp_path):
    store = str(tmp_path / "new.zarr")
    proc = coordsweep("run", complete["spec_a"], "--store", store, "--scheduler", "bogus")
    assert_one_line_error(proc.returncode, proc.stderr, "--scheduler")
    assert not os.path.exists(store)


class _Unreachable(Exception):
    pass


@pytest.fixture
def unreachable_scheduler(monkeypatch):
    """distributed.Client fails as for a scheduler address nobody listens
    on (after its 20 s timeout), without the wait."""
    import distributed

    def client(address, *args, **kwargs):
        raise OSError(f"Timed out trying to connect to {address} after 20 s")
    monkeypatch.setattr(distributed, "Client", client)
    return "tcp://127.0.0.1:1"


def test_unreachable_scheduler_creates_no_store(complete, tmp_path, unreachable_scheduler):
    store = str(tmp_path / "new.zarr")
    code, _, err = main_inprocess("run", complete["spec_a"], "--store", store, "--quiet",
                                  "--scheduler", unreachable_scheduler)
    assert_one_line_error(code, err, "--scheduler")
    # bad input: no (empty, "incomplete") store is left behind that the
    # next run with the right address would refuse without --resume
    assert not os.path.exists(store), "an empty store was left behind"


def test_unreachable_scheduler_keeps_complete_store(complete, store_copy,
                                                    unreachable_scheduler):
    before = snapshot(store_copy)
    code, _, err = main_inprocess("run", complete["spec_a"], "--store", store_copy,
                                  "--quiet", "--overwrite", "--scheduler",
                                  unreachable_scheduler)
    assert_one_line_error(code, err, "--scheduler")
    # nothing was run: the complete results must still be there
    assert store_attrs(store_copy)["complete"] == 1, "complete results were wiped"
    assert_same_snapshot(before, snapshot(store_copy))


# --- 5. inspect ---------------------------------------------------------------------------
def test_inspect_complete_store(complete):
    proc = coordsweep("inspect", complete["store"])  # subprocess
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    n = int(chunk_done(complete["store"]).size)
    assert f"{n}/{n} chunks" in out
    assert "complete: yes" in out
    assert re.search(rf"^\s*externality_scale: {N_THETA}\b", out, re.M), out
    assert re.search(rf"^\s*cost_scale: {N_COST}\b", out, re.M), out
    assert re.search(r"^\s*sector: 3\b", out, re.M), out
    assert "agro" in out and "serv" in out
    # the spec text, line by line, in order
    spec_lines = [line for line in SPEC_A.splitlines() if line.strip()]
    pos = 0
    for line in spec_lines:
        pos = out.find(line, pos)
        assert pos >= 0, f"spec line {line!r} not in inspect output"


def test_options_a_run_ignores_are_named(complete, tmp_path):
    """--workers with the synchronous scheduler, --chunk-points with
    --resume: the run goes on, and says once what it did not do; the
    resumed store keeps its chunks."""
    store = str(tmp_path / "w.zarr")
    code, _, err = main_inprocess(*run_args(complete["spec_a"], store, "--workers", 3))
    assert code == 0, err
    assert err.count("warning") == 1 and "--workers is ignored" in err, err
    partial = str(tmp_path / "partial.zarr")
    make_partial_store(complete["spec_a"], partial, 45, [0, 2])
    code, _, err = main_inprocess(*run_args(complete["spec_a"], partial, "--resume",
                                            "--chunk-points", 100))
    assert code == 0, err
    assert err.count("warning") == 1 and "--chunk-points is ignored" in err, err
    assert_identical_stores(complete["store"], partial)
    code, _, err = main_inprocess(*run_args(complete["spec_a"], str(tmp_path / "q.zarr")))
    assert code == 0 and "warning" not in err, err
    # a run that fails says only why
    code, _, err = main_inprocess(*run_args(complete["spec_a"], str(tmp_path / "q.zarr"),
                                            "--workers", 3))
    assert_one_line_error(code, err, "--overwrite")


def test_inspect_partial_store(complete, tmp_path):
    store = str(tmp_path / "partial.zarr")
    make_partial_store(complete["spec_a"], store, 45, [0, 2, 6])
    code, out, err = main_inprocess("inspect", store)
    assert code == 0, err
    assert "3/7 chunks" in out
    assert "complete: no" in out
    assert "cli test A" in out


@pytest.mark.parametrize("kind", ["missing", "not-a-store"])
def test_inspect_bad_path(tmp_path, kind):
    path = tmp_path / "nothing.zarr"
    if kind == "not-a-store":
        path.mkdir()
        (path / "notes.txt").write_text("x")
    code, _, err = main_inprocess("inspect", path)
    assert_one_line_error(code, err, str(path))
    if kind == "missing":
        assert not path.exists()


def test_inspect_missing_subprocess(tmp_path):
    proc = coordsweep("inspect", tmp_path / "nothing.zarr")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


def test_ctrl_c_says_resume_only_when_a_store_was_made(tmp_path, monkeypatch):
    """Ctrl-C (KeyboardInterrupt from the run) exits 130 with one hint:
    --resume where the store exists, the same command where none was made."""
    from coordsweep.engine.run import runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(runner, "run_sweep", interrupted)
    spec = write_spec(tmp_path, three_sector_spec(3, 3, name="ctrl-c"))
    code, out, err = main_inprocess("run", spec, "--store", tmp_path / "none.zarr")
    assert code == 130 and "no store was made yet" in err and "--resume" not in err, err
    assert not (tmp_path / "none.zarr").exists()
    monkeypatch.undo()
    code, _, err = main_inprocess("run", spec, "--store", tmp_path / "made.zarr",
                                  "--scheduler", "synchronous", "--quiet")
    assert code == 0, err
    monkeypatch.setattr(runner, "run_sweep", interrupted)
    code, out, err = main_inprocess("run", spec, "--store", tmp_path / "made.zarr",
                                    "--resume")
    assert code == 130 and "run again with --resume" in err, err
