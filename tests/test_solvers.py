"""Solver variants (CONTRACT.md "Solver variants", kernels/solvers.py):
every variant finds what the defaults find on random points; choices are
parsed strictly, selectable from the spec, the CLI and the API, recorded
in the store, and a resume with another solver is refused."""
import itertools

import numpy as np
import pytest

from engine_helpers import (main_inprocess, open_dataset, store_attrs, three_sector_spec,
                            write_spec)
from reference import random_point

from coordsweep.kernels import solvers

DISCRETE = ("n_equilibria", "has_partial", "target_ca", "target_cluster", "target_best",
            "status", "regime", "coop_best_eq", "coop_fb")
#: outputs that are differences of welfare levels (or 1 - a ratio): their
#: relative precision is that of the levels, so they are compared on the
#: scale of |welfare_nc| (of 1 for subsidy_needed)
DIFFERENCES = ("coordination_gap", "provision_gap", "gain_ca", "gain_cluster", "gain_best",
               "gain_coordinate")
RTOL = 1e-10


def random_block(seed, n, npts, high_alpha=False):
    rng = np.random.default_rng(seed)
    pts = [random_point(rng, n, high_alpha=high_alpha) for _ in range(npts)]
    block = {}
    for k in pts[0]:
        vals = [p[k] if p[k] is not None else np.zeros(n) for p in pts]
        block[k] = np.array(vals, dtype=float)
    return block


def check_blockings(kern, block):
    """Solve block whole, then one point at a time and in blocks of odd
    sizes, and assert the pieces give the whole's outputs bit for bit.
    Returns same(outputs, label), the same comparison against the whole,
    for the caller's own blockings."""
    whole = kern.solve(**block)
    npts = len(block["labor"])

    def pieces(bounds):
        parts = [kern.solve(**{k: v[s:e] for k, v in block.items()})
                 for s, e in zip(bounds[:-1], bounds[1:])]
        return {k: np.concatenate([p[k] for p in parts]) for k in whole}

    def same(other, label):
        for k in whole:
            np.testing.assert_array_equal(other[k], whole[k], err_msg=f"{label}: {k}")

    same(pieces(list(range(npts + 1))), "one by one")
    same(pieces([0, 7, 8, 33, 61, npts]), "odd blocks")
    return same


def assert_agree(ref, out, label):
    for k in DISCRETE:
        np.testing.assert_array_equal(out[k], ref[k], err_msg=f"{label}: {k}")
    scale_w = np.abs(ref["welfare_nc"])
    for k, a in ref.items():
        if a.dtype.kind != "f":
            continue
        b = out[k]
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{label}: {k} NaNs")
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b), err_msg=f"{label}: {k} infs")
        m = np.isfinite(a)
        scale = np.maximum(np.abs(a), np.abs(b))
        if k in DIFFERENCES:
            scale = np.maximum(scale, scale_w if a.ndim == 1 else scale_w[:, None])
        elif k == "subsidy_needed":
            scale = np.maximum(scale, 1.0)
        rel = np.abs(a[m] - b[m]) / np.maximum(scale[m], 1e-300)
        assert rel.size == 0 or rel.max() <= RTOL, f"{label}: {k} differs by {rel.max():.3g}"


def test_parse_and_text():
    assert solvers.text(None) == "wage=newton,equilibria=auto,path=lockstep"
    s = solvers.parse("equilibria=mitm, wage=brent")
    assert (s.wage, s.equilibria, s.path) == ("brent", "mitm", "lockstep")
    assert solvers.parse({"path": "bisect"}).path == "bisect"
    assert solvers.codes("wage=bisect,equilibria=brute,path=bisect") == (2, 1, 1)
    assert solvers.codes("wage=pkg.mod:fn")[0] == solvers.WAGE_USER
    for bad in ("wage=secant", "equilbria=dfs", "brent", "path=secant", "wage=mod:",
                {"wage": 3}):
        with pytest.raises(solvers.SolverError):
            solvers.parse(bad)


@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_builtin_variants_agree_on_random_points(kern, n):
    """Every combination of the built-in variants against the defaults:
    the same discrete outputs, floats within 1e-10 relative."""
    block = random_block(10 + n, n, 60)
    block_hi = random_block(20 + n, n, 20, high_alpha=True)
    ref = kern.solve(**block)
    ref_hi = kern.solve(**block_hi)
    for wage, eq, path in itertools.product(*solvers.SLOTS.values()):
        choice = f"wage={wage},equilibria={eq},path={path}"
        assert_agree(ref, kern.solve(**block, solver=choice), choice)
        assert_agree(ref_hi, kern.solve(**block_hi, solver=choice), choice + " high alpha")


