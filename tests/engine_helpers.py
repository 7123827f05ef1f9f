"""Shared helpers for the engine tests (test_engine, test_resume,
test_cli_run): spec texts, running the CLI, reading stores, comparing
stores bit for bit and snapshotting a directory tree.
"""
import contextlib
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys

import numpy as np

from specs import policy_sectors, spec_text

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
#: the installed console script, next to the interpreter running the tests
COORDSWEEP = os.path.join(os.path.dirname(sys.executable), "coordsweep")


# --- spec texts ---------------------------------------------------------------
def shrink(text, num, refine=None):
    """A ready sweep at `num` points an axis, no store, with [run.refine]."""
    text = re.sub(r"(?m)^num = \d+", f"num = {num}", text)
    text = re.sub(r'(?m)^store = ".*"\n', "", text)
    if refine is not None:
        text = text.rstrip() + "\n\n" + refine_table(refine)
    return text


def refine_table(table):
    return "[run.refine]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())


def three_sector_spec(n_theta=41, n_cost=31, *, name="engine test",
                      cost_stop=3.0, manu_cost=0.15, comment=""):
    """Three sectors (specs.policy_sectors), axes externality_scale x cost_scale.

    Every grid point has a Marshallian scale externality (eta = 0.1 in
    agro, 0.05 in serv), production subsidies/tariffs (tau = 0.05 in agro,
    -0.1 in manu) and a cost subsidy in manu, so the iterative wage solver
    and the policy terms are exercised. Non-ASCII text in the name and in
    a comment checks that the spec text round-trips through the store."""
    return spec_text(
        name, policy_sectors(manu_cost),
        axes={"externality_scale": (0.0, 2.0, n_theta), "cost_scale": (0.0, cost_stop, n_cost)},
        comment=f"engine tests: three sectors, eta > 0 and tau != 0 everywhere {comment}\n"
                "(non-ASCII on purpose: θ, η, τ — “quotes”)")


def five_sector_spec(n_ca=40, n_theta=40, n_cost=40):
    """Five sectors (as sweeps/five_sectors.toml), three axes."""
    sectors = [(name, {"price": 1.0, "productivity": 1.0, "externality": theta, "cost": cost})
               for name, theta, cost in [("mining", 0.1, 0.05), ("agro", 0.3, 0.08),
                                         ("textiles", 0.5, 0.08), ("software", 0.8, 0.08),
                                         ("biotech", 1.0, 0.08)]]
    return spec_text("five sectors, resume test", sectors,
                     axes={"ca_spread": (0.0, 2.0, n_ca),
                           "externality.biotech": (0.0, 3.0, n_theta),
                           "cost_scale": (0.0, 3.0, n_cost)})


