"""Slow, independent reference implementation of MODEL.md (test oracle).

Pure Python + numpy, no numba, written from MODEL.md's definitions only
(not from the kernels). One parameter point at a time.

Deliberately *not* using the model's shortcuts:

* the labour-market clearing wage is found by plain bisection in log w on
  sum_i L_i(w) = L, with L_i from MODEL.md's sector labour demand (valid for
  any eta), never the eta = 0 closed form;
* stable equilibria are found by enumerating all 2^N profiles and checking
  Delta_i(1, w(S)) >= 0 directly for every i in S \\ Z (plus Z subset of S,
  no inert sector in S), never with the threshold-wage criterion;
* the first best is a brute-force maximum of W over {0,1}^N (inert at 0);
* threshold wages solve Delta_i(1, w) = 0 by bisection in log w;
* critical_mass / partial_share come from a dense scan of g_i(s) on a fine
  grid of s in (0, 1] followed by bisection refinement; a grid maximum just
  below 0 is refined by a golden-section search so that a narrow positive
  hump between grid points is not missed;
* output values V_i, welfare W and fiscal cost F from the firm-level
  definitions (labour demand l = (alpha q A / w)^eps of every firm).

Public API:
    reference_solve(labor, labor_share, price, productivity, externality,
                    cost, scale=None, subsidy=None, cost_subsidy=None) -> dict
    reference_equilibria(<same args>) -> sorted list of int bitmasks
    reference_g(<same args>, *, sector, s) -> numpy array g_sector(s)
    random_point(rng, n_sectors, ...) -> dict of parameters (test draws)
"""
import math

import numpy as np

# Regime codes, MODEL.md "Coordination-failure conditions" (order of the
# list there).  tests check they agree with kernels/codes.py.
INERT = 0
SPONTANEOUS = 1
COORDINATION_FAILURE = 2
PARTIAL_COORDINATION = 3
NEEDS_SUBSIDY = 4
NOT_WORTH = 5

#: grid points of s in (0, 1] for the dense scan of g_i(s)
N_GRID = 500
#: bisection tolerance in log w (absolute) -> wage to ~1e-16 relative
_LOGW_TOL = 1e-16
_MAX_BISECT = 200


