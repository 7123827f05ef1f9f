"""The economy at one parameter point: wages, labour, welfare, the GE path.

Everything here works on a per-point *workspace* ``ws`` (a
:data:`Workspace`) whose constants kernels/prepare.py computes for a whole
block from the points' inputs:

- ``ws.pt``: the point's scalars (:data:`Point`: alpha, eps, log L, ...);
- ``ws.sec``: per-sector constants (:data:`SECTOR_FIELDS`: ``ws.sec.xa[i]``);
- ``ws.prof``: the current profile (``ws.prof.logm[i]``, ``ws.prof.logl[i]``),
  overwritten by every wage computation;
- ``ws.status``: int64[4]: ``status[0]`` the point's status bits
  (kernels.codes); ``status[1:4]`` the solver variants' codes (wage,
  equilibria, GE path: kernels/solvers.py; all 0: the defaults), set once
  per block (riding on the status array: no array more in the workspace).

Wages are solved in x = log w. With every eta_i = 0 the clearing wage is
closed form; otherwise the log of labour demand is affine in x for every
sector, log L_i = b_i - k_i x, so h(x) = logsumexp(b_i - k_i x) - log L is
convex and strictly decreasing: Newton from the left end of a bracket
[x_lo, x_hi] that provably contains the root rises monotonically onto it,
and a bisection step guards the upper end (:func:`log_wage`).

All sums of (q_i a_i)^eps are scaled by exp(-c0), c0 = the largest
eps log(q_i a_i (1+theta_i)), so nothing overflows for large eps. When the
terms span more than exp(600) (labour shares near 1, extreme prices) the
linear-scale fast path is switched off (``pt.fast``) and every sum is a
log-sum-exp.

Welfare is ``W``, the wage ``w`` (MODEL.md); ``x`` is always log w.
"""
import math
from collections import namedtuple

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.jit import jit, maxiter
from coordsweep.kernels.solvers import code
from coordsweep.kernels.wages import WAGE_TOL, user_wage, wage_bisect, wage_brent

#: the point's scalars
Point = namedtuple("Point", [
    "alpha",    # labour share
    "eps",      # 1 / (1 - alpha)
    "labor",    # L
    "logl",     # log L
    "logcoef",  # log((1 - alpha) / alpha)
    "c0",       # scaling of the eta = 0 sums
    "eta0",     # every eta_i == 0 (closed-form wage)
    "fast",     # the eta = 0 sums can be kept in linear scale
    "logxa0",   # log of the scaled sum X^ at S0 (fast path; else NaN)
    "xa0",      # the scaled sum X^ at S0 itself (fast path; else NaN)
    "logalpha",  # log alpha
    "table",    # ws.tx, ws.tw hold every profile's log w and W (kernels/table.py;
                # kernels/etatable.py when some eta_i > 0)
    "wagefail",  # a wage root of the table did not converge (kernels/etatable.py)
])
#: a Point stored in a record array (one per point of a block)
POINT_DTYPE = np.dtype([(name, np.bool_ if name in ("eta0", "fast", "table", "wagefail") else np.float64)
                        for name in Point._fields], align=True)

#: per-sector constants: one record per sector (``ws.sec.xa[i]``: the
#: field xa of sector i), float64 but for kind
SECTOR_FIELDS = (
    ("lqa", "log(q_i a_i), q_i = p_i (1 + tau_i)"),
    ("eta", "scale eta_i"),
    ("tau", "subsidy tau_i"),
    ("sigma", "cost subsidy sigma_i"),
    ("cost", "cost c_i"),
    ("theta", "externality theta_i"),
    ("logm1", "log m_i(1) = eps log(1 + theta_i)"),
    ("k", "eps / (1 - eps eta_i): log L_i = b_i - k_i x"),
    ("b0", "eps (log alpha + lqa_i) / (1 - eps eta_i)"),
    ("s0", "share at S0 (1 for spontaneous sectors, else 0)"),
    ("logu", "eps lqa_i - c0"),
    ("xa", "scaled (q a)^eps (s_i = 0)"),
    ("xb", "scaled (q a)^eps (1+theta)^eps (s_i = 1)"),
    ("ya", "xa / (1 + tau)"),
    ("yb", "xb / (1 + tau)"),
    ("xbar", "log threshold wage log wbar_i"),
    ("logk", "log((1 - alpha) u_i L^alpha exp((1 - alpha) c0)): on the fast path "
             "g_i(s) + net cost = exp(logk_i - alpha log X^(s)) ((1 + theta_i s)^eps - 1)"),
    ("lem1", "log(exp(log m_i(1)) - 1) = log((1 + theta_i)^eps - 1)"),
    ("logc", "log c_i"),
    ("wbar", "threshold wage wbar_i = exp(xbar_i)"),
    ("kind", "KIND_INERT, KIND_SPONT or KIND_CAND"),
)
SECTOR_DTYPE = np.dtype([(name, np.int64 if name == "kind" else np.float64)
                         for name, _ in SECTOR_FIELDS], align=True)

