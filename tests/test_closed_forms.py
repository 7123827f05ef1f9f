"""MODEL.md "Known closed forms" (every eta_i = 0, tau_i = 0), derived by
hand in this file, against the kernels (and the reference) at 1e-12.

With z_i = p_i a_i and X(S) = sum_i z_i^eps m_i (m_i = (1+theta_i)^eps in S,
1 outside; for a fractional share m_i(s) = 1 - s + s (1 + theta_i s)^eps):

    w(S) = alpha (X(S)/L)^(1-alpha)
    W(S) = L^alpha X(S)^(1-alpha) - sum_{i in S} c_i
    R_i(w) = (1-alpha) z_i^eps (alpha/w)^(alpha eps)
    wbar_i = alpha [(1-alpha) z_i^eps ((1+theta_i)^eps - 1) / ((1-sigma_i) c_i)]^((1-alpha)/alpha)

Substituting w(S) into R_i: (alpha/w)^(alpha eps) = (L/X)^((1-alpha) alpha eps)
= (L/X)^alpha, so along the GE path of sector i (others at S0)

    g_i(s) = (1-alpha) z_i^eps (L/X_i(s))^alpha ((1+theta_i s)^eps - 1) - (1-sigma_i) c_i,
    X_i(s) = sum_{j != i} z_j^eps m_j(S0) + z_i^eps m_i(s).

Stable equilibria by MODEL.md's facts (1)-(2): S contains Z, no inert
sector, and w(S) <= min_{i in S \\ Z} wbar_i (the kernels and the reference
use other routes: the threshold criterion here is an independent check).
Output values at S0: V_i = z_i^eps m_i (alpha/w)^(alpha eps) = z_i^eps m_i (L/X)^alpha.
"""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from reference import reference_equilibria, reference_g, reference_solve

RTOL = 1e-12


