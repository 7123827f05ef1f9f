"""The paper's policy question on a 2-sector case derived on paper:
where does target_best switch from the comparative-advantage sector to the
clustering sector?

Case (eta = tau = sigma = 0): L = 1, alpha = 1/2 (eps = 2),
sector 0: p = 2, a = 1 (z_0 = 2, the comparative advantage), theta_0 = 1/2, c_0 = 0.05;
sector 1: p = 1, a = 1 (z_1 = 1), theta_1 varies, c_1 = 0.08.

Closed forms (MODEL.md, "Known closed forms"): X(S) = sum z_i^2 m_i,
m_i = (1 + theta_i)^2 in S, W(S) = L^(1/2) X(S)^(1/2) - sum_{i in S} c_i.
No sector is spontaneous (c > 0) or inert (theta > 0), so S0 = {} and
    X({}) = 4 + 1 = 5,                W({})  = sqrt(5)
    X({0}) = 4 * 1.5^2 + 1 = 10,      W({0}) = sqrt(10) - 0.05
    X({1}) = 4 + (1 + theta_1)^2,     W({1}) = sqrt(4 + (1 + theta_1)^2) - 0.08
Both sectors are in regime coordination_failure (checked below: g_i(1) =
R_i(w({i})) ((1+theta_i)^2 - 1) - c_i with R_i = (1-alpha) z_i^2 (L/X({i}))^(1/2):
g_0(1) = 0.5*4/sqrt(10)*1.25 - 0.05 ~ 0.74 > 0, g_1(1) ~ 0.73 > 0 at theta_1*),
so gain_coordinate_i = W({i}) - W({}).  gain_1 = gain_0 <=>
    sqrt(4 + (1 + theta_1)^2) = sqrt(10) + 0.03
    theta_1* = sqrt((sqrt(10) + 0.03)^2 - 4) - 1
             = sqrt(6.0009 + 0.06 sqrt(10)) - 1 = 1.4880990051865104...
gain_1 increases with theta_1, so target_best = 0 below theta_1*, 1 above.
At theta_1 ~ 1.49 > theta_0, target_cluster = 1; V_i at S0 is z_i^2 (L/X)^(1/2),
4/sqrt(5) > 1/sqrt(5), so target_ca = 0.
"""
import math

import pytest

from reference import reference_solve

THETA1_STAR = 1.4880990051865104  # derivation in the module docstring

BASE = dict(labor=1.0, labor_share=0.5, price=[2.0, 1.0], productivity=[1.0, 1.0],
            cost=[0.05, 0.08])


def _params(theta1, theta0=0.5, cost=None):
    p = dict(BASE, externality=[theta0, theta1])
    if cost is not None:
        p["cost"] = cost
    return p


@pytest.fixture(params=["kernels", "reference"])
def solve_point(request):
    if request.param == "kernels":
        return request.getfixturevalue("kern").solve_point
    return reference_solve


def test_literal_matches_the_derivation():
    assert THETA1_STAR == pytest.approx(math.sqrt((math.sqrt(10) + 0.03) ** 2 - 4) - 1,
                                        rel=1e-15)
    w0 = math.sqrt(10) - 0.05 - math.sqrt(5)
    w1 = math.sqrt(4 + (1 + THETA1_STAR) ** 2) - 0.08 - math.sqrt(5)
    assert w1 == pytest.approx(w0, abs=1e-15)


@pytest.mark.parametrize("side,expected", [(-1, 0), (+1, 1)])
def test_target_best_switches_at_theta_star(solve_point, side, expected):
    theta1 = THETA1_STAR + side * 1e-6
    out = solve_point(**_params(theta1))
    assert [int(r) for r in out["regime"]] == [2, 2]
    assert int(out["target_ca"]) == 0
    assert int(out["target_cluster"]) == 1
    assert int(out["target_best"]) == expected
    # the gains are the closed-form W({i}) - W({})
    g0 = math.sqrt(10) - 0.05 - math.sqrt(5)
    g1 = math.sqrt(4 + (1 + theta1) ** 2) - 0.08 - math.sqrt(5)
    assert float(out["gain_coordinate"][0]) == pytest.approx(g0, rel=1e-12)
    assert float(out["gain_coordinate"][1]) == pytest.approx(g1, rel=1e-12)
    assert float(out["gain_ca"]) == pytest.approx(g0, rel=1e-12)
    assert float(out["gain_cluster"]) == pytest.approx(g1, rel=1e-12)
    assert float(out["gain_best"]) == pytest.approx(max(g0, g1), rel=1e-12)


@pytest.mark.parametrize("theta", [0.3, 0.5, 1.2])
def test_equal_theta_equal_cost_favours_comparative_advantage(solve_point, theta):
    """MODEL.md: with equal theta (and cost), the higher p_i a_i wins:
    gain_i = sqrt(5 + z_i^2 ((1+theta)^2 - 1)) - c - sqrt(5) grows with z_i.
    target_cluster ties (equal theta) go to the lower index, 0."""
    out = solve_point(**_params(theta, theta0=theta, cost=[0.05, 0.05]))
    g = [math.sqrt(5 + z ** 2 * ((1 + theta) ** 2 - 1)) - 0.05 - math.sqrt(5) for z in (2, 1)]
    assert g[0] > g[1]
    assert int(out["target_best"]) == int(out["target_ca"]) == 0
    assert int(out["target_cluster"]) == 0
    assert float(out["gain_coordinate"][0]) == pytest.approx(g[0], rel=1e-12)
    assert float(out["gain_coordinate"][1]) == pytest.approx(g[1], rel=1e-12)


def test_tie_rules_two_identical_sectors(solve_point):
    """Two identical sectors (eta = tau = sigma = 0): L = 1, alpha = 1/2,
    z_i = 1, theta_i = 1, c_i = 0.63. X({}) = 2, X({i}) = 4 + 1 = 5,
    X({0,1}) = 8; W({}) = sqrt(2) ~ 1.414, W({i}) = sqrt(5) - 0.63 ~ 1.606,
    W({0,1}) = sqrt(8) - 1.26 ~ 1.568. g_i(1) at {i}: R = 0.5/sqrt(5),
    R*3 - 0.63 ~ 0.041 >= 0 (stable); at {0,1}: R = 0.5/sqrt(8),
    R*3 - 0.63 ~ -0.10 < 0 (not stable). Equilibria {}, {0}, {1}; best
    equilibrium and first best tie between {0} and {1} -> lower bitmask {0};
    targets tie -> index 0."""
    p = dict(labor=1.0, labor_share=0.5, price=[1.0, 1.0], productivity=[1.0, 1.0],
             externality=[1.0, 1.0], cost=[0.63, 0.63])
    out = solve_point(**p)
    assert int(out["n_equilibria"]) == 3
    assert [bool(x) for x in out["coop_best_eq"]] == [True, False]
    assert [bool(x) for x in out["coop_fb"]] == [True, False]
    w1 = math.sqrt(5) - 0.63
    assert float(out["welfare_best_eq"]) == pytest.approx(w1, rel=1e-12)
    assert float(out["welfare_fb"]) == pytest.approx(w1, rel=1e-12)
    assert int(out["target_ca"]) == int(out["target_cluster"]) == int(out["target_best"]) == 0