def test_default_solver_is_the_default(kern):
    block = random_block(3, 3, 30)
    a = kern.solve(**block)
    b = kern.solve(**block, solver="wage=newton,equilibria=auto,path=lockstep")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_mitm_many_sectors(kern):
    """equilibria=mitm where it matters: 12 sectors, many equilibria."""
    rng = np.random.default_rng(5)
    n, npts = 12, 20
    alpha = rng.uniform(0.5, 0.7, npts)
    block = dict(labor=np.ones(npts), labor_share=alpha, price=np.ones((npts, n)),
                 productivity=rng.uniform(0.9, 1.1, (npts, n)),
                 externality=rng.uniform(0.2, 0.8, (npts, n)),
                 cost=rng.uniform(0.5, 1.5, (npts, n)) * 10 ** rng.uniform(-3, -1, (npts, 1)),
                 scale=np.where(np.arange(npts)[:, None] % 2 == 1,
                                0.3 * (1 - alpha)[:, None], 0.0) * np.ones((npts, n)))
    ref = kern.solve(**block, solver="equilibria=dfs")
    assert ref["n_equilibria"].max() > 500
    assert_agree(ref, kern.solve(**block, solver="equilibria=mitm"), "mitm")
    assert_agree(ref, kern.solve(**block), "auto (the default)")


@pytest.mark.parametrize("n", [3, 10, 11, 13])
def test_auto_picks_dfs_up_to_the_table_limit_and_mitm_above(kern, n):
    """equilibria=auto (the default) is dfs where N <= 10 and mitm where
    N > 10, bit for bit; its rule is what a store records."""
    block = random_block(40 + n, n, 12)
    auto = kern.solve(**block)
    picked = "dfs" if n <= solvers.AUTO_DFS_MAX_SECTORS else "mitm"
    same = kern.solve(**block, solver=f"equilibria={picked}")
    for k in auto:
        np.testing.assert_array_equal(auto[k], same[k], err_msg=k)
    rec = solvers.record(None)
    assert rec["solver"] == "wage=newton,equilibria=auto,path=lockstep"
    assert str(solvers.AUTO_DFS_MAX_SECTORS) in rec["solver_rule"]
    assert "solver_rule" not in solvers.record("equilibria=dfs")


def test_user_wage_function(kern, tmp_path, monkeypatch):
    """A user's @njit wage solver (module:function), compiled into the block
    kernel, agrees with the built-ins; a non-numba function is refused."""
    (tmp_path / "user_wage_mod.py").write_text('''
import math
import numba


@numba.njit
def gap(x, b, k, log_labor):
    mx = -math.inf
    for i in range(b.shape[0]):
        mx = max(mx, b[i] - k[i] * x)
    s = 0.0
    for i in range(b.shape[0]):
        s += math.exp(b[i] - k[i] * x - mx)
    return mx + math.log(s) - log_labor


@numba.njit
def illinois(b, k, log_labor, lo, hi):
    fa, fb = gap(lo, b, k, log_labor), gap(hi, b, k, log_labor)
    side = 0
    x = lo
    for _ in range(300):
        x = (lo * fb - hi * fa) / (fb - fa)
        fx = gap(x, b, k, log_labor)
        if fx == 0.0 or hi - lo <= 4e-16 * max(1.0, abs(x)):
            return x, True
        if fx > 0.0:
            lo, fa = x, fx
            if side == 1:
                fb *= 0.5
            side = 1
        else:
            hi, fb = x, fx
            if side == -1:
                fa *= 0.5
            side = -1
    return x, False


def not_numba(b, k, log_labor, lo, hi):
    return lo, True
''')
    monkeypatch.syspath_prepend(str(tmp_path))
    block = random_block(7, 3, 25)
    ref = kern.solve(**block)
    assert_agree(ref, kern.solve(**block, solver="wage=user_wage_mod:illinois"), "user")
    with pytest.raises(solvers.SolverError, match="not a numba"):
        kern.solve(**block, solver="wage=user_wage_mod:not_numba")
    with pytest.raises(solvers.SolverError, match="cannot import"):
        kern.solve(**block, solver="wage=no_such_module_xyz:f")