class ClosedForm:
    """MODEL.md's closed forms, eta = tau = 0, written out by hand."""

    def __init__(self, L, alpha, p, a, theta, c, sigma=None):
        self.L, self.alpha = float(L), float(alpha)
        self.eps = 1.0 / (1.0 - alpha)
        self.z = [pi * ai for pi, ai in zip(p, a)]
        self.theta = list(theta)
        self.c = list(c)
        self.n = len(self.z)
        self.sigma = list(sigma) if sigma is not None else [0.0] * self.n
        self.inert = [t == 0 for t in self.theta]
        self.spont = [t > 0 and (1 - sg) * ci == 0
                      for t, sg, ci in zip(self.theta, self.sigma, self.c)]
        self.S0 = frozenset(i for i in range(self.n) if self.spont[i])

    def m(self, i, s):
        return 1 - s + s * (1 + self.theta[i] * s) ** self.eps

    def X(self, shares):
        return sum(self.z[i] ** self.eps * self.m(i, shares[i]) for i in range(self.n))

    def shares(self, S):
        return [1.0 if i in S else 0.0 for i in range(self.n)]

    def wage(self, S):
        return self.alpha * (self.X(self.shares(S)) / self.L) ** (1 - self.alpha)

    def W_shares(self, sh):
        return (self.L ** self.alpha * self.X(sh) ** (1 - self.alpha)
                - sum(s * ci for s, ci in zip(sh, self.c)))

    def W(self, S):
        return self.W_shares(self.shares(S))

    def R(self, i, w):
        return (1 - self.alpha) * self.z[i] ** self.eps * (self.alpha / w) ** (self.alpha * self.eps)

    def wbar(self, i):
        if self.inert[i]:
            return math.nan
        if self.spont[i]:
            return math.inf
        return self.alpha * ((1 - self.alpha) * self.z[i] ** self.eps
                             * ((1 + self.theta[i]) ** self.eps - 1)
                             / ((1 - self.sigma[i]) * self.c[i])) ** ((1 - self.alpha) / self.alpha)

    def g(self, i, s):
        sh = self.shares(self.S0)
        sh[i] = s
        return ((1 - self.alpha) * self.z[i] ** self.eps * (self.L / self.X(sh)) ** self.alpha
                * ((1 + self.theta[i] * s) ** self.eps - 1) - (1 - self.sigma[i]) * self.c[i])

    def g_scale(self, i, s):
        """size of the terms of g (for the absolute part of a tolerance)"""
        return abs(self.g(i, s) + (1 - self.sigma[i]) * self.c[i]) + (1 - self.sigma[i]) * self.c[i]

    # -- derived quantities --------------------------------------------------
    def subsets(self):
        for mask in range(1 << self.n):
            yield mask, frozenset(i for i in range(self.n) if mask >> i & 1)

    def equilibria(self):
        out = []
        for mask, S in self.subsets():
            if not self.S0 <= S or any(self.inert[i] for i in S):
                continue
            if all(self.wage(S) <= self.wbar(i) for i in S - self.S0):
                out.append(mask)
        return out

    @staticmethod
    def best(cands, W):
        return min(cands, key=lambda m: (-W[m], bin(m).count("1"), m))

    def _root(self, i, lo, hi):
        """bisection on g_i between g(lo) < 0 <= g(hi) (either order)."""
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            if self.g(i, mid) >= 0:
                hi = mid
            else:
                lo = mid
        return hi

    def path(self, i):
        """(g(1), critical mass, partial share) from a scan + bisection."""
        grid = [k / 4000 for k in range(4001)]
        vals = [self.g(i, s) for s in grid]
        pos = [k for k, v in enumerate(vals) if v >= 0]
        if not pos:
            return vals[-1], math.nan, math.nan
        cm = self._root(i, grid[pos[0] - 1], grid[pos[0]])
        if vals[-1] >= 0:
            return vals[-1], cm, math.nan
        ps = self._root(i, grid[pos[-1] + 1], grid[pos[-1]])
        return vals[-1], cm, ps

    def expected(self):
        n, S0 = self.n, self.S0
        masks = list(range(1 << n))
        W = {mask: self.W(S) for mask, S in self.subsets()}
        eqs = self.equilibria()
        s0mask = sum(1 << i for i in S0)
        beq = self.best(eqs, W)
        fb = self.best([m for m in masks if not any(self.inert[i] for i in range(n) if m >> i & 1)], W)
        regime, cm, ps, gain, subs = [], [], [], [], []
        for i in range(n):
            if self.inert[i]:
                regime.append(0), cm.append(math.nan), ps.append(math.nan)
                gain.append(0.0), subs.append(math.nan)
                continue
            if self.spont[i]:
                regime.append(1), cm.append(0.0), ps.append(math.nan)
                gain.append(0.0), subs.append(0.0)
                continue
            Si = S0 | {i}
            full = self.W(Si) - self.W(S0)
            # subsidy_needed = max(0, 1 - R_i(w(S0+i)) ((1+theta)^eps - 1) / c_i)
            subs.append(max(0.0, 1 - self.R(i, self.wage(Si)) * ((1 + self.theta[i]) ** self.eps - 1)
                            / self.c[i]) if self.c[i] > 0 else 0.0)
            g1, c_m, p_s = self.path(i)
            if g1 >= 0:
                regime.append(2), cm.append(c_m), ps.append(math.nan), gain.append(full)
            elif not math.isnan(c_m):
                sh = self.shares(S0)
                sh[i] = p_s
                regime.append(3), cm.append(c_m), ps.append(p_s)
                gain.append(self.W_shares(sh) - self.W(S0))
            else:
                regime.append(4 if full > 0 else 5), cm.append(math.nan), ps.append(math.nan)
                gain.append(full)
        X0 = self.X(self.shares(S0))
        v0 = [self.z[i] ** self.eps * self.m(i, 1.0 if i in S0 else 0.0) * (self.L / X0) ** self.alpha
              for i in range(n)]
        t_ca = int(np.argmax(v0))
        t_cl = int(np.argmax(self.theta))
        t_b = int(np.argmax(gain))
        return dict(
            wage_nc=self.wage(S0), welfare_nc=W[s0mask], n_equilibria=len(eqs),
            has_partial=3 in regime, welfare_best_eq=W[beq],
            wage_best_eq=self.wage(frozenset(i for i in range(n) if beq >> i & 1)),
            welfare_fb=W[fb], coordination_gap=W[beq] - W[s0mask], provision_gap=W[fb] - W[beq],
            target_ca=t_ca, target_cluster=t_cl, target_best=t_b,
            gain_ca=gain[t_ca], gain_cluster=gain[t_cl], gain_best=gain[t_b],
            fiscal_cost_nc=sum(self.sigma[i] * self.c[i] for i in S0), status=0,
            regime=regime, critical_mass=cm, partial_share=ps, gain_coordinate=gain,
            threshold_wage=[self.wbar(i) for i in range(n)], subsidy_needed=subs,
            coop_best_eq=[bool(beq >> i & 1) for i in range(n)],
            coop_fb=[bool(fb >> i & 1) for i in range(n)],
            _equilibria=eqs,
        )