# ----------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------
class _Point:
    """One parameter point, validated against MODEL.md's domains."""

    def __init__(self, labor, labor_share, price, productivity, externality,
                 cost, scale=None, subsidy=None, cost_subsidy=None):
        self.L = float(labor)
        self.alpha = float(labor_share)
        p = np.atleast_1d(np.asarray(price, dtype=float)).copy()
        n = p.shape[0]

        def vec(x, default):
            if x is None:
                return np.full(n, default, dtype=float)
            v = np.atleast_1d(np.asarray(x, dtype=float)).copy()
            if v.shape != (n,):
                raise ValueError("sector parameter has the wrong length")
            return v

        self.p = p
        self.a = vec(productivity, None)
        self.theta = vec(externality, None)
        self.c = vec(cost, None)
        self.eta = vec(scale, 0.0)
        self.tau = vec(subsidy, 0.0)
        self.sigma = vec(cost_subsidy, 0.0)
        self.N = n
        if not (1 <= n <= 24):
            raise ValueError("N out of range")
        if not (self.L > 0):
            raise ValueError(f"labor must be > 0, got {self.L}")
        if not (0 < self.alpha < 1):
            raise ValueError(f"labor_share must be in (0,1), got {self.alpha}")
        for name, v, ok in (
            ("price", self.p, self.p > 0),
            ("productivity", self.a, self.a > 0),
            ("externality", self.theta, self.theta >= 0),
            ("cost", self.c, self.c >= 0),
            ("scale", self.eta, (self.eta >= 0) & (self.eta < 1 - self.alpha)),
            ("subsidy", self.tau, self.tau > -1),
            ("cost_subsidy", self.sigma, (self.sigma >= 0) & (self.sigma <= 1)),
        ):
            bad = np.nonzero(~ok)[0]
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{name}[{i}] = {v[i]} outside its domain")

        self.eps = 1.0 / (1.0 - self.alpha)
        # producer price q_i = p_i (1 + tau_i)
        self.q = self.p * (1.0 + self.tau)
        # private cost of cooperating for a firm
        self.private_cost = (1.0 - self.sigma) * self.c
        self.inert = self.theta == 0.0
        self.spont = (self.theta > 0.0) & (self.private_cost == 0.0)
        self.z_mask = sum(1 << i for i in range(n) if self.spont[i])
        self.inert_mask = sum(1 << i for i in range(n) if self.inert[i])
        # the no-coordination equilibrium S0 = Z as a share vector
        self.s0 = self.spont.astype(float)
        # log L_i = (eps (log(alpha q_i a_i) - log w) + log m_i) / (1 - eps eta_i)
        self._den = 1.0 - self.eps * self.eta
        self._base = self.eps * np.log(self.alpha * self.q * self.a) / self._den
        self._slope = self.eps / self._den

    # --- cooperation multiplier m_i(s) = (1 - s) + s (1 + theta_i s)^eps
    def multiplier(self, s, theta):
        return (1.0 - s) + s * (1.0 + theta * s) ** self.eps

    def log_m_matrix(self, shares):
        """log m_i(s_i) for a (K, N) matrix of shares."""
        return np.log(self.multiplier(shares, self.theta[None, :]))

    # --- labour-market clearing, vectorised over K profiles -------------
    def log_sector_labor(self, logw, logm):
        """log L_i at log-wage logw (K,) and log m (K, N): MODEL.md's
        L_i = [(alpha q_i a_i / w)^eps m_i]^(1/(1 - eps eta_i))."""
        return (self._base[None, :] + logm / self._den[None, :]
                - self._slope[None, :] * logw[:, None])

    def solve_logw(self, shares, tol=None):
        """Clearing log-wage for each row of a (K, N) share matrix, by
        bisection in log w on sum_i L_i(w) = L (sum_i L_i falls strictly)."""
        tol = _LOGW_TOL if tol is None else tol
        shares = np.atleast_2d(np.asarray(shares, dtype=float))
        logm = self.log_m_matrix(shares)
        # log L_i = c_i - b_i log w
        c = self._base[None, :] + logm / self._den[None, :]
        b = self._slope[None, :]
        log_l = math.log(self.L)
        # Bracket: at x_i = (c_i - log L) / b_i sector i alone absorbs L, so
        # at min_i x_i every sector demands >= L; at
        # max_i (c_i - log L + log N) / b_i every sector demands <= L / N.
        lo = ((c - log_l) / b).min(axis=1) - 1e-9
        hi = ((c - log_l + math.log(self.N)) / b).max(axis=1) + 1e-9

        def too_much(x):  # sum_i L_i(exp x) > L
            with np.errstate(over="ignore", under="ignore"):
                return np.exp(c - b * x[:, None]).sum(axis=1) > self.L

        assert np.all(too_much(lo)) and not np.any(too_much(hi))
        for _ in range(_MAX_BISECT):
            mid = 0.5 * (lo + hi)
            up = too_much(mid)  # demand too high -> wage above mid
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
            mid = 0.5 * (lo + hi)
            if np.all((hi - lo <= tol) | (mid == lo) | (mid == hi)):
                break
        return 0.5 * (lo + hi)

    # scalar pure-Python version (used inside the bisection refinements)
    def solve_logw_scalar(self, shares, lo=None, hi=None):
        logm = [math.log(self.multiplier(s, t)) for s, t in zip(shares, self.theta)]
        cs = [b + lm / d for b, lm, d in zip(self._base, logm, self._den)]
        bs = list(self._slope)
        logL = math.log(self.L)

        def excess(x):
            terms = [ci - bi * x for ci, bi in zip(cs, bs)]
            mx = max(terms)
            return mx + math.log(sum(math.exp(t - mx) for t in terms)) - logL

        if lo is None or not excess(lo) > 0:
            lo = min((ci - logL) / bi for ci, bi in zip(cs, bs)) - 1e-9
        if hi is None or not excess(hi) < 0:
            hi = max((ci - logL + math.log(self.N)) / bi for ci, bi in zip(cs, bs)) + 1e-9
        assert excess(lo) > 0 and excess(hi) < 0
        for _ in range(_MAX_BISECT):
            mid = 0.5 * (lo + hi)
            if mid == lo or mid == hi:
                break
            if excess(mid) > 0:
                lo = mid
            else:
                hi = mid
            if hi - lo <= _LOGW_TOL:
                break
        return 0.5 * (lo + hi)

    # --- firm-level quantities -----------------------------------------
    def log_rent_noncoop(self, logw, log_li, i):
        """log R_i = log pi(A_N, w), A_N = a_i L_i^eta_i,
        pi(A, w) = (1 - alpha) (q A)^eps (alpha / w)^(alpha eps)."""
        log_an = math.log(self.a[i]) + self.eta[i] * log_li
        return (math.log(1.0 - self.alpha) + self.eps * (math.log(self.q[i]) + log_an)
                + self.alpha * self.eps * (math.log(self.alpha) - logw))

    def values(self, shares, logw):
        """Output values at world prices V_i (K, N) and sector labour,
        from every firm's labour demand l = (alpha q A / w)^eps."""
        shares = np.atleast_2d(shares)
        logm = self.log_m_matrix(shares)
        li = np.exp(self.log_sector_labor(logw, logm))
        w = np.exp(logw)[:, None]
        a_n = self.a[None, :] * li ** self.eta[None, :]
        a_c = a_n * (1.0 + self.theta[None, :] * shares)
        l_n = (self.alpha * self.q[None, :] * a_n / w) ** self.eps
        l_c = (self.alpha * self.q[None, :] * a_c / w) ** self.eps
        v = self.p[None, :] * ((1.0 - shares) * a_n * l_n ** self.alpha
                               + shares * a_c * l_c ** self.alpha)
        return v, li

    def welfare(self, shares, logw):
        v, _ = self.values(shares, logw)
        return v.sum(axis=1) - (np.atleast_2d(shares) * self.c[None, :]).sum(axis=1)

    def gain_matrix(self, shares, logw, li):
        """Delta_i(s_i, w) for every sector at each profile (K, N):
        R_i [(1 + theta_i s_i)^eps - 1] - (1 - sigma_i) c_i."""
        log_an = np.log(self.a)[None, :] + self.eta[None, :] * np.log(li)
        log_r = (math.log(1.0 - self.alpha)
                 + self.eps * (np.log(self.q)[None, :] + log_an)
                 + self.alpha * self.eps * (math.log(self.alpha) - logw[:, None]))
        return (np.exp(log_r) * ((1.0 + self.theta[None, :] * shares) ** self.eps - 1.0)
                - self.private_cost[None, :])

    # --- the GE path g_i(s) -------------------------------------------
    def _path_shares(self, i, s):
        s = np.atleast_1d(np.asarray(s, dtype=float))
        sh = np.repeat(self.s0[None, :], s.size, axis=0)
        sh[:, i] = s
        return sh

    def g_vector(self, i, s, return_logw=False):
        sh = self._path_shares(i, s)
        logw = self.solve_logw(sh)
        logm = self.log_m_matrix(sh)
        li = np.exp(self.log_sector_labor(logw, logm))
        g = self.gain_matrix(sh, logw, li)[:, i]
        return (g, logw) if return_logw else g

    def g_scalar(self, i, s, bracket=None):
        sh = list(self.s0)
        sh[i] = s
        lo, hi = bracket if bracket is not None else (None, None)
        logw = self.solve_logw_scalar(sh, lo, hi)
        logm_i = math.log(self.multiplier(s, self.theta[i]))
        log_li = self._base[i] + logm_i / self._den[i] - self._slope[i] * logw
        r = math.exp(self.log_rent_noncoop(logw, log_li, i))
        return r * ((1.0 + self.theta[i] * s) ** self.eps - 1.0) - self.private_cost[i], logw

    # --- Delta_i(1, w) at a given wage (no market clearing) -------------
    def delta_full(self, i, logw):
        log_li = (self._base[i] + math.log(self.multiplier(1.0, self.theta[i])) / self._den[i]
                  - self._slope[i] * logw)
        r = math.exp(self.log_rent_noncoop(logw, log_li, i))
        return r * ((1.0 + self.theta[i]) ** self.eps - 1.0) - self.private_cost[i]


