"""A straightforward SciPy implementation of MODEL.md, one point at a time:
the benchmark's "what you would write without this engine" baseline.

Per point: the wage by the closed form when every eta_i = 0, else
``scipy.optimize.brentq`` in log w on sum_i L_i(w) = L; the equilibria by
``itertools.product`` over every profile, each checked with Delta_i(1, w(S))
>= 0 directly; the first best by trying every profile; threshold wages,
critical masses and partial shares by ``brentq`` on sign changes of 65
samples of g_i (``minimize_scalar`` for a peak between samples).

Returns the fields of :data:`FIELDS` for a block of points, as
``benchmarks/c`` and the kernels do (see engine/run/bench.py).
"""
import itertools
import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar

SAMPLES = 64
TIE_RTOL = 1e-13


class Point:
    def __init__(self, labor, alpha, p, a, theta, c, eta, tau, sigma):
        self.L, self.alpha = labor, alpha
        self.eps = 1.0 / (1.0 - alpha)
        self.q = p * (1.0 + tau)
        self.p, self.a, self.theta, self.c = p, a, theta, c
        self.eta, self.tau, self.sigma = eta, tau, sigma
        self.n = len(p)
        self.eta0 = bool(np.all(eta == 0.0))
        self.inert = theta == 0.0
        self.spont = ~self.inert & ((1.0 - sigma) * c == 0.0)
        self.cand = ~self.inert & ~self.spont

    def m(self, s):
        return (1.0 - s) + s * (1.0 + self.theta * s) ** self.eps

    def labor_i(self, logw, s):
        e, eta = self.eps, self.eta
        base = (self.alpha * self.q * self.a / math.exp(logw)) ** e * self.m(s)
        return base ** (1.0 / (1.0 - e * eta))

    def logw(self, s):
        if self.eta0:
            x = np.sum((self.q * self.a) ** self.eps * self.m(s))
            return math.log(self.alpha) + (1.0 - self.alpha) * math.log(x / self.L)
        f = lambda lw: math.log(np.sum(self.labor_i(lw, s))) - math.log(self.L)  # noqa: E731
        lo, hi = -1.0, 1.0
        while f(lo) < 0:
            lo *= 2
        while f(hi) > 0:
            hi *= 2
        return brentq(f, lo, hi, xtol=1e-15, rtol=8.9e-16, maxiter=200)

    def welfare(self, s, logw=None):
        lw = self.logw(s) if logw is None else logw
        li = self.labor_i(lw, s)
        v = math.exp(lw) * li / (self.alpha * (1.0 + self.tau))
        return float(np.sum(v) - np.sum(s * self.c)), lw, v

    def rent(self, i, logw, s):
        """pi(A_N, w) of a non-cooperator in sector i."""
        li = self.labor_i(logw, s)[i]
        return (1.0 - self.alpha) * math.exp(logw) * li / (self.alpha * self.m(s)[i])

    def delta(self, i, logw, s):
        return (self.rent(i, logw, s) * ((1.0 + self.theta[i] * s[i]) ** self.eps - 1.0)
                - (1.0 - self.sigma[i]) * self.c[i])

    def g(self, i, si):
        s = self.spont.astype(float)
        s[i] = si
        return self.delta(i, self.logw(s), s)


def _better(w, k, mask, bw, bk, bmask):
    tol = TIE_RTOL * max(abs(w), abs(bw))
    if w > bw + tol:
        return True
    if w < bw - tol:
        return False
    return k < bk if k != bk else mask < bmask