# (name, params): eta = tau = 0 everywhere
CASES = {
    # 1 sector, alpha = 1/2 (eps = 2), z = 1, theta = 1, c = 0.1: X(0) = 1,
    # X({0}) = 4; w0 = 0.5, W0 = 1; w1 = 0.5*2 = 1, W1 = 2 - 0.1 = 1.9;
    # wbar = 0.5*(0.5*3/0.1) = 7.5 >= w1 -> {0} stable: regime 2, 2 equilibria.
    "one_failure": dict(labor=1.0, labor_share=0.5, price=[1.0], productivity=[1.0],
                        externality=[1.0], cost=[0.1]),
    # same with c = 0.9: g(1) = R(1)*3 - 0.9 = 0.25*3 - 0.9 < 0 (g increasing at
    # alpha = 1/2), W1 - W0 = 2 - 0.9 - 1 = 0.1 > 0 -> needs_subsidy,
    # subsidy_needed = 1 - 0.75/0.9 = 1/6, wbar = 0.5*1.5/0.9 = 5/6.
    "one_needs_subsidy": dict(labor=1.0, labor_share=0.5, price=[1.0], productivity=[1.0],
                              externality=[1.0], cost=[0.9]),
    # c = 1.2: W1 - W0 = -0.2 -> not_worth, subsidy_needed = 1 - 0.75/1.2 = 0.375
    "one_not_worth": dict(labor=1.0, labor_share=0.5, price=[1.0], productivity=[1.0],
                          externality=[1.0], cost=[1.2]),
    # the partial-coordination point of MODEL.md (alpha = 0.8, theta = 1)
    "one_partial": dict(labor=1.0, labor_share=0.8, price=[1.0], productivity=[1.0],
                        externality=[1.0], cost=[0.39]),
    "one_spontaneous": dict(labor=2.0, labor_share=0.6, price=[1.3], productivity=[0.9],
                            externality=[0.7], cost=[0.0]),
    "one_inert": dict(labor=1.5, labor_share=0.6, price=[1.3], productivity=[0.9],
                      externality=[0.0], cost=[0.2]),
    "one_failure_high_alpha": dict(labor=0.7, labor_share=0.75, price=[2.0], productivity=[0.6],
                                   externality=[1.7], cost=[0.05]),
    "two_spont_and_failure": dict(labor=1.0, labor_share=0.6, price=[1.0, 0.8],
                                  productivity=[1.2, 1.1], externality=[0.4, 1.2],
                                  cost=[0.0, 0.08]),
    # sigma_0 = 1/2: {0} and {1} are stable, {0, 1} is not (w({0,1}) ~ 1.052
    # > wbar_0 ~ 1.005, wbar_1 ~ 0.917); coordinating 0 loses welfare.
    "two_with_sigma": dict(labor=1.3, labor_share=0.45, price=[1.0, 1.4],
                           productivity=[1.1, 0.7], externality=[0.9, 0.6],
                           cost=[1.5, 0.4], cost_subsidy=[0.5, 0.0]),
    "three_inert_spont_failure": dict(labor=1.0, labor_share=0.5, price=[1.0, 1.2, 0.7],
                                      productivity=[1.0, 0.9, 1.5], externality=[0.0, 0.8, 1.1],
                                      cost=[0.2, 0.3, 0.05], cost_subsidy=[0.0, 1.0, 0.0]),
    # wbar ~ (1.128, 1.628, 1.778); w({0,1}) ~ 1.342 > wbar_0: 5 equilibria
    "three_nontrivial": dict(labor=1.0, labor_share=0.4, price=[1.0, 1.1, 0.9],
                             productivity=[1.0, 1.0, 1.2], externality=[0.8, 1.0, 0.6],
                             cost=[0.5, 0.6, 0.3]),
}

POINT_FLOAT = ("wage_nc", "welfare_nc", "welfare_best_eq", "wage_best_eq", "welfare_fb",
               "coordination_gap", "provision_gap", "gain_ca", "gain_cluster", "gain_best",
               "fiscal_cost_nc")