def _bisect_s(pt, i, s_neg, s_pos, w_neg, w_pos):
    """Bisection on g_i between a share where g < 0 and one where g >= 0.
    The clearing wage at any share between them lies between the wages at the
    ends (used only as a bracket hint; the wage solver re-brackets if not)."""
    for _ in range(_MAX_BISECT):
        mid = 0.5 * (s_neg + s_pos)
        if mid == s_neg or mid == s_pos:
            break
        lo, hi = min(w_neg, w_pos) - 1e-12, max(w_neg, w_pos) + 1e-12
        g, lw = pt.g_scalar(i, mid, (lo, hi))
        if g >= 0:
            s_pos, w_pos = mid, lw
        else:
            s_neg, w_neg = mid, lw
    return s_pos


def _golden_max(pt, i, a, b, tol=1e-12):
    """Golden-section maximisation of g_i on [a, b] (a local refinement)."""
    invphi = (math.sqrt(5.0) - 1.0) / 2.0
    c = b - invphi * (b - a)
    d = a + invphi * (b - a)
    gc = pt.g_scalar(i, c)[0]
    gd = pt.g_scalar(i, d)[0]
    while b - a > tol:
        if gc > gd:
            b, d, gd = d, c, gc
            c = b - invphi * (b - a)
            gc = pt.g_scalar(i, c)[0]
        else:
            a, c, gc = c, d, gd
            d = a + invphi * (b - a)
            gd = pt.g_scalar(i, d)[0]
    return (c, gc) if gc > gd else (d, gd)


