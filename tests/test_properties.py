"""Properties MODEL.md states, checked on the kernels' outputs for random
points (a different seed from the agreement test), plus the independence
of kernels.solve from the block it is called with."""
import numpy as np
import pytest

from reference import draw_blocks, reference_equilibria, stack

SEED = 7_654_321
COUNTS = {1: 25, 2: 25, 3: 25, 4: 25, 5: 20, 6: 20}


@pytest.fixture(scope="module")
def blocks():
    return draw_blocks(SEED, COUNTS)


@pytest.fixture(scope="module")
def got(kern, blocks):
    return {n: kern.solve(**stack(pts)) for n, pts in blocks.items()}


def _points(blocks):
    for n, pts in blocks.items():
        for j, p in enumerate(pts):
            yield n, j, p


def _s0_mask(p):
    """Z: theta_i > 0 and (1 - sigma_i) c_i = 0 (MODEL.md's conventions)."""
    th, c, sg = (np.asarray(p[k]) for k in ("externality", "cost", "cost_subsidy"))
    return sum(1 << i for i in range(len(th)) if th[i] > 0 and (1 - sg[i]) * c[i] == 0)


def _nontrivial(p):
    th, c, sg = (np.asarray(p[k]) for k in ("externality", "cost", "cost_subsidy"))
    return [i for i in range(len(th)) if th[i] > 0 and (1 - sg[i]) * c[i] > 0]


def test_status_zero_on_valid_input(got):
    for n, out in got.items():
        assert np.all(out["status"] == 0), (n, np.nonzero(out["status"])[0])


def test_gaps_non_negative(got):
    for n, out in got.items():
        assert np.all(out["coordination_gap"] >= 0), n
        assert np.all(out["provision_gap"] >= 0), n
        # and they are the differences they are defined as
        np.testing.assert_allclose(out["coordination_gap"],
                                   out["welfare_best_eq"] - out["welfare_nc"],
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(out["provision_gap"],
                                   out["welfare_fb"] - out["welfare_best_eq"],
                                   rtol=1e-12, atol=1e-14)


def test_s0_is_an_equilibrium_and_family_closed_under_removal(kern, blocks):
    for n, j, p in _points(blocks):
        masks = [int(m) for m in kern.equilibrium_masks(**p)]
        assert masks == sorted(set(masks)), (n, j, masks)
        z = _s0_mask(p)
        assert z in masks, (n, j, z, masks)
        fam = set(masks)
        for m in masks:
            assert m & z == z, (n, j, m)
            for i in range(n):
                if (m >> i) & 1 and not (z >> i) & 1:
                    assert (m & ~(1 << i)) in fam, (n, j, m, i, masks)


def test_n_equilibria_consistent(kern, blocks, got):
    for n, j, p in _points(blocks):
        k_masks = kern.equilibrium_masks(**p)
        ref = reference_equilibria(**p)
        assert int(got[n]["n_equilibria"][j]) == len(ref) == len(k_masks), (n, j)


def test_best_equilibrium_is_an_equilibrium(kern, blocks, got):
    """coop_best_eq is one of the equilibria; its wage is below the
    threshold wage of every non-spontaneous member (MODEL.md fact (1)); the
    first best is at least as good and never uses an inert sector."""
    for n, j, p in _points(blocks):
        out = got[n]
        best = sum(1 << i for i in range(n) if out["coop_best_eq"][j, i])
        assert best in [int(m) for m in kern.equilibrium_masks(**p)], (n, j)
        z = _s0_mask(p)
        for i in range(n):
            if (best >> i) & 1 and not (z >> i) & 1:
                assert out["wage_best_eq"][j] <= out["threshold_wage"][j, i] * (1 + 1e-12), (n, j, i)
        theta = np.asarray(p["externality"])
        assert not np.any(out["coop_fb"][j] & (theta == 0)), (n, j)
        assert not np.any(out["coop_best_eq"][j] & (theta == 0)), (n, j)


def test_regime_two_iff_s0_plus_i_is_an_equilibrium(kern, blocks, got):
    """regime 2 <=> g_i(1) >= 0 <=> S0 + {i} is a stable equilibrium."""
    for n, j, p in _points(blocks):
        masks = set(int(m) for m in kern.equilibrium_masks(**p))
        z = _s0_mask(p)
        for i in _nontrivial(p):
            is_eq = (z | (1 << i)) in masks
            assert (int(got[n]["regime"][j, i]) == 2) == is_eq, (n, j, i)


def test_ge_path_single_peaked_or_increasing(kern, blocks, got):
    """MODEL.md: on the test points g_i is single-peaked or increasing:
    once it falls, it never rises again; g_i(0) = -(1 - sigma_i) c_i < 0."""
    s = np.linspace(0.0, 1.0, 1001)
    checked = 0
    for n, j, p in _points(blocks):
        for i in _nontrivial(p):
            g = np.asarray(kern.ge_path(**p, sector=i, s=s), dtype=float)
            pc = (1 - p["cost_subsidy"][i]) * p["cost"][i]
            assert g[0] == pytest.approx(-pc, rel=1e-12), (n, j, i)
            d = np.diff(g)
            noise = 1e-12 * (np.abs(g).max() + pc)
            falling = np.nonzero(d < -noise)[0]
            if falling.size:
                assert not np.any(d[falling[0]:] > noise), (n, j, i)
            checked += 1
    assert checked > 100


def test_targets_are_argmaxes(blocks, got):
    for n, j, p in _points(blocks):
        out = got[n]
        gain = out["gain_coordinate"][j]
        assert int(out["target_cluster"][j]) == int(np.argmax(p["externality"]))
        assert int(out["target_best"][j]) == int(np.argmax(gain))
        for t, g in (("target_ca", "gain_ca"), ("target_cluster", "gain_cluster"),
                     ("target_best", "gain_best")):
            assert out[g][j] == gain[int(out[t][j])]


# --------------------------------------------------------------------------
# independence from the block
# --------------------------------------------------------------------------
def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_block_independence(kern, blocks, got, n):
    pts = blocks[n]
    block = got[n]
    # one point at a time, as a block of one and through solve_point
    for j, p in enumerate(pts):
        one = kern.solve(**stack([p]))
        single = kern.solve_point(**p)
        for name, arr in block.items():
            assert _same(np.asarray(one[name])[0], arr[j]), (name, j)
            assert _same(single[name], arr[j]), (name, j)
    # a permuted block gives the permuted outputs
    perm = np.random.default_rng(1).permutation(len(pts))
    shuffled = kern.solve(**stack([pts[k] for k in perm]))
    for name, arr in block.items():
        assert _same(shuffled[name], arr[perm]), name
    # and a sub-block (odd points only) gives the same rows
    sub = kern.solve(**stack(pts[1::2]))
    for name, arr in block.items():
        assert _same(sub[name], arr[1::2]), name
