"""kernels/many.py: the meet-in-the-middle equilibrium count and the
branch-and-bound best equilibrium / first best, against brute force.

Brute force here: the independent oracle (tests/reference.py: every
profile, Delta_i checked directly) for small N, and for N up to 16 every
subset of the candidates tested with the equilibrium criterion, and every
profile's welfare maximised, on the kernels' own wage and welfare
functions (so that ties and rounding are decided the same way)."""
import numpy as np
import pytest

from reference import random_point, reference_equilibria

from coordsweep.kernels import economy as E
from coordsweep.kernels import equilibria as Q
from coordsweep.kernels import many as M
from coordsweep.kernels.api import _one_point, point_workspace


def close(a, b):
    """Floats of the branch and bound against the enumeration's: equal,
    or (some eta_i > 0 beyond the profile table: the search starts each
    wage root from its parent's wage, economy.log_wage_from) within a few
    ulps."""
    return a == b or abs(a - b) <= 1e-14 * max(abs(a), abs(b), 1.0)


def workspace(pt):
    n = len(pt["price"])
    x = _one_point(pt)
    ws, ok = point_workspace(x)
    assert ok
    kind = ws.sec["kind"]
    zmask = np.int64(sum(1 << i for i in range(n) if kind[i] == E.KIND_SPONT))
    cand = np.array([i for i in range(n) if kind[i] == E.KIND_CAND], np.int64)
    active = np.array([i for i in range(n) if kind[i] != E.KIND_INERT], np.int64)
    return ws, zmask, cand, active


def no_record_stack(ncand):
    """enumerate_equilibria's record (none kept), stack and stackx."""
    return (np.empty(0, np.int64), np.empty((2, ncand + 1), np.int64),
            np.empty(ncand + 1))


def dense_point(rng, n, eta, identical=False):
    """Many sectors, costs spread so that anything from a handful to
    nearly all 2^N sets are equilibria; some inert, some spontaneous."""
    alpha = rng.uniform(0.5, 0.75)
    theta = rng.uniform(0.2, 0.8, n)
    cost = rng.uniform(0.5, 1.5, n) * 10 ** rng.uniform(-3.0, -1.0)
    prod = rng.uniform(0.9, 1.1, n)
    if identical:  # equal sectors: sums tie, the rounding band is exercised
        theta[:] = theta[0]
        cost[:] = cost[0]
        prod[:] = 1.0
    else:
        theta[rng.random(n) < 0.1] = 0.0
        cost[rng.random(n) < 0.1] = 0.0
    return dict(labor=1.0, labor_share=alpha, price=np.ones(n), productivity=prod,
                externality=theta, cost=cost,
                scale=(rng.uniform(0.0, 0.5, n) * (1 - alpha)) if eta else np.zeros(n),
                subsidy=np.zeros(n), cost_subsidy=np.zeros(n))


def brute(ws, zmask, cand, active):
    """Count by testing every subset; best equilibrium and first best by
    trying every profile (MODEL.md's order, kernel tie rule)."""
    count = 0
    best = (zmask, *E.binary_welfare(ws, zmask)[::-1])
    for code in range(1 << len(cand)):
        mask = int(zmask)
        bound = np.inf
        for b, i in enumerate(cand):
            if code >> b & 1:
                mask |= 1 << int(i)
                bound = min(bound, ws.sec["xbar"][i])
        if E.binary_log_wage(ws, np.int64(mask)) <= bound or code == 0:
            count += 1
            x, w = E.binary_welfare(ws, np.int64(mask))
            if Q.better(w, bin(mask).count("1"), mask, best[1], bin(int(best[0])).count("1"),
                         best[0]):
                best = (mask, w, x)
    fb_mask, fb_w = Q.first_best(ws, active, len(active))
    return count, best, (fb_mask, fb_w)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 11])
@pytest.mark.parametrize("eta", [False, True])
def test_many_against_brute_force(n, eta):
    rng = np.random.default_rng(100 * n + eta)
    for trial in range(12):
        pt = dense_point(rng, n, eta, identical=trial % 4 == 3)
        ws, zmask, cand, active = workspace(pt)
        count, best, fb = brute(ws, zmask, cand, active)
        assert M.count_equilibria(ws, zmask, cand, len(cand)) == count
        ok, m, w, x = M.best_equilibrium_bb(ws, zmask, cand, len(cand))
        assert ok and m == best[0] and close(w, best[1]) and close(x, best[2])
        ok, fm, fw = M.first_best_bb(ws, active, len(active))
        assert ok and fm == fb[0] and close(fw, fb[1])