#: the current profile, one record per sector: log m_i (input of the wage
#: computation) and log L_i (its output)
PROFILE_DTYPE = np.dtype([("logm", np.float64), ("logl", np.float64)], align=True)

#: ws.sec and ws.prof are record arrays (one buffer each: passing a
#: workspace between the kernel functions costs as little as a few arrays);
#: tx, tw: log w and W of every full-cooperation profile (by bitmask) when
#: pt.table (kernels/table.py fills them for a block), else unused
Workspace = namedtuple("Workspace", "pt sec prof status tx tw")

#: where ws.status holds the solver variants' codes (kernels/solvers.py)
SOLVER_WAGE = 1
SOLVER_EQUILIBRIA = 2
SOLVER_PATH = 3
WAGE_NEWTON = code("wage", "newton")
WAGE_BRENT = code("wage", "brent")
WAGE_BISECT = code("wage", "bisect")

#: the linear-scale sums need every scaled term above exp(-FAST_RANGE)
FAST_RANGE = 600.0

KIND_INERT = 0
KIND_SPONT = 1
KIND_CAND = 2

NEWTON_MAXITER = maxiter(100)


def allocate_workspace(n, solver=(0, 0, 0)):
    """The arrays of a workspace for points of n sectors that are not
    per-point constants, ``(prof, status)``, reused by every point of a
    block (the constants, ``ws.sec`` and ``ws.pt``, are prepared for a
    whole block by kernels/prepare.py); solver: the variants' codes
    (kernels/solvers.py), kept in status[1:4]."""
    return np.empty(n, PROFILE_DTYPE), np.array([0, *solver], np.int64)


@jit
def log_expm1(a):
    """log(exp(a) - 1) for a >= 0, without overflow for large a."""
    if a > 30.0:
        return a + math.log1p(-math.exp(-a))
    return math.log(math.expm1(a))


@jit
def log_m(s, a):
    """log m(s) = log(1 + s (exp(a) - 1)), a = eps log(1 + theta s)."""
    if a < 700.0:
        return math.log1p(s * math.expm1(a))
    return a + math.log(s + (1.0 - s) * math.exp(-a))  # here s > 0


@jit(inline="always")
def newton_error_coef(kmin, kmax):
    """A bound c on the error left by a Newton step of the wage root
    (:func:`log_wage_from`): after a step of length d from x, not capped,
    the root lies within c d^2 above x + d. h(x) = logsumexp(b_i - k_i x)
    - log L: |h'| >= kmin, h'' (the variance of the k_i under the
    weights exp(b_i - k_i x)) <= (kmax - kmin)^2 / 4, and the root lies
    within (kmax / kmin) d of x; Taylor at x gives the error
    <= h'' (root - x)^2 / (2 |h'|)."""
    return (kmax - kmin) * (kmax - kmin) * (kmax * kmax) / (8.0 * kmin * kmin * kmin)


@jit(inline="always")
def log_wage(ws):
    """log w clearing the labour market for the profile whose log m_i are
    in ws.prof.logm; fills ws.prof.logl with log L_i."""
    return log_wage_from(ws, -np.inf)


