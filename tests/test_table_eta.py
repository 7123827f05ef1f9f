"""The profile table for points with some eta_i > 0 (kernels/etatable.py):
every full-cooperation profile's wage root found in lock-step over a block.

- table entries (log w, W) against the scalar path (economy.log_wage /
  binary_welfare on the same prepared point, table off) within 1e-12;
- whole solves with the table against solves without it (a block prepared
  with no eta table) and against the wage=brent variant: identical
  discrete outputs, floats within test_solvers' tolerance;
- which points get a table (eta > 0 and valid, N <= 10, default wage
  only; eta = 0 points off the fast path do not);
- results bit for bit independent of the block (N = 2, 4, 8);
- non-convergence: with COORDSWEEP_DEBUG_MAXITER the table flags exactly
  the points the scalar path flags.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from test_solvers import DISCRETE, assert_agree, check_blockings, random_block

from coordsweep.engine.run.benchvariants import draw_points

HERE = os.path.dirname(os.path.abspath(__file__))


def eta_block(seed, n, npts):
    """Random points with eta > 0 (the paper-like draws of engine.bench and
    test_solvers' random points, which cover tau != 0, sigma, zero costs
    and externalities), every point with some eta_i > 0."""
    a = draw_points(seed, npts, n, True)
    b = random_block(seed + 100, n, npts)
    b["scale"][:, 0] = np.maximum(b["scale"][:, 0], 0.01 * (1 - b["labor_share"]))
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def prepared(block, wage):
    from coordsweep.kernels import api
    from coordsweep.kernels.point import allocate_prepared
    from coordsweep.kernels.prepare import prepare_block
    x = api.make_inputs(block)
    prep = allocate_prepared(*x.price.shape)
    prepare_block(x, prep, wage)
    return x, prep


def _scalar_table_fn():
    import numba
    from coordsweep.kernels.economy import binary_welfare
    from coordsweep.kernels.point import workspace_at

    @numba.njit
    def scalar_table(prep, scr, tx, tw):
        for p in range(tx.shape[0]):
            ws = workspace_at(prep, p, scr)
            for m in range(tx.shape[1]):
                x, W = binary_welfare(ws, m)
                tx[p, m] = x
                tw[p, m] = W
    return scalar_table


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_table_entries_match_scalar_wage_roots(kern, n):
    from coordsweep.kernels.point import allocate_scratch
    block = eta_block(10 + n, n, 150)
    _, notab = prepared(block, None)
    _, tab = prepared(block, 0)
    assert not notab.pt["table"].any()
    assert tab.pt["table"].all() and not tab.pt["wagefail"].any()
    tx = np.empty_like(tab.tx)
    tw = np.empty_like(tab.tw)
    _scalar_table_fn()(notab, allocate_scratch(n), tx, tw)
    assert np.isfinite(tx).all() and np.isfinite(tw).all()
    # log w: 1e-12 relative in w
    np.testing.assert_allclose(np.exp(tab.tx), np.exp(tx), rtol=1e-12, atol=0)
    # W: relative to the larger of |W| and the point's scale of welfare
    scale = np.maximum(np.abs(tw), np.abs(tw).max(axis=1, keepdims=True) * 1e-3)
    assert (np.abs(tab.tw - tw) / scale).max() <= 1e-12
    # the same iteration: most roots agree to the last bit
    assert (tab.tx == tx).mean() > 0.5


def test_which_points_get_the_table(kern):
    n = 3
    eta = draw_points(1, 20, n, True)
    zero = draw_points(2, 20, n, False)
    block = {k: np.concatenate([eta[k], zero[k]]) for k in eta}
    # eta = 0 but off the linear-scale fast path: exp(eps lqa) spanning > exp(600)
    block["labor_share"][-1] = 0.99
    block["price"][-1] = [1.0, 1e3, 1e-3]
    block["labor_share"][0] = 1.5  # outside the domain
    _, prep = prepared(block, 0)
    pt = prep.pt
    assert not prep.valid[0] and not pt["table"][0]
    assert pt["table"][1:20].all() and not pt["fast"][1:20].any()
    assert pt["table"][20:-1].all() and pt["fast"][20:-1].all()
    assert not pt["fast"][-1] and pt["eta0"][-1] and not pt["table"][-1]
    for code in (1, 2, 3):  # brent, bisect, a user's: their own wage roots
        _, prep = prepared(block, code)
        assert not prep.pt["table"][:20].any() and prep.pt["table"][20:-1].all()
    # beyond TABLE_MAX_SECTORS: no table (and no room for one)
    _, prep = prepared(draw_points(3, 4, 11, True), 0)
    assert prep.tx.shape[1] == 0 and not prep.pt["table"].any()


def _solve_without_eta_table(kern, monkeypatch, block, solver=None):
    from coordsweep.kernels import api
    real = api.prepare_block
    monkeypatch.setattr(api, "prepare_block", lambda x, prep, wage=0: real(x, prep, None))
    try:
        return kern.solve(**block, solver=solver)
    finally:
        monkeypatch.setattr(api, "prepare_block", real)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 8])
def test_solve_with_table_agrees_with_scalar_path(kern, monkeypatch, n):
    block = eta_block(20 + n, n, 120)
    tab = kern.solve(**block)
    notab = _solve_without_eta_table(kern, monkeypatch, block)
    assert (tab["status"] == 0).mean() > 0.9
    assert_agree(notab, tab, f"table vs scalar Newton, N={n}")
    assert_agree(kern.solve(**block, solver="wage=brent"), tab, f"table vs brent, N={n}")
    # with a variant of the equilibrium search reading the table too
    for eq in ("brute", "mitm"):
        s = f"equilibria={eq}"
        assert_agree(_solve_without_eta_table(kern, monkeypatch, block, s),
                     kern.solve(**block, solver=s), f"{s}, N={n}")


@pytest.mark.parametrize("n", [2, 4, 8])
def test_results_do_not_depend_on_the_block(kern, monkeypatch, n):
    """Bit for bit: one block, points one by one, blocks of odd sizes,
    sub-blocks and row chunks forced small."""
    from coordsweep.kernels import api, etatable
    block = eta_block(40 + n, n, 30)
    zero = draw_points(5, 10, n, False)  # eta = 0 points mixed in
    block = {k: np.concatenate([block[k], zero[k]]) for k in block}
    same = check_blockings(kern, block)
    monkeypatch.setattr(etatable, "ROWS", 3 << n)  # chunks of 3 points
    same(kern.solve(**block), "row chunks of 3 points")
    monkeypatch.setattr(api, "TABLE_ENTRIES", 5 << n)
    same(kern.solve(**block), "sub-blocks of 5 points")


_FAULT_SCRIPT = r"""
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_table_eta import eta_block
from coordsweep import kernels
from coordsweep.kernels import api
block = eta_block(7, 3, 60)
# points with no candidate sector (no GE path, whose wage roots flag
# their points too): only the profiles' roots can flag them
block["externality"][:40, 2] = 0.0   # inert
block["externality"][:40, :2] += 0.1
block["cost"][:40, :2] = 0.0         # spontaneous
out = {{}}
out["table"] = kernels.solve(**block)["status"].tolist()
real = api.prepare_block
api.prepare_block = lambda x, prep, wage=0: real(x, prep, None)
out["scalar"] = kernels.solve(**block)["status"].tolist()
print(json.dumps(out))
"""


def test_non_convergence_flags_as_the_scalar_path():
    """With every root finder capped (COORDSWEEP_DEBUG_MAXITER=3: some
    roots converge, some do not; most wage roots take three Newton
    steps, a few four, with the stop on the error bound) the table flags wage_not_converged on
    exactly the points the scalar path flags, among the first 40 points,
    which have no candidate sector (and an inert one: its cooperating
    profiles are in the table, not read by the scalar path). Elsewhere
    the GE paths' searches take other roots with the table (the samples
    in lock-step, kernels/etapath.py) than without it; there every point
    the table run flags is flagged without it too."""
    from coordsweep.kernels import codes
    env = dict(os.environ, COORDSWEEP_DEBUG_MAXITER="3")
    proc = subprocess.run([sys.executable, "-c", _FAULT_SCRIPT.format(tests=HERE)],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    table, scalar = np.array(out["table"]), np.array(out["scalar"])
    flagged = (table & codes.WAGE_NOT_CONVERGED) != 0
    assert 5 <= flagged[:40].sum() < 35  # no candidates: only the profiles' roots
    np.testing.assert_array_equal(table[:40], scalar[:40])
    assert np.all((table & ~scalar) == 0)


def test_no_caller_reads_the_profile_after_a_table_read(kern, monkeypatch):
    """binary_welfare / binary_log_wage fill ws.prof only without the
    table: outputs that would read a stale profile differ (checked on
    every output above); here the discrete ones at many sectors, where
    the mitm search reads profiles out of order."""
    block = eta_block(60, 10, 25)
    for s in (None, "equilibria=mitm"):
        a = kern.solve(**block, solver=s)
        b = _solve_without_eta_table(kern, monkeypatch, block, s)
        for k in DISCRETE:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{s}: {k}")