def write_spec(directory, text, name="spec.toml"):
    path = os.path.join(str(directory), name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# --- running the command line ---------------------------------------------------
def coordsweep(*args, timeout=300, cwd=None):
    """Run the installed `coordsweep` console script; CompletedProcess (text)."""
    return subprocess.run([COORDSWEEP, *map(str, args)], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=timeout)


def coordsweep_popen(*args, cwd=None, env=None):
    return subprocess.Popen([COORDSWEEP, *map(str, args)], cwd=cwd or ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def slow_chunks_env(directory, seconds=0.25, hold_after=None):
    """The environment of a run each of whose chunks takes at least
    `seconds` (the debug pause before a chunk's write, marker
    `directory`/paused), so a test can stop it part way whatever the
    machine's speed; with `hold_after` N, the run is held before its
    chunk N + 1 until the test releases it (`release_held`) or kills it
    (engine/run/debug.py)."""
    import os
    env = dict(os.environ, COORDSWEEP_DEBUG_PAUSE=f"write:{seconds}:{directory}/paused")
    if hold_after is not None:
        env["COORDSWEEP_DEBUG_HOLD_AFTER"] = str(hold_after)
    return env


def is_held(directory, hold_after):
    """True once a run started with slow_chunks_env(directory, ...,
    hold_after) waits in its held pause (it cannot finish before
    release_held)."""
    import os
    try:
        with open(os.path.join(directory, "paused")) as f:
            return len(f.read().splitlines()) > hold_after
    except FileNotFoundError:
        return False


def release_held(directory):
    """Let a run held by slow_chunks_env(..., hold_after) go on."""
    import os
    open(os.path.join(directory, "paused.go"), "w").close()


def main_inprocess(*args):
    """`coordsweep ARGS` in this process through engine.cli.main (the
    function the console script passes to sys.exit): (code, stdout, stderr)."""
    from coordsweep.engine.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


# --- reading stores ---------------------------------------------------------------
@contextlib.contextmanager
def _quiet():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def open_group(store):
    import zarr
    with _quiet():
        return zarr.open_group(str(store), mode="r")


def chunk_done(store):
    """The completion record as a 0/1 int array: 1 where the element holds
    the store's run token (raises while the record is not there)."""
    with _quiet():
        group = open_group(store)
        token = group.attrs.get("run_token", 1)
        return (np.asarray(group["chunk_done"][:]) == token).astype(np.int8)


def store_attrs(store):
    with _quiet():
        return dict(open_group(store).attrs)


def open_dataset(store):
    """xarray.open_zarr, as a user of the store (CONTRACT.md) opens it."""
    import xarray as xr
    with _quiet():
        return xr.open_zarr(str(store))


def assert_identical_stores(a, b, *, skip=("chunk_done",)):
    """Every data variable and coordinate of two stores: same names, dims,
    dtypes and bit-identical values (NaN where NaN; otherwise the same bit
    pattern, so 0.0 and -0.0 differ). The completion record is skipped: its
    length is the number of chunks, which depends on the chunking."""
    da, db = open_dataset(a), open_dataset(b)
    names_a = set(da.data_vars) - set(skip)
    names_b = set(db.data_vars) - set(skip)
    assert names_a == names_b
    assert ({k: v for k, v in da.sizes.items() if k != "chunk"}
            == {k: v for k, v in db.sizes.items() if k != "chunk"})
    for name in sorted(names_a):
        va, vb = da[name], db[name]
        assert va.dims == vb.dims, name
        assert va.dtype == vb.dtype, (name, va.dtype, vb.dtype)
        xa, xb = va.values, vb.values
        assert xa.shape == xb.shape, name
        if xa.dtype.kind == "f":
            nan_a, nan_b = np.isnan(xa), np.isnan(xb)
            bits = f"u{xa.itemsize}"
            differ = (nan_a != nan_b) | (~nan_a & (xa.view(bits) != xb.view(bits)))
        else:
            differ = xa != xb
        if differ.any():
            first = tuple(int(i) for i in np.argwhere(differ)[0])
            raise AssertionError(f"{name}: {int(differ.sum())} values differ between "
                                 f"{a} and {b}; first at {first}: {xa[first]!r} vs "
                                 f"{xb[first]!r}")
    coords = (set(da.coords) | set(db.coords)) - {"chunk"}
    for name in coords:
        assert name in da.coords and name in db.coords, name
        ca, cb = da[name].values, db[name].values
        assert ca.dtype.kind == cb.dtype.kind, name
        if ca.dtype.kind == "f":
            assert np.array_equal(ca.view("u8"), cb.view("u8")), name
        else:
            assert list(ca) == list(cb), name


# --- directory snapshots ------------------------------------------------------------
def snapshot(path):
    """{relative path: (size, mtime_ns, sha1)} of every file under path, and
    every directory as (None, None, None): equal snapshots = untouched."""
    path = str(path)
    snap = {}
    if os.path.isfile(path):
        st = os.stat(path)
        with open(path, "rb") as f:
            return {".": (st.st_size, st.st_mtime_ns, hashlib.sha1(f.read()).hexdigest())}
    for dirpath, dirnames, filenames in os.walk(path):
        rel = os.path.relpath(dirpath, path)
        snap[rel + "/"] = (None, None, None)
        for fn in filenames:
            full = os.path.join(dirpath, fn)
            st = os.stat(full)
            with open(full, "rb") as f:
                digest = hashlib.sha1(f.read()).hexdigest()
            snap[os.path.join(rel, fn)] = (st.st_size, st.st_mtime_ns, digest)
    return snap


def assert_same_snapshot(before, after):
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not (added or removed or changed), (
        f"store modified: added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}")


# --- solve --json vs store values -------------------------------------------------------
def json_matches(name, stored, value, rel=1e-12):
    """Compare one output of `coordsweep solve --json` with the stored value
    (a numpy scalar or 1-d array); returns a list of mismatch descriptions."""
    from coordsweep.kernels.codes import REGIME_NAMES
    problems = []
    stored = np.asarray(stored)
    if stored.ndim == 0:
        pairs = [(stored.item(), value)]
    else:
        if not isinstance(value, list) or len(value) != stored.shape[0]:
            return [f"{name}: expected a list of {stored.shape[0]}, got {value!r}"]
        pairs = list(zip(stored.tolist(), value))
    for j, (s, v) in enumerate(pairs):
        where = name if stored.ndim == 0 else f"{name}[{j}]"
        if name == "regime":
            if not (0 <= s < len(REGIME_NAMES)) or v != REGIME_NAMES[s]:
                problems.append(f"{where}: store {s} vs json {v!r}")
        elif stored.dtype == np.bool_:
            if type(v) is not bool or v != s:
                problems.append(f"{where}: store {s} vs json {v!r}")
        elif stored.dtype.kind in "iu":
            if type(v) is not int or v != s:
                problems.append(f"{where}: store {s} vs json {v!r}")
        else:
            if math.isnan(s):
                ok = v is None
            elif math.isinf(s):
                ok = v == ("inf" if s > 0 else "-inf")
            else:
                ok = (isinstance(v, (int, float)) and not isinstance(v, bool)
                      and (v == s or math.isclose(v, s, rel_tol=rel, abs_tol=0.0)))
            if not ok:
                problems.append(f"{where}: store {s!r} vs json {v!r}")
    return problems


def parse_json(stdout):
    return json.loads(stdout)


# --- stores in given states ---------------------------------------------------------------
def make_partial_store(spec_path, store, chunk_points, chunk_ids):
    """An interrupted run, built with the engine's own steps: the plan and
    the template (engine/run/plan.py), then only the chunks `chunk_ids`
    computed and recorded (engine/run/executors.compute_chunk). Returns the
    Layout."""
    from coordsweep.engine.run.executors import compute_chunk
    from coordsweep.engine.run.plan import Request, make_plan
    from coordsweep.engine.spec.model import load_spec
    from coordsweep.engine.store import designcoords
    from coordsweep.engine.store import zarrstore as zstore
    spec = load_spec(spec_path)
    plan = make_plan(spec, str(store), Request(chunk_points))
    assert plan.action == "create" and not plan.done.any()
    layout = plan.layout
    zstore.create(str(store), spec, layout)
    if spec.design is not None:
        designcoords.write_coords(str(store), spec, layout)
    for cid in chunk_ids:
        compute_chunk(spec, str(store), layout, cid)
    return layout
