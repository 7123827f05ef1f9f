"""`coordsweep inspect STORE --verify` and `run --resume --repair`
(CONTRACT.md "Command line"): a chunk damaged or deleted after the run is
named (exit 1), and --repair computes it again, bit-identical."""
import os

import numpy as np
import pytest

from engine_helpers import (assert_identical_stores, chunk_done, five_sector_spec,
                            main_inprocess, write_spec)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    from coordsweep.engine.run.runner import run_sweep
    d = tmp_path_factory.mktemp("verify")
    spec = write_spec(d, five_sector_spec(6, 5, 4))
    ref = str(d / "ref.zarr")
    run_sweep(spec, ref, scheduler="synchronous", progress=False, chunk_points=20)
    return {"spec": spec, "ref": ref, "dir": d}


def _copy(src, dst):
    import shutil
    shutil.copytree(src, dst)
    return str(dst)


def test_verify_good_store(stores):
    code, out, err = main_inprocess("inspect", stores["ref"], "--verify")
    assert code == 0, out + err
    assert "6 chunks read; 0 bad, 0 not computed" in out


def test_verify_names_damaged_and_missing_chunks_repair_fixes_them(stores, tmp_path):
    store = _copy(stores["ref"], tmp_path / "damaged.zarr")
    # chunk 1 of welfare_nc: garbage bytes; chunk 4 of regime: deleted
    with open(os.path.join(store, "welfare_nc", "c.1.0.0"), "wb") as f:
        f.write(b"\x00garbage\xff" * 7)
    os.remove(os.path.join(store, "regime", "c.4.0.0.0"))
    # a plain read does not notice the deleted chunk (it reads fill values)
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert code == 1, out + err
    assert "2 bad" in out
    assert "bad chunk 1: welfare_nc: does not decode" in out
    assert "bad chunk 4: regime: chunk 4/0/0/0 is missing" in out
    assert "--repair" in out
    code, out, err = main_inprocess("run", stores["spec"], "--store", store, "--resume",
                                    "--repair", "--scheduler", "synchronous", "--quiet")
    assert code == 0, err
    assert "2 computed this run" in out
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert code == 0, out
    assert_identical_stores(stores["ref"], store)


def test_verify_incomplete_store_names_not_computed(stores, tmp_path):
    import zarr
    store = _copy(stores["ref"], tmp_path / "incomplete.zarr")
    g = zarr.open_group(store, mode="r+")
    g["chunk_done"][3] = 0
    code, out, err = main_inprocess("inspect", store, "--verify")
    assert code == 1 and "0 bad, 1 not computed" in out and "chunks 3" in out
    assert np.array_equal(np.flatnonzero(chunk_done(store) == 0), [3])


def test_repair_needs_resume(stores, tmp_path):
    code, out, err = main_inprocess("run", stores["spec"], "--store", tmp_path / "x.zarr",
                                    "--repair")
    assert code == 2 and "--repair goes with --resume" in err