@jit
def log_wage_from(ws, x0):
    """:func:`log_wage`, where x0 is known to lie at or below the root
    (e.g. the wage of a subset of the profile's cooperating sectors: the
    wage rises with the profile): the default Newton iteration starts
    there when it is inside the bracket (-inf: the bracket's lower end).
    (Over 80 lines: the closed form, the bracket and the Newton steps of
    the kernels' most called function stay in one body, with no calls
    between them.)"""
    pt, sec = ws.pt, ws.sec
    n = sec.lqa.shape[0]
    logm = ws.prof.logm
    logl = ws.prof.logl
    eps = pt.eps
    if pt.eta0:
        # X^ = sum_i exp(eps lqa_i - c0 + log m_i); w = alpha (X / L)^(1-alpha)
        mx = -np.inf
        for i in range(n):
            t = sec.logu[i] + logm[i]
            logl[i] = t
            if t > mx:
                mx = t
        s = 0.0
        for i in range(n):
            s += math.exp(logl[i] - mx)
        logx = mx + math.log(s)
        for i in range(n):
            logl[i] = logl[i] - logx + pt.logl
        return pt.logalpha + (1.0 - pt.alpha) * (logx + pt.c0 - pt.logl)
    # general eta: log L_i(x) = b_i - k_i x, b_i = b0_i + log m_i / (1 - eps eta_i)
    logL = pt.logl
    lo = -np.inf
    hi = -np.inf
    lnn = math.log(n)
    kmin = np.inf
    kmax = 0.0
    for i in range(n):
        k = sec.k[i]
        kmin = min(kmin, k)
        kmax = max(kmax, k)
        b = sec.b0[i] + logm[i] / (1.0 - eps * sec.eta[i])
        logl[i] = b  # hold b_i while iterating
        # each L_i <= L at the root, and some L_i >= L / N
        v = (b - logL) / k
        if v > lo:
            lo = v
        v = (b - logL + lnn) / k
        if v > hi:
            hi = v
    code = ws.status[SOLVER_WAGE]
    if code != WAGE_NEWTON:  # a variant (kernels/solvers.py)
        if hi <= lo:  # one sector: the bracket is the root
            x, converged = lo, True
        elif code == WAGE_BRENT:
            x, converged = wage_brent(logl, sec.k, logL, lo, hi)
        elif code == WAGE_BISECT:
            x, converged = wage_bisect(logl, sec.k, logL, lo, hi)
        else:
            x, converged = user_wage(logl, sec.k, logL, lo, hi)
        if not converged:
            ws.status[0] |= codes.WAGE_NOT_CONVERGED
        for i in range(n):
            logl[i] = logl[i] - sec.k[i] * x
        return x
    x = x0 if lo < x0 < hi else lo
    kerr = newton_error_coef(kmin, kmax)
    converged = False
    for _ in range(NEWTON_MAXITER):
        mx = -np.inf
        for i in range(n):
            t = logl[i] - sec.k[i] * x
            if t > mx:
                mx = t
        s = 0.0
        ds = 0.0
        for i in range(n):
            e = math.exp(logl[i] - sec.k[i] * x - mx)
            s += e
            ds += sec.k[i] * e
        h = mx + math.log(s) - logL
        if h <= 0.0:
            converged = True
            break
        step = h * s / ds  # -h / h'(x), > 0
        xn = x + step
        if xn > hi:
            xn = 0.5 * (x + hi)
        elif kerr * step * step <= WAGE_TOL * max(1.0, abs(xn)):
            # the root is within the tolerance of xn: one exp pass less
            x = xn
            converged = True
            break
        if step <= WAGE_TOL * max(1.0, abs(x)):
            x = xn
            converged = True
            break
        x = xn
    if not converged:
        ws.status[0] |= codes.WAGE_NOT_CONVERGED
    for i in range(n):
        logl[i] = logl[i] - sec.k[i] * x
    return x


@jit
def set_binary_profile(ws, mask):
    """Profile: the sectors of `mask` (bit i = sector i) fully cooperate."""
    sec = ws.sec
    for i in range(sec.lqa.shape[0]):
        ws.prof.logm[i] = sec.logm1[i] if (mask >> i) & 1 else 0.0


