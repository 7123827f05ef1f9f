"""The block passes of the kernels: the profile table (kernels/table.py)
and the lock-step critical masses (kernels/lockstep.py, the default
``path = "lockstep"``).

- the lock-step roots against scipy's brentq on the same g_i, and against
  the point-by-point Brent variant on random points;
- results bit for bit independent of the block: one block, points one by
  one, odd-sized blocks, and sub-blocks forced small (the queue and the
  table are per sub-block);
- a point whose root does not converge is flagged, not silently wrong.
"""
import numpy as np
import pytest
from scipy.optimize import brentq

from test_solvers import assert_agree, check_blockings, random_block


def certified_block(seed, n, npts):
    """Random eta = 0 points with labour shares <= 1/2 (every candidate's
    path certified increasing) and costs low enough that many sectors are
    in a coordination failure: the lock-step search has work."""
    rng = np.random.default_rng(seed)
    return dict(labor=rng.uniform(0.5, 2.0, npts), labor_share=rng.uniform(0.2, 0.5, npts),
                price=rng.uniform(0.5, 2.0, (npts, n)),
                productivity=rng.uniform(0.5, 2.0, (npts, n)),
                externality=rng.uniform(0.05, 3.0, (npts, n)),
                cost=10 ** rng.uniform(-3, 0, (npts, n)))


def fast_g(s, xa0, u, logk, theta, eps, alpha, net):
    e = np.expm1(eps * np.log1p(theta * s))
    return np.exp(logk - alpha * np.log(xa0 + u * s * e)) * e - net


def test_lockstep_roots_match_brentq():
    from coordsweep.kernels.lockstep import increasing_roots
    rng = np.random.default_rng(11)
    q = 3000
    alpha = rng.uniform(0.2, 0.5, q)
    args = dict(xa0=10 ** rng.uniform(-2, 1, q), u=10 ** rng.uniform(-2, 1, q),
                logk=rng.uniform(-3, 3, q), theta=10 ** rng.uniform(-2, 1, q),
                eps=1 / (1 - alpha), alpha=alpha, net=10 ** rng.uniform(-4, 0, q))
    g1 = fast_g(1.0, **args)
    root, conv = increasing_roots(*args.values())
    assert conv.all()
    pos = g1 > 0
    assert pos.sum() > q // 4 and (~pos).sum() > q // 10  # both cases drawn
    np.testing.assert_array_equal(root[~pos], 1.0)  # as the point-by-point code
    for k in np.flatnonzero(pos)[:400]:
        a = {key: v[k] for key, v in args.items()}
        ref = brentq(lambda s: fast_g(s, **a), 0.0, 1.0, xtol=1e-300, rtol=8.9e-16)
        assert abs(root[k] - ref) <= 1e-12 * ref, (k, root[k], ref)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_lockstep_agrees_with_brent_point_by_point(kern, n):
    block = certified_block(30 + n, n, 400)
    a = kern.solve(**block)
    b = kern.solve(**block, solver="path=brent")
    assert (a["regime"] == 2).sum() > 50  # coordination failures: deferred roots
    assert_agree(b, a, f"lockstep vs brent, N={n}")


@pytest.mark.parametrize("n", [2, 4, 11])
def test_results_do_not_depend_on_the_block(kern, monkeypatch, n):
    """Bit for bit: one block, points one by one, blocks of odd sizes, and
    sub-blocks forced small (the queue of roots and the profile table are
    per sub-block; N = 11 has no table)."""
    from coordsweep.kernels import api
    block = certified_block(50 + n, n, 60)
    hi = random_block(70 + n, n, 40, high_alpha=True)
    block = {k: np.concatenate([block[k], hi[k]]) for k in block}
    same = check_blockings(kern, block)
    monkeypatch.setattr(api, "QUEUE_ENTRIES", 5 * n)
    same(kern.solve(**block), "sub-blocks of 5 points")


def test_root_not_converged_is_flagged(kern, monkeypatch):
    """A lock-step search cut off before it converges flags its point
    (path_not_converged) and leaves the regime as it is."""
    from coordsweep.kernels import codes, lockstep
    block = certified_block(7, 3, 200)
    ok = kern.solve(**block)
    monkeypatch.setattr(lockstep, "MAXITER", 1)
    cut = kern.solve(**block)
    deferred = (ok["regime"] == codes.COORDINATION_FAILURE).any(axis=1)
    flagged = (cut["status"] & codes.PATH_NOT_CONVERGED) != 0
    assert flagged.sum() > 20
    assert not flagged[~deferred].any()
    np.testing.assert_array_equal(cut["regime"], ok["regime"])
    assert not (ok["status"] & codes.PATH_NOT_CONVERGED).any()


def test_exp_pade_is_exp_to_fifth_order_and_positive():
    """The factor of the search's step in log s: exp(y) within y^5/720
    (plus rounding) near 0, and positive (a step never leaves s > 0)
    for any y up to 1e150 (beyond, NaN: the step leaves the bracket and
    the search bisects)."""
    from coordsweep.kernels.lockstep import exp_pade
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.uniform(-1e-2, 1e-2, 500), 10 ** rng.uniform(-16, -3, 200)])
    for v in y:
        assert abs(exp_pade(v) / np.exp(v) - 1) <= abs(v) ** 5 / 720 * 1.01 + 4e-16, v
    for v in np.concatenate([rng.uniform(-50, 50, 500), [1e150, -1e150, 3.4641016, -3.4641016]]):
        assert exp_pade(v) > 0.0, v
    assert np.isnan(exp_pade(1e300))


def _increasing_draw(seed, q, lognet):
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.2, 0.5, q)
    return dict(xa0=10 ** rng.uniform(-2, 1, q), u=10 ** rng.uniform(-2, 1, q),
                logk=rng.uniform(-3, 3, q), theta=10 ** rng.uniform(-2, 1, q),
                eps=1 / (1 - alpha), alpha=alpha, net=10 ** rng.uniform(*lognet, q))


def test_lockstep_tiny_roots_match_brentq():
    """Roots down to 1e-17 (net costs 1e-14 to 1e-6): the search in log s
    reaches them in a few steps and agrees with brentq within 1e-12
    relative or the absolute tolerance XTOL."""
    from coordsweep.kernels.lockstep import increasing_roots
    from coordsweep.kernels.rootfind import XTOL
    args = _increasing_draw(12, 2000, (-14, -6))
    pos = fast_g(1.0, **args) > 0
    root, conv = increasing_roots(*args.values())
    assert conv.all() and pos.sum() > 500
    assert root[pos].min() < 1e-12  # tiny roots drawn
    for k in np.flatnonzero(pos)[:300]:
        a = {key: v[k] for key, v in args.items()}
        ref = brentq(lambda s: fast_g(s, **a), 0.0, 1.0, xtol=1e-300, rtol=8.9e-16)
        assert abs(root[k] - ref) <= 1e-12 * ref + XTOL, (k, root[k], ref)


def test_lockstep_search_needs_few_steps(monkeypatch):
    """G is close to linear in log s, so Newton's step in log s from
    s0 = c' / (g_i(1) + c') converges within four evaluations for nearly
    every root (a step in s needed five or more for a third of them), and
    the roots cut off at four steps are flagged, not wrong."""
    from coordsweep.kernels import lockstep
    args = _increasing_draw(11, 3000, (-4, 0))
    full, _ = lockstep.increasing_roots(*args.values())
    monkeypatch.setattr(lockstep, "MAXITER", 4)
    root, conv = lockstep.increasing_roots(*args.values())
    assert conv.mean() >= 0.97
    np.testing.assert_array_equal(root[conv], full[conv])
