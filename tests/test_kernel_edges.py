"""Edge cases of the kernels found in review: labour shares near 0 and 1
(huge eps: (1 + theta)^eps overflows a float), and MODEL.md's tie rules
among identical sectors (sums over them in another order differ in the last
bits). Expected values are derived in the test from the one-sector closed
form, in logs so that nothing overflows."""
import math

import numpy as np
import pytest

from coordsweep import kernels
from coordsweep.kernels.codes import (COORDINATION_FAILURE, NON_FINITE, PARTIAL_COORDINATION)


def _one_sector_g_log(alpha, theta, c):
    """One sector, p = a = L = 1, sigma = 0, eta = 0 (MODEL.md closed forms):
    X(s) = m(s), R = (1 - alpha) X^-alpha, g(s) = R ((1 + theta s)^eps - 1) - c.
    Returns g as a function of s computed in logs."""
    eps = 1.0 / (1.0 - alpha)

    def g(s):
        a = eps * math.log1p(theta * s)             # log (1 + theta s)^eps
        if a == 0.0:
            return -c
        log_e = a + math.log1p(-math.exp(-a))       # log((1+theta s)^eps - 1)
        log_m = a + math.log(s + (1 - s) * math.exp(-a))
        return math.exp(math.log(1 - alpha) - alpha * log_m + log_e) - c
    return g