# --- engine: spec, CLI, API, store attributes --------------------------------------
SPEC = three_sector_spec(9, 7, name="solver test")


def test_spec_solver_table_parsed_and_checked(tmp_path):
    from coordsweep.engine.spec.model import parse_spec
    from coordsweep.engine.errors import SpecError
    spec = parse_spec(SPEC + '\n[run.solver]\nwage = "bisect"\n')
    assert spec.run["solver"] == "wage=bisect,equilibria=auto,path=lockstep"
    with pytest.raises(SpecError, match="solver.wage"):
        parse_spec(SPEC + '\n[run.solver]\nwage = "secant"\n')
    bad = write_spec(tmp_path, SPEC + '\n[run.solver]\nequilibria = "fast"\n')
    code, _, err = main_inprocess("run", bad, "--store", tmp_path / "x.zarr",
                                  "--scheduler", "synchronous", "--quiet")
    assert code == 2 and "equilibria" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.zarr").exists()


def test_run_records_solver_and_resume_checks_it(tmp_path):
    spec = write_spec(tmp_path, SPEC)
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    code, out, err = main_inprocess("run", spec, "--store", a, "--scheduler", "synchronous",
                                    "--quiet")
    assert code == 0, err
    assert store_attrs(a)["solver"] == "wage=newton,equilibria=auto,path=lockstep"
    assert store_attrs(a)["solver_rule"] == solvers.AUTO_RULE
    code, _, err = main_inprocess("run", spec, "--store", b, "--scheduler", "synchronous",
                                  "--quiet", "--solver", "wage=brent,equilibria=brute")
    assert code == 0, err
    assert store_attrs(b)["solver"] == "wage=brent,equilibria=brute,path=lockstep"
    da, db = open_dataset(a), open_dataset(b)
    for k in DISCRETE:
        np.testing.assert_array_equal(da[k].values, db[k].values)
    np.testing.assert_allclose(db.welfare_fb.values, da.welfare_fb.values, rtol=1e-10)
    # a resume with another solver would mix results: refused, nothing touched
    code, _, err = main_inprocess("run", spec, "--store", b, "--scheduler", "synchronous",
                                  "--quiet", "--resume", "--solver", "wage=bisect")
    assert code == 2 and "solver" in err
    code, _, err = main_inprocess("run", spec, "--store", tmp_path / "c.zarr", "--quiet",
                                  "--scheduler", "synchronous", "--solver", "wage=fast")
    assert code == 2 and "wage" in err and not (tmp_path / "c.zarr").exists()


def test_command_line_solver_overrides_the_spec_slot_by_slot(tmp_path):
    spec = write_spec(tmp_path, SPEC + '\n[run.solver]\npath = "bisect"\nwage = "brent"\n')
    code, _, err = main_inprocess("run", spec, "--store", tmp_path / "a.zarr", "--quiet",
                                  "--scheduler", "synchronous", "--solver", "equilibria=brute")
    assert code == 0, err
    assert store_attrs(tmp_path / "a.zarr")["solver"] == "wage=brent,equilibria=brute,path=bisect"
    code, _, err = main_inprocess("run", spec, "--store", tmp_path / "b.zarr", "--quiet",
                                  "--scheduler", "synchronous", "--solver", "path=lockstep")
    assert code == 0, err
    assert store_attrs(tmp_path / "b.zarr")["solver"] == "wage=brent,equilibria=auto,path=lockstep"
    assert solvers.text(solvers.override({"path": "bisect"}, None)) == \
        "wage=newton,equilibria=auto,path=bisect"
    with pytest.raises(solvers.SolverError, match="slot 'paths'"):
        solvers.override({"path": "bisect"}, "paths=brent")


def test_api_run_solver(tmp_path):
    import coordsweep
    spec = coordsweep.parse_spec(SPEC)
    ds = coordsweep.run(spec, store=str(tmp_path / "s.zarr"), scheduler="synchronous",
                        progress=False, solver={"path": "bisect"})
    assert ds.attrs["solver"] == "wage=newton,equilibria=auto,path=bisect"
    mem = coordsweep.run(spec, progress=False, solver="equilibria=brute")
    assert mem.attrs["solver"] == "wage=newton,equilibria=brute,path=lockstep"
    for k in DISCRETE:
        np.testing.assert_array_equal(mem[k].values, ds[k].values)