def solve_point(pt):
    n = pt.n
    out = {}
    s0 = pt.spont.astype(float)
    w_nc, x_nc, v_nc = pt.welfare(s0)
    out.update(wage_nc=math.exp(x_nc), welfare_nc=w_nc,
               fiscal_cost_nc=float(np.sum(pt.tau * v_nc) + np.sum(pt.sigma * s0 * pt.c)))
    count, best, fb = 0, None, None
    for prof in itertools.product((0.0, 1.0), repeat=n):
        s = np.array(prof)
        if np.any(s[pt.inert] == 1.0):
            continue
        mask = sum(1 << i for i in range(n) if prof[i])
        k = int(s.sum())
        w, lw, _ = pt.welfare(s)
        if fb is None or _better(w, k, mask, fb[1], fb[2], fb[0]):
            fb = (mask, w, k)
        if np.any(s[pt.spont] == 0.0):
            continue
        if all(pt.delta(i, lw, s) >= 0.0 for i in range(n) if s[i] == 1.0 and pt.cand[i]):
            count += 1
            if best is None or _better(w, k, mask, best[1], best[2], best[0]):
                best = (mask, w, k, lw)
    out.update(n_equilibria=count, welfare_best_eq=best[1], wage_best_eq=math.exp(best[3]),
               best_mask=best[0], welfare_fb=fb[1], fb_mask=fb[0], status=0)
    reg = np.full(n, 5, np.int8)
    cm, ps, gain, thr, sub = (np.full(n, np.nan) for _ in range(5))
    for i in range(n):
        if pt.inert[i]:
            reg[i], gain[i] = 0, 0.0
            continue
        if pt.spont[i]:
            reg[i], cm[i], gain[i], thr[i], sub[i] = 1, 0.0, 0.0, np.inf, 0.0
            continue
        s1 = s0.copy()
        s1[i] = 1.0
        w1, x1, _ = pt.welfare(s1)
        # threshold wage: Delta_i(1, w) = 0, falling in w
        f = lambda lw: pt.delta(i, lw, s1)  # noqa: E731
        lo, hi = x1 - 1.0, x1 + 1.0
        while f(lo) < 0:
            lo -= 2 * (hi - lo)
        while f(hi) > 0:
            hi += 2 * (hi - lo)
        thr[i] = math.exp(brentq(f, lo, hi, xtol=1e-15, rtol=8.9e-16, maxiter=200))
        r = pt.rent(i, x1, s1) * ((1.0 + pt.theta[i]) ** pt.eps - 1.0)
        sub[i] = max(0.0, 1.0 - r / pt.c[i])
        grid = np.linspace(0.0, 1.0, SAMPLES + 1)
        gs = np.array([pt.g(i, x) for x in grid])
        gi = lambda x: pt.g(i, x)  # noqa: E731
        if gs[-1] >= 0.0:
            k = int(np.argmax(gs >= 0.0))
            reg[i], cm[i], gain[i] = 2, brentq(gi, grid[k - 1], grid[k], xtol=1e-16), w1 - w_nc
            continue
        k = int(np.argmax(gs))
        speak, gpeak = grid[k], gs[k]
        if gpeak < 0.0:
            r = minimize_scalar(lambda x: -gi(x), bounds=(grid[max(k - 1, 0)],
                                grid[min(k + 1, SAMPLES)]), method="bounded",
                                options={"xatol": 1e-12})
            speak, gpeak = r.x, -r.fun
        if gpeak >= 0.0 and speak < 1.0:
            pos = np.nonzero(gs >= 0.0)[0]
            if len(pos):
                a, b = pos[0], pos[-1]
                cm[i] = brentq(gi, grid[a - 1], grid[a], xtol=1e-16)
                ps[i] = brentq(gi, grid[b], grid[b + 1], xtol=1e-16)
            else:
                cm[i] = brentq(gi, grid[max(k - 1, 0)], speak, xtol=1e-16)
                ps[i] = brentq(gi, speak, grid[min(k + 1, SAMPLES)], xtol=1e-16)
            sp = s0.copy()
            sp[i] = ps[i]
            reg[i], gain[i] = 3, pt.welfare(sp)[0] - w_nc
            continue
        reg[i], gain[i] = (4 if w1 - w_nc > 0.0 else 5), w1 - w_nc
    out.update(regime=reg, critical_mass=cm, partial_share=ps, gain_coordinate=gain,
               threshold_wage=thr, subsidy_needed=sub)
    return out


def solve_block(inputs, limit=None):
    """inputs: {name: array} as kernels.solve takes them. Solves the first
    `limit` points (all when None); returns {field: array}."""
    npts = len(inputs["labor"]) if limit is None else min(limit, len(inputs["labor"]))
    res = []
    for p in range(npts):
        pt = Point(float(inputs["labor"][p]), float(inputs["labor_share"][p]),
                   *(np.asarray(inputs[k][p], float) for k in
                     ("price", "productivity", "externality", "cost", "scale",
                      "subsidy", "cost_subsidy")))
        res.append(solve_point(pt))
    return {k: np.array([r[k] for r in res]) for k in res[0]}