@jit(inline="always")
def binary_log_wage(ws, mask):
    """log w for the full-cooperation profile `mask` (bit i = sector i)."""
    return binary_log_wage_from(ws, mask, -np.inf)


@jit(inline="always")
def binary_log_wage_from(ws, mask, x0):
    """:func:`binary_log_wage`, x0 at or below the root (log_wage_from)."""
    pt, sec = ws.pt, ws.sec
    n = sec.lqa.shape[0]
    if pt.table:
        return ws.tx[mask]
    if pt.fast:
        xs = 0.0
        for i in range(n):
            xs += sec.xb[i] if (mask >> i) & 1 else sec.xa[i]
        return pt.logalpha + (1.0 - pt.alpha) * (math.log(xs) + pt.c0 - pt.logl)
    set_binary_profile(ws, mask)
    return log_wage_from(ws, x0)


@jit(inline="always")
def profile_sums(sec, mask):
    """The linear-scale sums of the full-cooperation profile `mask` (sec:
    the point's sector records; every eta = 0): (X^, Y^, C), X^ = sum of
    the scaled (q a)^eps m_i, Y^ the same over (1 + tau_i), C the costs of
    the cooperating sectors (in sector order: binary_welfare and the
    profile table of kernels/table.py add them alike)."""
    xs = 0.0
    ys = 0.0
    csum = 0.0
    for i in range(sec.lqa.shape[0]):
        if (mask >> i) & 1:
            xs += sec.xb[i]
            ys += sec.yb[i]
            csum += sec.cost[i]
        else:
            xs += sec.xa[i]
            ys += sec.ya[i]
    return xs, ys, csum


@jit(inline="always")
def binary_welfare(ws, mask):
    """(log w, W) for the full-cooperation profile `mask` (see
    :func:`binary_welfare_from`)."""
    return binary_welfare_from(ws, mask, -np.inf)


@jit(inline="always")
def binary_welfare_from(ws, mask, x0):
    """(log w, W) for the full-cooperation profile `mask`; x0 at or below
    its log wage, where the root search may start (log_wage_from).

    W = sum_i V_i - sum_{i in S} c_i, V_i = w L_i / (alpha (1 + tau_i))
    (revenue at producer prices is w L_i / alpha). With pt.table (every
    eta_i = 0, or some > 0: kernels/etatable.py) it reads the table and
    leaves ws.prof as it was (no caller reads ws.prof after it)."""
    pt, sec = ws.pt, ws.sec
    if pt.table:
        return ws.tx[mask], ws.tw[mask]
    n = sec.lqa.shape[0]
    alpha = pt.alpha
    if pt.fast:
        xs, ys, csum = profile_sums(sec, mask)
        x = pt.logalpha + (1.0 - alpha) * (math.log(xs) + pt.c0 - pt.logl)
        return x, math.exp(x) * pt.labor / alpha * (ys / xs) - csum
    csum = 0.0
    set_binary_profile(ws, mask)
    x = log_wage_from(ws, x0)
    vsum = 0.0
    for i in range(n):
        vsum += math.exp(x + ws.prof.logl[i]) / (1.0 + sec.tau[i])
        if (mask >> i) & 1:
            csum += sec.cost[i]
    return x, vsum / alpha - csum


@jit
def set_path_profile(ws, i, s):
    """Profile S0 with sector i at share s: fills ws.prof.logm; returns
    a = eps log(1 + theta_i s), so (1 + theta_i s)^eps - 1 = expm1(a)."""
    sec = ws.sec
    logm = ws.prof.logm
    for j in range(sec.lqa.shape[0]):
        logm[j] = sec.logm1[j] if sec.s0[j] == 1.0 else 0.0
    a = ws.pt.eps * math.log1p(sec.theta[i] * s)
    logm[i] = log_m(s, a)  # m(s) = 1 + s ((1 + theta s)^eps - 1)
    return a