@pytest.mark.parametrize("n", [14, 16])
@pytest.mark.parametrize("eta", [False, True])
def test_many_against_enumeration_n16(n, eta):
    """N up to 16: against the kernel's pruned enumeration (itself checked
    against brute force above and in test_reference_agreement) and the
    brute-force first best over all 2^N profiles."""
    rng = np.random.default_rng(7 + n + eta)
    seen_many = False
    for trial in range(3):
        pt = dense_point(rng, n, eta, identical=trial == 2)
        ws, zmask, cand, active = workspace(pt)
        count, bm, bw, bx, _ = Q.enumerate_equilibria(ws, zmask, cand, len(cand),
                                                      *no_record_stack(len(cand)))
        seen_many |= count > 1000
        assert M.count_equilibria(ws, zmask, cand, len(cand)) == count
        _, m, w, x = M.best_equilibrium_bb(ws, zmask, cand, len(cand))
        assert m == bm and close(w, bw) and close(x, bx)
        fm, fw = Q.first_best(ws, active, len(active))
        _, m, w = M.first_best_bb(ws, active, len(active))
        assert m == fm and close(w, fw)
    assert seen_many  # the draws do exercise large equilibrium families


@pytest.mark.parametrize("n", [2, 4, 6])
def test_count_matches_independent_oracle(n):
    """The count equals the number of sets the reference oracle (MODEL.md's
    Delta_i checked directly, every profile) finds stable."""
    rng = np.random.default_rng(n)
    for _ in range(3):
        pt = random_point(rng, n)
        full = {k: pt.get(k) for k in ("labor", "labor_share", "price", "productivity",
                                       "externality", "cost", "scale", "subsidy",
                                       "cost_subsidy")}
        for k in ("scale", "subsidy", "cost_subsidy"):
            if full[k] is None:
                full[k] = np.zeros(n)
        full = {k: (np.asarray(v, float) if k not in ("labor", "labor_share") else float(v))
                for k, v in full.items()}
        ws, zmask, cand, _ = workspace(full)
        assert M.count_equilibria(ws, zmask, cand, len(cand)) == len(
            reference_equilibria(**full))


def test_branch_and_bound_declines_with_subsidies():
    """W is valued at world prices: with tau != 0 the bounds do not hold,
    and the functions say so instead of answering."""
    rng = np.random.default_rng(3)
    pt = dense_point(rng, 6, False)
    pt["subsidy"] = np.full(6, 0.1)
    ws, zmask, cand, active = workspace(pt)
    assert not M.best_equilibrium_bb(ws, zmask, cand, len(cand))[0]
    assert not M.first_best_bb(ws, active, len(active))[0]
    # the count needs no tau = 0
    count = Q.enumerate_equilibria(ws, zmask, cand, len(cand), *no_record_stack(len(cand)))[0]
    assert M.count_equilibria(ws, zmask, cand, len(cand)) == count


def test_node_bound_holds_with_eta():
    """The branch-and-bound's upper bound with some eta_i > 0 is above the
    welfare of every superset it covers: W(S u T) for every T within the
    rest, on the kernels' own welfare (sectors with eta_i = 0 and eta_i
    near its bound mixed, so that the k_i differ most)."""
    rng = np.random.default_rng(11)
    n = 7
    for trial in range(30):
        pt = dense_point(rng, n, True)
        alpha = pt["labor_share"]
        pt["scale"] = (1 - alpha) * np.where(rng.random(n) < 0.4, 0.0,
                                             rng.uniform(0.0, 0.95, n))
        pt["cost"] = pt["cost"] * 10 ** rng.uniform(-1, 1, n)
        ws, _, _, active = workspace(pt)
        rest_all = np.array(active, np.int64)
        for _ in range(5):
            mask = np.int64(sum(1 << int(i) for i in rest_all if rng.random() < 0.3))
            rest = np.array([i for i in rest_all if not mask >> int(i) & 1], np.int64)
            x, w = E.binary_welfare(ws, mask)
            csum = sum(ws.sec["cost"][i] for i in range(n) if mask >> i & 1)
            gain = np.empty(n)
            M._gain_factors(ws, gain)
            ub = M._node_bound(ws, mask, csum, w, x, rest, len(rest), np.inf, False, gain)
            best = max(E.binary_welfare(ws, np.int64(
                int(mask) | sum(1 << int(j) for b, j in enumerate(rest) if code >> b & 1)))[1]
                for code in range(1 << len(rest)))
            assert best <= ub + 1e-12 * abs(ub), (trial, best, ub)


def test_first_best_bb_n20_eta():
    """N = 20 with every eta_i > 0: the branch and bound's first best is
    the best of all 2^20 profiles (kernels/equilibria.py first_best)."""
    rng = np.random.default_rng(20)
    for trial in range(2):
        pt = dense_point(rng, 20, True)
        pt["scale"] = (1 - pt["labor_share"]) * rng.uniform(0.05, 0.9, 20)
        ws, _, _, active = workspace(pt)
        _, m, w = M.first_best_bb(ws, active, len(active))
        fm, fw = Q.first_best(ws, active, len(active))
        assert m == fm and close(w, fw)