def _threshold_wage(pt, i, logw_start):
    """Solve Delta_i(1, w) = 0 by bisection in log w (Delta falls in w)."""
    lo = hi = logw_start
    step = 1.0
    while pt.delta_full(i, lo) < 0:
        lo -= step
        step *= 2.0
    step = 1.0
    while pt.delta_full(i, hi) >= 0:
        hi += step
        step *= 2.0
    for _ in range(_MAX_BISECT):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break
        if pt.delta_full(i, mid) >= 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= _LOGW_TOL:
            break
    return math.exp(0.5 * (lo + hi))


def _profiles(n):
    masks = np.arange(1 << n)
    shares = ((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(float)
    return masks, shares


def _best(masks, welfare, allowed):
    """Highest W; ties: fewer cooperating sectors, then lower bitmask."""
    best = None
    for m in masks:
        if not allowed[m]:
            continue
        key = (-welfare[m], bin(int(m)).count("1"), int(m))
        if best is None or key < best:
            best = key
    return best[2]


def _enumerate(pt):
    masks, shares = _profiles(pt.N)
    logw = pt.solve_logw(shares)
    logm = pt.log_m_matrix(shares)
    li = np.exp(pt.log_sector_labor(logw, logm))
    v, _ = pt.values(shares, logw)
    welfare = v.sum(axis=1) - (shares * pt.c[None, :]).sum(axis=1)
    delta = pt.gain_matrix(shares, logw, li)  # Delta_i(s_i, w(S)); s_i = 1 in S
    stable = np.zeros(masks.size, dtype=bool)
    for m in masks:
        m = int(m)
        if (m & pt.z_mask) != pt.z_mask or (m & pt.inert_mask):
            continue
        stable[m] = all(delta[m, i] >= 0 for i in range(pt.N)
                        if (m >> i) & 1 and not pt.spont[i])
    return dict(masks=masks, shares=shares, logw=logw, li=li, v=v,
                welfare=welfare, stable=stable)


def reference_equilibria(labor, labor_share, price, productivity, externality,
                         cost, scale=None, subsidy=None, cost_subsidy=None):
    pt = _Point(labor, labor_share, price, productivity, externality, cost,
                scale, subsidy, cost_subsidy)
    e = _enumerate(pt)
    return sorted(int(m) for m in e["masks"] if e["stable"][m])


def reference_g(labor, labor_share, price, productivity, externality, cost,
                scale=None, subsidy=None, cost_subsidy=None, *, sector, s):
    """g_sector(s) = Delta_sector(s, w_sector(s)), others at S0."""
    pt = _Point(labor, labor_share, price, productivity, externality, cost,
                scale, subsidy, cost_subsidy)
    return pt.g_vector(int(sector), np.asarray(s, dtype=float))


def _path_analysis(pt, i):
    """Regime 2/3 detection and critical_mass / partial_share of sector i
    (neither inert nor spontaneous). Returns (g1, cm, ps) with cm/ps NaN
    when they do not exist; g1 = g_i(1)."""
    grid = np.arange(1, N_GRID + 1) / N_GRID  # (0, 1], last point exactly 1
    g, logw_grid = pt.g_vector(i, grid, return_logw=True)
    g1 = g[-1]
    w0 = pt.solve_logw(pt._path_shares(i, [0.0]))[0]
    s_all = np.concatenate(([0.0], grid))
    lw_all = np.concatenate(([w0], logw_grid))
    g_all = np.concatenate(([-pt.private_cost[i]], g))
    nonneg = np.nonzero(g_all >= 0)[0]
    if nonneg.size == 0:
        # no sampled non-negative value; refine an interior maximum
        k = int(np.argmax(g_all))
        if k == 0 or k == len(g_all) - 1:
            return g1, math.nan, math.nan
        s_peak, g_peak = _golden_max(pt, i, s_all[k - 1], s_all[k + 1])
        if g_peak < 0:
            return g1, math.nan, math.nan
        lw_peak = pt.g_scalar(i, s_peak)[1]
        cm = _bisect_s(pt, i, s_all[k - 1], s_peak, lw_all[k - 1], lw_peak)
        ps = _bisect_s(pt, i, s_all[k + 1], s_peak, lw_all[k + 1], lw_peak)
        return g1, cm, ps
    k = int(nonneg[0])  # k >= 1 since g(0) < 0
    cm = _bisect_s(pt, i, s_all[k - 1], s_all[k], lw_all[k - 1], lw_all[k])
    if g1 >= 0:
        return g1, cm, math.nan
    k = int(nonneg[-1])  # < last since g(1) < 0
    ps = _bisect_s(pt, i, s_all[k + 1], s_all[k], lw_all[k + 1], lw_all[k])
    return g1, cm, ps


def reference_solve(labor, labor_share, price, productivity, externality, cost,
                    scale=None, subsidy=None, cost_subsidy=None):
    pt = _Point(labor, labor_share, price, productivity, externality, cost,
                scale, subsidy, cost_subsidy)
    n = pt.N
    e = _enumerate(pt)
    masks, welfare, logw = e["masks"], e["welfare"], e["logw"]
    z = pt.z_mask

    # equilibria and first best
    eq = [int(m) for m in masks if e["stable"][m]]
    best_eq = _best(masks, welfare, e["stable"])
    fb_allowed = np.array([(int(m) & pt.inert_mask) == 0 for m in masks])
    fb = _best(masks, welfare, fb_allowed)

    regime = np.zeros(n, dtype=np.int64)
    cm = np.full(n, np.nan)
    ps = np.full(n, np.nan)
    gain = np.zeros(n)
    thr = np.full(n, np.nan)
    subs = np.full(n, np.nan)
    for i in range(n):
        if pt.inert[i]:
            regime[i] = INERT  # gain 0, NaN elsewhere
            continue
        if pt.spont[i]:
            regime[i] = SPONTANEOUS
            cm[i] = 0.0
            thr[i] = math.inf
            subs[i] = 0.0
            continue
        mi = z | (1 << i)
        full_gain = welfare[mi] - welfare[z]
        thr[i] = _threshold_wage(pt, i, float(logw[z]))
        # subsidy_needed: R_i at w(S0 + {i}), s_i = 1
        log_r = pt.log_rent_noncoop(float(logw[mi]), math.log(e["li"][mi, i]), i)
        if pt.c[i] == 0:
            subs[i] = 0.0
        else:
            subs[i] = max(0.0, 1.0 - math.exp(log_r) * ((1.0 + pt.theta[i]) ** pt.eps - 1.0)
                          / pt.c[i])
        g1, c_mass, p_share = _path_analysis(pt, i)
        if g1 >= 0:
            regime[i] = COORDINATION_FAILURE
            cm[i] = c_mass
            gain[i] = full_gain
        elif not math.isnan(c_mass):
            regime[i] = PARTIAL_COORDINATION
            cm[i] = c_mass
            ps[i] = p_share
            sh = pt.s0.copy()
            sh[i] = p_share
            lw = np.array([pt.solve_logw_scalar(list(sh))])
            gain[i] = float(pt.welfare(sh, lw)[0]) - welfare[z]
        else:
            regime[i] = NEEDS_SUBSIDY if full_gain > 0 else NOT_WORTH
            gain[i] = full_gain

    v0 = e["v"][z]
    s0 = pt.s0
    out = dict(
        wage_nc=float(math.exp(logw[z])),
        welfare_nc=float(welfare[z]),
        n_equilibria=len(eq),
        has_partial=bool(np.any(regime == PARTIAL_COORDINATION)),
        welfare_best_eq=float(welfare[best_eq]),
        wage_best_eq=float(math.exp(logw[best_eq])),
        welfare_fb=float(welfare[fb]),
        coordination_gap=float(welfare[best_eq] - welfare[z]),
        provision_gap=float(welfare[fb] - welfare[best_eq]),
        target_ca=int(np.argmax(v0)),
        target_cluster=int(np.argmax(pt.theta)),
        target_best=int(np.argmax(gain)),
        fiscal_cost_nc=float(np.sum(pt.tau * v0) + np.sum(pt.sigma * s0 * pt.c)),
        status=0,
        regime=regime,
        critical_mass=cm,
        partial_share=ps,
        gain_coordinate=gain,
        threshold_wage=thr,
        subsidy_needed=subs,
        coop_best_eq=np.array([(best_eq >> i) & 1 == 1 for i in range(n)]),
        coop_fb=np.array([(fb >> i) & 1 == 1 for i in range(n)]),
    )
    out["gain_ca"] = float(gain[out["target_ca"]])
    out["gain_cluster"] = float(gain[out["target_cluster"]])
    out["gain_best"] = float(gain[out["target_best"]])
    return out


# ----------------------------------------------------------------------------
# random test points over MODEL.md's domains
# ----------------------------------------------------------------------------
def random_point(rng, n, *, high_alpha=False, min_labor_share=1e-6):
    """A random point (see _random_point_once) whose every sector employs at
    least min_labor_share of the labour at S0 and at full cooperation:
    economically negligible sectors make W's of different profiles equal to
    the last bit, and argmax choices (first best, best equilibrium) then
    depend on rounding, not on the model."""
    while True:
        params = _random_point_once(rng, n, high_alpha=high_alpha)
        pt = _Point(**params)
        sh = np.vstack([pt.s0, np.where(pt.inert, 0.0, 1.0)])
        logw = pt.solve_logw(sh)
        li = np.exp(pt.log_sector_labor(logw, pt.log_m_matrix(sh)))
        if li.min() >= min_labor_share * pt.L:
            return params


def _random_point_once(rng, n, *, high_alpha=False):
    """A random parameter point with n sectors.

    Covers eta > 0, tau != 0 (in (-1, ...), negative too), sigma in [0, 1]
    with sigma = 1, zero costs, zero externalities, alpha up to 0.9, prices
    and productivities log-uniform on [0.3, 3], theta in [0, 2]. Costs are a
    log-uniform multiple of a rough private gain of full cooperation so that
    every regime occurs."""
    alpha = rng.uniform(0.72, 0.9) if high_alpha else rng.uniform(0.15, 0.9)
    eps = 1.0 / (1.0 - alpha)
    labor = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    p = np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    a = np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    theta = rng.uniform(0.0, 2.0, n)
    theta[rng.random(n) < 0.12] = 0.0
    eta = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 0.8, n) * (1.0 - alpha), 0.0)
    tau = np.where(rng.random(n) < 0.5, rng.uniform(-0.6, 1.0, n), 0.0)
    u = rng.random(n)
    sigma = np.where(u < 0.55, 0.0, np.where(u < 0.65, 1.0, rng.uniform(0.0, 1.0, n)))
    # rough private gain of full cooperation, eta = tau = 0 closed form
    # (only used to scale the draws, never to check anything)
    zeps = (p * a) ** eps
    x = zeps.sum() + zeps * ((1.0 + theta) ** eps - 1.0)
    gain = (1.0 - alpha) * zeps * (labor / x) ** alpha * ((1.0 + theta) ** eps - 1.0)
    gain = np.where(gain > 0, gain, (1.0 - alpha) * zeps * (labor / zeps.sum()) ** alpha * 0.3)
    c = gain * np.exp(rng.uniform(np.log(0.3), np.log(4.0), n))
    c[rng.random(n) < 0.1] = 0.0
    return dict(labor=labor, labor_share=float(alpha), price=p, productivity=a,
                externality=theta, cost=c, scale=eta, subsidy=tau,
                cost_subsidy=sigma)