@jit
def path_g(s, ws, i):
    """g_i(s) = Delta_i(s, w_i(s)): the gain of cooperating in sector i when
    a share s of its firms cooperates and the others are at S0. (Argument
    order f(x, *args), as the root finders of kernels.rootfind call it.)"""
    pt, sec = ws.pt, ws.sec
    eps = pt.eps
    alpha = pt.alpha
    net_cost = (1.0 - sec.sigma[i]) * sec.cost[i]
    if pt.fast:
        if sec.s0[i] == 0.0:
            return fast_g(s, *fast_path_args(ws, i))
        # (a spontaneous sector: only via ge_path)
        e = math.expm1(eps * math.log1p(sec.theta[i] * s))
        xs = pt.xa0 + sec.xa[i] * s * e + (sec.xa[i] - sec.xb[i])
        return math.exp(sec.logk[i] - alpha * math.log(xs)) * e - net_cost
    a = set_path_profile(ws, i, s)
    x = log_wage(ws)
    # R_i = pi(A_N, w) = (1 - alpha) w l_N / alpha, l_N = L_i / m_i(s)
    logr = pt.logcoef + x + ws.prof.logl[i] - ws.prof.logm[i]
    return math.exp(logr + log_expm1(a)) - net_cost


@jit(inline="always")
def fast_path_args(ws, i):
    """The scalars g_i(s) depends on, on the fast path (every eta = 0,
    linear-scale sums) for a sector i at 0 in S0: (X0, u_i, log K_i,
    theta_i, eps, alpha, net cost), the arguments of :func:`fast_g` after s.
    Plain floats: the root searches that call g_i a dozen times per sector
    pass no arrays (every call with an array costs reference counting)."""
    pt, sec = ws.pt, ws.sec
    return (pt.xa0, sec.xa[i], sec.logk[i], sec.theta[i], pt.eps, pt.alpha,
            (1.0 - sec.sigma[i]) * sec.cost[i])


@jit
def fast_g(s, xa0, u, logk, theta, eps, alpha, net):
    """g_i(s) on the fast path: with h = (1 + theta s)^eps - 1 and
    X^(s) = X0 + u s h (m(s) - 1 = s h), R_i = (1 - alpha) u (L / X)^alpha
    (u, X scaled by exp(-c0)), g_i = exp(logk - alpha log X^) h - net."""
    e = math.expm1(eps * math.log1p(theta * s))
    xs = xa0 + u * s * e
    return math.exp(logk - alpha * math.log(xs)) * e - net


@jit
def fast_g_slope(s, xa0, u, logk, theta, eps, alpha, net):
    """(g_i(s), g_i'(s)) on the fast path (arguments of :func:`fast_g`):
    g + c' = K h X^-alpha, so
    g' = K X^-alpha (h' - alpha h X' / X), h' = eps theta (1 + h) / (1 + theta s),
    X' = u (h + s h'): the slope costs no transcendental call."""
    e = math.expm1(eps * math.log1p(theta * s))
    xs = xa0 + u * s * e
    f = math.exp(logk - alpha * math.log(xs))
    de = eps * theta * (1.0 + e) / (1.0 + theta * s)
    dx = u * (e + s * de)
    return f * e - net, f * (de - alpha * e * dx / xs)


@jit
def path_welfare(ws, i, s):
    """W with sector i at share s and the others at S0."""
    sec = ws.sec
    n = sec.lqa.shape[0]
    set_path_profile(ws, i, s)
    x = log_wage(ws)
    vsum = 0.0
    csum = 0.0
    for j in range(n):
        vsum += math.exp(x + ws.prof.logl[j]) / (1.0 + sec.tau[j])
        share = s if j == i else sec.s0[j]
        csum += share * sec.cost[j]
    return vsum / ws.pt.alpha - csum


@jit(inline="always")
def log_rent_full(ws, i, x):
    """log R_i at log wage x with sector i fully cooperating (s_i = 1)."""
    pt, sec = ws.pt, ws.sec
    logm1 = sec.logm1[i]
    b = sec.b0[i] + logm1 / (1.0 - pt.eps * sec.eta[i])
    logl = b - sec.k[i] * x
    return pt.logcoef + x + logl - logm1
