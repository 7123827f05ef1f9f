"""The equilibrium list (MODEL.md "Every equilibrium"; kernels/eqlist.py):
the K best stable equilibria, best first, against the brute-force
enumeration of tests/reference.py (every profile tested with Delta_i
directly, W from the firm-level definitions)."""
import numpy as np
import pytest

from coordsweep import kernels
from reference import random_point, reference_equilibrium_list

METHODS = ("dfs", "bb")


def check_list(params, k, method):
    ref = reference_equilibrium_list(**params)[:k]
    masks, W, w = kernels.equilibrium_list(**params, k=k, method=method)
    assert [int(m) for m in masks] == [r[0] for r in ref]
    np.testing.assert_allclose(W, [r[1] for r in ref], rtol=1e-10, atol=0)
    np.testing.assert_allclose(w, [r[2] for r in ref], rtol=1e-10, atol=0)
    return len(ref)


@pytest.mark.parametrize("n", range(1, 9))
def test_list_equals_enumeration(n):
    """Random points (eta > 0, tau != 0, sigma, zero costs, inert sectors:
    reference.random_point), half of them with tau = 0 so that the branch
    and bound answers (with tau != 0 it falls back to the search)."""
    rng = np.random.default_rng([19, n])
    longest = 0
    for r in range(12):
        p = random_point(rng, n)
        if r % 2:
            p["subsidy"] = np.zeros(n)
        for k in (1, 3, 16):
            for method in METHODS:
                longest = max(longest, check_list(p, k, method))
    assert longest > 1  # some point had several equilibria


def tied_point(n, eta=0.0, sigma=0.0):
    """n identical sectors (every W of a profile depends only on how many
    cooperate: ties broken by the bitmask), cheap enough that many sets are
    equilibria."""
    return dict(labor=1.0, labor_share=0.6, price=np.ones(n), productivity=np.ones(n),
                externality=np.full(n, 0.8), cost=np.full(n, 0.02),
                scale=np.full(n, eta), subsidy=np.zeros(n), cost_subsidy=np.full(n, sigma))


@pytest.mark.parametrize("eta,sigma", [(0.0, 0.0), (0.1, 0.0), (0.0, 0.5)])
@pytest.mark.parametrize("method", METHODS)
def test_ties(eta, sigma, method):
    n = 6
    p = tied_point(n, eta, sigma)
    ref = reference_equilibrium_list(**p)
    assert len(ref) > 20
    check_list(p, 16, method)
    # ties: within a size, masks ascend
    masks, W, _ = kernels.equilibrium_list(**p, k=64, method=method)
    sizes = [bin(int(m)).count("1") for m in masks]
    for a, b, sa, sb in zip(masks, masks[1:], sizes, sizes[1:]):
        if sa == sb:
            assert a < b


def test_pairs_of_tied_sectors():
    """Two copies of each of three sectors: ties inside random W."""
    rng = np.random.default_rng(7)
    for _ in range(6):
        base = random_point(rng, 3)
        p = {k: (np.concatenate([v, v]) if np.ndim(v) else v) for k, v in base.items()}
        for method in METHODS:
            check_list(p, 16, method)


def test_many_sectors_methods_agree():
    """N = 16, tau = 0, many equilibria: the branch and bound lists what
    the search over every equilibrium lists."""
    rng = np.random.default_rng(3)
    for eta in (False, True):
        for _ in range(3):
            n = 16
            p = dict(labor=1.0, labor_share=rng.uniform(0.5, 0.75),
                     price=rng.uniform(0.8, 1.2, n), productivity=rng.uniform(0.6, 1.6, n),
                     externality=rng.uniform(0.2, 1.5, n), cost=rng.uniform(0.0, 0.05, n),
                     subsidy=np.zeros(n))
            if eta:
                p["scale"] = rng.uniform(0.0, 0.2, n)
            a = kernels.equilibrium_list(**p, k=16, method="dfs")
            b = kernels.equilibrium_list(**p, k=16, method="bb")
            assert kernels.solve_point(**p)["n_equilibria"] > 1000
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
            np.testing.assert_array_equal(a[2], b[2])


def test_block_matches_point_and_solve():
    """kernels.solve(equilibria=K): eq_listed = min(n_equilibria, K), the
    first entry is the best equilibrium, fills after the list; the base
    outputs are those of a call without the list."""
    rng = np.random.default_rng(11)
    pts = [random_point(rng, 4) for _ in range(40)]
    block = {k: np.array([p[k] for p in pts]) for k in pts[0]}
    K = 5
    out = kernels.solve(**block, equilibria=K)
    base = kernels.solve(**block)
    for name, v in base.items():
        np.testing.assert_array_equal(out[name], v)
    assert out["eq_mask"].dtype == np.uint32 and out["eq_mask"].shape == (40, K)
    np.testing.assert_array_equal(out["eq_listed"], np.minimum(base["n_equilibria"], K))
    for j, p in enumerate(pts):
        m, W, w = kernels.equilibrium_list(**p, k=K)
        n = len(m)
        np.testing.assert_array_equal(out["eq_mask"][j, :n], m)
        np.testing.assert_array_equal(out["eq_welfare"][j, :n], W)
        assert (out["eq_mask"][j, n:] == 4294967295).all()
        assert np.isnan(out["eq_welfare"][j, n:]).all() and np.isnan(out["eq_wage"][j, n:]).all()
        best = sum(1 << i for i in range(4) if base["coop_best_eq"][j, i])
        assert out["eq_mask"][j, 0] == best
        assert out["eq_welfare"][j, 0] == pytest.approx(base["welfare_best_eq"][j], rel=1e-12)
        assert out["eq_wage"][j, 0] == pytest.approx(base["wage_best_eq"][j], rel=1e-12)


def test_bad_k():
    p = tied_point(2)
    for bad in (-1, 1.5, True, 10**6):
        with pytest.raises(ValueError):
            kernels.solve(**{k: np.atleast_1d(v)[None, :] if np.ndim(v) else np.array([v])
                             for k, v in p.items()}, equilibria=bad)