def tune_partial(params, rng, sector=None):
    """Set one sector's cost so that it is in regime partial_coordination
    when its GE path peaks inside (0, 1) (returns False if it does not).

    h_i(s) = g_i(s) + (1 - sigma_i) c_i = R_i(w_i(s)) [(1 + theta_i s)^eps - 1]
    does not depend on c_i (the wage does not), so any private cost strictly
    between h_i(1) and max_s h_i(s) gives g_i(1) < 0 <= max g_i."""
    n = len(params["price"])
    theta = np.asarray(params["externality"])
    cands = [i for i in range(n) if theta[i] > 0] if sector is None else [sector]
    if not cands:
        return False
    i = int(cands[rng.integers(len(cands))])
    trial = {k: (np.array(v, dtype=float) if np.ndim(v) else v) for k, v in params.items()}
    trial["cost"][i] = 0.0
    trial["cost_subsidy"][i] = 0.0
    s = np.arange(1, 401) / 400.0
    h = reference_g(**trial, sector=i, s=s)
    if not h.max() > h[-1] * (1.0 + 1e-6):
        return False
    pc = h[-1] + rng.uniform(0.2, 0.8) * (h.max() - h[-1])
    params["cost"] = np.array(params["cost"], dtype=float)
    params["cost_subsidy"] = np.array(params["cost_subsidy"], dtype=float)
    if params["cost_subsidy"][i] >= 1.0:
        params["cost_subsidy"][i] = 0.0
    # private cost (1 - sigma) c = pc, keeping a cost subsidy sigma < 1
    params["cost"][i] = pc / (1.0 - params["cost_subsidy"][i])
    return True