def _bisect(f, lo, hi):
    flo = f(lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if (fm >= 0) == (flo >= 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("alpha, theta, c", [
    (0.999, 2.0, 0.1),    # (1 + theta)^eps = 3^1000 overflows
    (0.998, 4.0, 0.1),
    (0.999, 1.05, 0.1),   # not +inf threshold and critical_mass 1
])
def test_labour_share_near_one_partial_coordination(alpha, theta, c):
    g = _one_sector_g_log(alpha, theta, c)
    assert g(1.0) < 0
    s_grid = np.linspace(1e-6, 1, 20001)
    vals = np.array([g(s) for s in s_grid])
    k = int(np.argmax(vals))
    assert vals[k] > 0  # partial coordination: an interior hump above 0
    cm = _bisect(g, 0.0, s_grid[k])
    ps = _bisect(lambda s: -g(s), s_grid[k], 1.0)
    r = kernels.solve_point(1.0, alpha, [1.0], [1.0], [theta], [c])
    assert r["status"] == 0
    assert r["regime"][0] == PARTIAL_COORDINATION
    assert r["n_equilibria"] == 1
    assert r["critical_mass"][0] == pytest.approx(cm, rel=1e-9)
    assert r["partial_share"][0] == pytest.approx(ps, rel=1e-9)
    # w-bar in logs: (alpha/(1-alpha)) log(wbar/alpha) = log((1-alpha)(M-1)/c)
    eps = 1 / (1 - alpha)
    a = eps * math.log1p(theta)
    log_wbar = math.log(alpha) + (1 - alpha) / alpha * (
        math.log(1 - alpha) + a + math.log1p(-math.exp(-a)) - math.log(c))
    assert math.log(r["threshold_wage"][0]) == pytest.approx(log_wbar, rel=1e-12)


def test_labour_share_near_one_coordination_failure():
    """alpha = 0.995, theta = 35: (1 + theta)^eps = 36^200 is finite only in
    logs; S0 + {i} is an equilibrium (g(1) >= 0) and the critical mass is the
    first zero of g, far below 1."""
    alpha, theta, c = 0.995, 35.0, 0.1
    g = _one_sector_g_log(alpha, theta, c)
    assert g(1.0) >= 0
    cm = _bisect(g, 0.0, 1.0)
    r = kernels.solve_point(1.0, alpha, [1.0], [1.0], [theta], [c])
    assert r["status"] == 0
    assert r["regime"][0] == COORDINATION_FAILURE
    assert r["critical_mass"][0] == pytest.approx(cm, rel=1e-9)
    assert np.isfinite(r["threshold_wage"][0])


def test_tiny_labour_share_does_not_crash():
    """eps rounds to 1 when alpha < 1e-16; the threshold wage's exponent
    (1-alpha)/alpha then overflows: flagged NON_FINITE, not a crash or a
    silent inf."""
    r = kernels.solve_point(1.0, 1e-300, [1, 1], [1.2, 1.0], [0.3, 0.8], [0.15, 0.15])
    assert r["status"] & NON_FINITE
    assert np.isfinite(r["welfare_nc"]) and r["n_equilibria"] >= 1
    r = kernels.solve_point(1.0, 0.3, [1, 1], [1.2, 1.0], [0.3, 0.8], [0.15, 0.15])
    assert r["status"] == 0


@pytest.mark.parametrize("alpha, a, theta, c", [
    (0.48, 0.51, 0.85, 0.09),
    (0.32, 1.27, 0.52, 0.46),
    (0.6, 1.0, 0.5, 0.05),
])
@pytest.mark.parametrize("n", [3, 4, 5])
def test_identical_sectors_follow_the_tie_rules(alpha, a, theta, c, n):
    """n identical sectors: every gain is the same, so target_best is sector 0
    (ties to the lower index); the best equilibrium, among profiles of equal
    welfare, takes the fewest sectors and then the lowest bitmask, i.e. the
    first k sectors; likewise the first best."""
    r = kernels.solve_point(1.0, alpha, [1.0] * n, [a] * n, [theta] * n, [c] * n)
    assert r["status"] == 0
    assert r["target_best"] == 0 and r["target_ca"] == 0 and r["target_cluster"] == 0
    for name in ("coop_best_eq", "coop_fb"):
        coop = r[name]
        k = int(coop.sum())
        assert coop.tolist() == [True] * k + [False] * (n - k), (name, coop)
    assert r["provision_gap"] >= 0 and r["coordination_gap"] >= 0


def _dense_crossings(g, n=200_001):
    """All sign changes of g on a fine grid of (0, 1], refined by bisection."""
    s = np.linspace(1e-9, 1.0, n)
    vals = np.array([g(x) for x in s])
    nonneg = vals >= 0
    idx = np.flatnonzero(nonneg[1:] != nonneg[:-1])
    return [_bisect(g, s[k], s[k + 1]) for k in idx], vals


@pytest.mark.parametrize("c, regime", [(2.40, COORDINATION_FAILURE),
                                       (2.475, PARTIAL_COORDINATION)])
def test_path_that_rises_again_is_flagged_and_still_solved(c, regime):
    """For large theta at a high labour share, g_i is not single-peaked (the
    claim in MODEL.md holds on its sampled ranges only): one sector, alpha =
    0.82, theta = 12.7, p = a = L = 1, has g + c = (1-alpha) m^-alpha E with a
    hump near s = 0.11 (2.488), a dip near s = 0.36 (2.318) and 2.466 at s = 1.
    c = 2.40: g crosses 0 up, down, up again: regime 2, and the critical
    mass is the *first* crossing. c = 2.475: g(1) < 0 but the hump is above
    0: regime 3, partial share = the crossing back down after the hump.
    The kernels set PATH_SHAPE and solve from dense samples."""
    from coordsweep.kernels.codes import PATH_SHAPE
    alpha, theta = 0.82, 12.7
    g = _one_sector_g_log(alpha, theta, c)
    crossings, vals = _dense_crossings(g)
    r = kernels.solve_point(1.0, alpha, [1.0], [1.0], [theta], [c])
    assert r["status"] == PATH_SHAPE
    assert r["regime"][0] == regime
    assert r["critical_mass"][0] == pytest.approx(crossings[0], rel=1e-9)
    if regime == COORDINATION_FAILURE:
        assert len(crossings) == 3 and vals[-1] >= 0
        assert np.isnan(r["partial_share"][0])
    else:
        assert len(crossings) == 2 and vals[-1] < 0
        assert r["partial_share"][0] == pytest.approx(crossings[1], rel=1e-9)


def test_tie_tolerance_does_not_swallow_a_real_gain():
    """A spontaneous sector (sigma = 1) with a huge real cost c0 = 1e12 makes
    |W| ~ 1e12; coordinating sector 1 still gains ~0.87, far above rounding
    (one ulp of 1e12 is 1e-4), so it is no tie. eta = tau = 0, L = 1:
    W(S) = X(S)^(1-alpha) - sum_{i in S} c_i, X = sum (p a)^eps m_i."""
    alpha = 0.6
    eps = 1 / (1 - alpha)
    x0 = 1.5 ** eps + 1.2 ** eps            # S0 = {0}: m_0 = (1 + 0.5)^eps
    x1 = 1.5 ** eps + 1.2 ** eps * 2 ** eps  # S0 + {1}: m_1 = (1 + 1)^eps
    gap = x1 ** (1 - alpha) - x0 ** (1 - alpha) - 0.01
    assert gap > 0.8
    r = kernels.solve_point(1.0, alpha, [1, 1], [1.0, 1.2], [0.5, 1.0], [1e12, 0.01],
                            cost_subsidy=[1.0, 0.0])
    assert r["status"] == 0
    assert r["coop_best_eq"].tolist() == [True, True]
    assert r["target_best"] == 1
    assert r["coordination_gap"] == pytest.approx(gap, rel=1e-3)  # |W| ~ 1e12


@pytest.mark.parametrize("eta", [0.0, 0.2])
@pytest.mark.parametrize("c", [1e-12, 1e-16, 1e-18, 1e-21, 1e-25])
def test_tiny_cost_critical_mass_is_the_root_of_g(eta, c):
    """A net cost far below the wage bill puts the critical mass near
    c / g_i'(0) (1e-10 and below): the default solver's lock-step searches
    find it to 1e-9 relative however small (g_i < 0 just below it, >= 0
    just above, by the kernels' own GE path), it scales with c, and the
    point-by-point root finders of the other GE-path variants agree with
    it to CONTRACT.md's 1e-10."""
    kw = dict(labor=1.0, labor_share=0.75, price=[1.0, 1.0], productivity=[0.5, 2.0],
              externality=[1.5, 0.0], cost=[c, 0.1], scale=[eta, 0.0])
    out = kernels.solve_point(**kw)
    cm = float(out["critical_mass"][0])
    assert out["regime"][0] == COORDINATION_FAILURE and out["status"] == 0
    g = kernels.ge_path(**kw, sector=0, s=np.array([cm * (1 - 1e-9), cm * (1 + 1e-9)]))
    assert g[0] < 0.0 <= g[1], (cm, g)
    for solver in ("path=brent", "path=bisect", "path=newton"):
        other = float(kernels.solve_point(**kw, solver=solver)["critical_mass"][0])
        assert other == pytest.approx(cm, rel=1e-10), solver
    # g_i + c' is linear in s near 0: the root of a ten times smaller cost
    # is ten times smaller, to the path's curvature over that span
    kw["cost"] = [c / 10, 0.1]
    small = float(kernels.solve_point(**kw)["critical_mass"][0])
    assert small == pytest.approx(cm / 10, rel=max(1e-9, 10 * cm))