POINT_EXACT = ("n_equilibria", "has_partial", "target_ca", "target_cluster", "target_best", "status")
SECTOR_FLOAT = ("critical_mass", "partial_share", "gain_coordinate", "threshold_wage",
                "subsidy_needed")
SECTOR_EXACT = ("regime", "coop_best_eq", "coop_fb")


@pytest.fixture(params=["kernels", "reference"])
def impl(request):
    if request.param == "kernels":
        k = request.getfixturevalue("kern")
        return SimpleNamespace(solve_point=k.solve_point, ge_path=k.ge_path,
                               equilibrium_masks=k.equilibrium_masks)
    return SimpleNamespace(solve_point=reference_solve, ge_path=reference_g,
                           equilibrium_masks=reference_equilibria)


def _cf(params):
    return ClosedForm(params["labor"], params["labor_share"], params["price"],
                      params["productivity"], params["externality"], params["cost"],
                      params.get("cost_subsidy"))


def _close(got, want, rtol=RTOL, atol=1e-15):
    got, want = float(got), float(want)
    if math.isnan(want) or math.isinf(want):
        return (math.isnan(got) and math.isnan(want)) or got == want
    return abs(got - want) <= rtol * abs(want) + atol


def test_anchor_literals():
    """The closed-form helper reproduces the numbers worked out on paper in
    the CASES comments (guards the helper itself)."""
    e = _cf(CASES["one_failure"]).expected()
    assert e["wage_nc"] == pytest.approx(0.5, rel=1e-15)
    assert e["welfare_nc"] == pytest.approx(1.0, rel=1e-15)
    assert e["wage_best_eq"] == pytest.approx(1.0, rel=1e-15)
    assert e["welfare_best_eq"] == pytest.approx(1.9, rel=1e-15)
    assert e["threshold_wage"][0] == pytest.approx(7.5, rel=1e-14)
    assert e["regime"] == [2] and e["n_equilibria"] == 2 and e["subsidy_needed"] == [0.0]
    e = _cf(CASES["one_needs_subsidy"]).expected()
    assert e["regime"] == [4]
    assert e["gain_coordinate"][0] == pytest.approx(0.1, rel=1e-13)
    assert e["subsidy_needed"][0] == pytest.approx(1 / 6, rel=1e-14)
    assert e["threshold_wage"][0] == pytest.approx(5 / 6, rel=1e-14)
    e = _cf(CASES["one_not_worth"]).expected()
    assert e["regime"] == [5]
    assert e["gain_coordinate"][0] == pytest.approx(-0.2, rel=1e-13)
    assert e["subsidy_needed"][0] == pytest.approx(0.375, rel=1e-14)
    e = _cf(CASES["one_partial"]).expected()
    assert e["regime"] == [3] and e["has_partial"]
    # g(1) = 0.2 * 32^-0.8 * 31 - 0.39 = 0.2*31/16 - 0.39 = -0.0025
    assert _cf(CASES["one_partial"]).g(0, 1.0) == pytest.approx(-0.0025, abs=1e-15)


def test_cases_cover_regimes_and_structure():
    regs = set()
    for params in CASES.values():
        regs |= set(_cf(params).expected()["regime"])
    assert regs == {0, 1, 2, 3, 4, 5}
    e = _cf(CASES["three_nontrivial"]).expected()
    # several equilibria but not every subset: the enumeration matters
    assert 2 < e["n_equilibria"] < 8
    assert e["_equilibria"] == [0, 1, 2, 4, 6]
    e = _cf(CASES["two_with_sigma"]).expected()
    assert e["_equilibria"] == [0, 1, 2]
    assert e["gain_coordinate"][0] < 0 and e["regime"][0] == 2


@pytest.mark.parametrize("case", sorted(CASES))
def test_closed_form_outputs(impl, case):
    params = CASES[case]
    want = _cf(params).expected()
    got = impl.solve_point(**params)
    bad = []
    for k in POINT_FLOAT:
        if not _close(got[k], want[k]):
            bad.append((k, float(got[k]), want[k]))
    for k in POINT_EXACT:
        if int(got[k]) != int(want[k]):
            bad.append((k, got[k], want[k]))
    for k in SECTOR_FLOAT:
        for i, (g, w) in enumerate(zip(np.asarray(got[k]), want[k])):
            if not _close(g, w):
                bad.append((k, i, float(g), w))
    for k in SECTOR_EXACT:
        if [int(x) for x in np.asarray(got[k])] != [int(x) for x in want[k]]:
            bad.append((k, list(np.asarray(got[k])), want[k]))
    assert not bad, bad