SECTOR_PARAMS = ("price", "productivity", "externality", "cost", "scale", "subsidy",
                 "cost_subsidy")


def draw_blocks(seed, counts):
    """{N: [params, ...]}: a third of the points at high labour share, half
    of those with one sector's cost put inside its partial-coordination
    window (see reference.tune_partial)."""
    rng = np.random.default_rng(seed)
    blocks = {}
    for n, count in counts.items():
        pts = []
        for k in range(count):
            high = k % 3 == 0
            params = random_point(rng, n, high_alpha=high)
            if high and k % 2 == 0:
                tune_partial(params, rng)
            pts.append(params)
        blocks[n] = pts
    return blocks


def stack(points):
    """A list of same-N points as block arrays for kernels.solve."""
    out = {"labor": np.array([p["labor"] for p in points], dtype=float),
           "labor_share": np.array([p["labor_share"] for p in points], dtype=float)}
    for k in SECTOR_PARAMS:
        out[k] = np.array([np.asarray(p[k], dtype=float) for p in points])
    return out


def reference_equilibrium_list(labor, labor_share, price, productivity, externality,
                               cost, scale=None, subsidy=None, cost_subsidy=None,
                               *, rtol=1e-12):
    """Every stable equilibrium as (mask, W, w), best first: W descending;
    W within rtol (relative) are ties, ordered by fewer sectors, then the
    lower bitmask (MODEL.md "Every equilibrium")."""
    import functools
    pt = _Point(labor, labor_share, price, productivity, externality, cost,
                scale, subsidy, cost_subsidy)
    e = _enumerate(pt)
    rows = [(int(m), float(e["welfare"][m]), float(np.exp(e["logw"][m])))
            for m in e["masks"] if e["stable"][m]]

    def cmp(a, b):
        if abs(a[1] - b[1]) > rtol * max(abs(a[1]), abs(b[1])):
            return -1 if a[1] > b[1] else 1
        ka, kb = bin(a[0]).count("1"), bin(b[0]).count("1")
        if ka != kb:
            return -1 if ka < kb else 1
        return -1 if a[0] < b[0] else (1 if a[0] > b[0] else 0)
    return sorted(rows, key=functools.cmp_to_key(cmp))