@pytest.mark.parametrize("case", sorted(CASES))
def test_closed_form_equilibria(impl, case):
    params = CASES[case]
    want = _cf(params).expected()["_equilibria"]
    assert [int(m) for m in impl.equilibrium_masks(**params)] == want


@pytest.mark.parametrize("case", sorted(CASES))
def test_closed_form_rent_on_path(impl, case):
    """g_i(s) = R_i(w_i(s)) ((1+theta s)^eps - 1) - (1-sigma) c: checks R_i
    and the wage along the GE path against the closed forms."""
    params = CASES[case]
    cf = _cf(params)
    s = np.linspace(0.0, 1.0, 41)
    for i in range(cf.n):
        if cf.spont[i]:
            continue  # MODEL.md defines g_i for non-spontaneous sectors; see below
        got = np.asarray(impl.ge_path(**params, sector=i, s=s), dtype=float)
        want = np.array([cf.g(i, x) for x in s])
        scale = np.array([cf.g_scale(i, x) for x in s])
        assert np.all(np.abs(got - want) <= RTOL * scale + 1e-15), (i, got, want)


@pytest.mark.parametrize("theta,c,alpha", [(1.0, 0.1, 0.5), (0.5, 0.02, 0.3),
                                           (1.0, 0.39, 0.8), (1.7, 0.05, 0.75),
                                           (0.3, 0.004, 0.6)])
def test_one_sector_critical_mass_equation(impl, theta, c, alpha):
    """One sector, sigma = 0: critical mass solves
    (1 + theta s)^eps = 1 + c / R(w(s)), X(s) = z^eps m(s) (MODEL.md)."""
    L, p, a = 1.3, 1.1, 0.8
    eps = 1 / (1 - alpha)
    z = p * a

    def F(s):
        m = 1 - s + s * (1 + theta * s) ** eps
        w = alpha * (z ** eps * m / L) ** (1 - alpha)
        R = (1 - alpha) * z ** eps * (alpha / w) ** (alpha * eps)
        return (1 + theta * s) ** eps - 1 - c / R

    grid = np.linspace(0, 1, 2001)
    vals = np.array([F(s) for s in grid])
    k = int(np.nonzero(vals >= 0)[0][0])
    lo, hi = grid[k - 1], grid[k]
    while True:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if F(mid) >= 0 else (mid, hi)
    got = impl.solve_point(labor=L, labor_share=alpha, price=[p], productivity=[a],
                           externality=[theta], cost=[c])
    assert int(got["regime"][0]) in (2, 3)
    assert _close(got["critical_mass"][0], hi), (float(got["critical_mass"][0]), hi)


@pytest.mark.parametrize("case", sorted(c for c in CASES if any(_cf(CASES[c]).spont)))
def test_ge_path_of_spontaneous_sector(impl, case):
    """ge_path for a spontaneous sector i (MODEL.md defines g_i only for the
    others, but the API's 'sector i at share s, others at S0' is still well
    defined): the wage must clear the labour market with sector i at s, i.e.
    X_i(s) = sum_{j != i} z_j^eps m_j(S0) + z_i^eps m_i(s), and g_i(s) =
    R_i(w_i(s)) ((1 + theta_i s)^eps - 1) (its private cost is 0). At s = 1
    this is R_i(w(S0)) ((1+theta_i)^eps - 1), the gain at S0 itself."""
    params = CASES[case]
    cf = _cf(params)
    s = np.linspace(0.0, 1.0, 41)
    for i in range(cf.n):
        if not cf.spont[i]:
            continue
        got = np.asarray(impl.ge_path(**params, sector=i, s=s), dtype=float)
        want = np.array([cf.g(i, x) for x in s])
        assert want[-1] == pytest.approx(
            cf.R(i, cf.wage(cf.S0)) * ((1 + cf.theta[i]) ** cf.eps - 1), rel=1e-13)
        scale = np.array([cf.g_scale(i, x) for x in s])
        assert np.all(np.abs(got - want) <= RTOL * scale + 1e-15), (i, got, want)
