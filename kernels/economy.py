"""The economy at one parameter point: wages, labour, welfare, the GE path.

Everything here works on a per-point *workspace* ``ws = (sp, sv, tmp, st)``
prepared by :func:`prepare` (see the row constants below):

- ``sp``  float64[NSP]: point scalars (alpha, eps, log L, ...);
- ``sv``  float64[NSV, N]: per-sector constants;
- ``tmp`` float64[NTMP, N]: scratch (the profile's log m_i, the log L_i);
- ``st``  int64[1]: the point's status bits (kernels.codes).

Wages are solved in x = log w. With every eta_i = 0 the clearing wage is
closed form; otherwise the log of labour demand is affine in x for every
sector, log L_i = b_i - k_i x, so h(x) = logsumexp(b_i - k_i x) - log L is
convex and strictly decreasing: Newton from the left end of a bracket
[x_lo, x_hi] that provably contains the root rises monotonically onto it,
and a bisection step guards the upper end.

All sums of (q_i a_i)^eps are scaled by exp(-c0), c0 = the largest
eps log(q_i a_i (1+theta_i)), so nothing overflows for large eps. When the
terms span more than exp(600) (labour shares near 1, extreme prices) the
linear-scale fast path is switched off (SP_FAST) and every sum is a
log-sum-exp.
"""
import math

import numpy as np
from coordsweep.kernels.jit import jit

from coordsweep.kernels import codes

# --- point scalars sp[...] ----------------------------------------------
SP_ALPHA = 0
SP_EPS = 1
SP_LOGL = 2
SP_LABOR = 3
SP_C0 = 4        # scaling of the eta = 0 sums
SP_ETA0 = 5      # 1.0 when every eta_i == 0 (closed-form wage)
SP_LOGXA0 = 6    # log of the scaled sum X^ at S0 (eta = 0 fast path)
SP_LOGCOEF = 7   # log((1 - alpha) / alpha)
SP_FAST = 8      # 1.0 when the eta = 0 sums can be kept in linear scale
NSP = 9

# --- per-sector constants sv[..., i] -------------------------------------
SV_LQA = 0       # log(q_i a_i), q_i = p_i (1 + tau_i)
SV_ETA = 1
SV_TAU = 2
SV_SIGMA = 3
SV_COST = 4
SV_THETA = 5
SV_LOGM1 = 6     # log m_i(1) = eps log(1 + theta_i)
SV_K = 7         # k_i = eps / (1 - eps eta_i)
SV_B0 = 8        # eps (log alpha + lqa_i) / (1 - eps eta_i)
SV_S0 = 9        # share at S0 (1 for spontaneous sectors, else 0)
SV_XA = 10       # scaled (q a)^eps            (s_i = 0)
SV_XB = 11       # scaled (q a)^eps (1+theta)^eps (s_i = 1)
SV_YA = 12       # SV_XA / (1 + tau)
SV_YB = 13       # SV_XB / (1 + tau)
SV_XBAR = 14     # log threshold wage
SV_KIND = 15     # 0 inert, 1 spontaneous, 2 candidate (neither)
SV_LOGU = 16     # eps lqa_i - c0
NSV = 17

# --- scratch tmp[..., i] --------------------------------------------------
T_LOGM = 0
T_LOGL = 1
NTMP = 2

#: the linear-scale sums need every scaled term above exp(-FAST_RANGE)
FAST_RANGE = 600.0

KIND_INERT = 0
KIND_SPONT = 1
KIND_CAND = 2

NEWTON_MAXITER = 100


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


@jit
def prepare(labor, alpha, price, prod, theta, cost, eta, tau, sigma,
            sp, sv, tmp, st):
    """Fill the workspace for one point. Returns False when the point is
    outside MODEL.md's domains (st gets INVALID_INPUT)."""
    n = price.shape[0]
    st[0] = 0
    ok = labor > 0.0 and alpha > 0.0 and alpha < 1.0
    ok = ok and math.isfinite(labor) and math.isfinite(alpha)
    if ok:
        for i in range(n):
            if not (price[i] > 0.0 and prod[i] > 0.0 and theta[i] >= 0.0
                    and cost[i] >= 0.0 and eta[i] >= 0.0
                    and eta[i] < 1.0 - alpha and tau[i] > -1.0
                    and sigma[i] >= 0.0 and sigma[i] <= 1.0):
                ok = False
            if not (math.isfinite(price[i]) and math.isfinite(prod[i])
                    and math.isfinite(theta[i]) and math.isfinite(cost[i])
                    and math.isfinite(tau[i])):
                ok = False
    if not ok:
        st[0] = codes.INVALID_INPUT
        return False
    eps = 1.0 / (1.0 - alpha)
    sp[SP_ALPHA] = alpha
    sp[SP_EPS] = eps
    sp[SP_LABOR] = labor
    sp[SP_LOGL] = math.log(labor)
    sp[SP_LOGCOEF] = math.log((1.0 - alpha) / alpha)
    eta0 = True
    c0 = -np.inf
    for i in range(n):
        lqa = math.log(price[i] * (1.0 + tau[i])) + math.log(prod[i])
        sv[SV_LQA, i] = lqa
        sv[SV_ETA, i] = eta[i]
        sv[SV_TAU, i] = tau[i]
        sv[SV_SIGMA, i] = sigma[i]
        sv[SV_COST, i] = cost[i]
        sv[SV_THETA, i] = theta[i]
        logm1 = eps * math.log1p(theta[i])
        sv[SV_LOGM1, i] = logm1
        denom = 1.0 - eps * eta[i]
        sv[SV_K, i] = eps / denom
        sv[SV_B0, i] = eps * (math.log(alpha) + lqa) / denom
        if eta[i] != 0.0:
            eta0 = False
        if eps * lqa + logm1 > c0:
            c0 = eps * lqa + logm1
        if theta[i] == 0.0:
            kind = KIND_INERT
        elif (1.0 - sigma[i]) * cost[i] == 0.0:
            kind = KIND_SPONT
        else:
            kind = KIND_CAND
        sv[SV_KIND, i] = kind
        sv[SV_S0, i] = 1.0 if kind == KIND_SPONT else 0.0
    sp[SP_C0] = c0
    sp[SP_ETA0] = 1.0 if eta0 else 0.0
    fast = eta0
    xa0 = 0.0
    for i in range(n):
        logu = eps * sv[SV_LQA, i] - c0
        sv[SV_LOGU, i] = logu
        if logu < -FAST_RANGE:
            fast = False
        xa = math.exp(logu)
        xb = math.exp(logu + sv[SV_LOGM1, i])
        sv[SV_XA, i] = xa
        sv[SV_XB, i] = xb
        sv[SV_YA, i] = xa / (1.0 + tau[i])
        sv[SV_YB, i] = xb / (1.0 + tau[i])
        xa0 += xb if sv[SV_S0, i] == 1.0 else xa
    sp[SP_FAST] = 1.0 if fast else 0.0
    sp[SP_LOGXA0] = math.log(xa0) if fast else np.nan
    # threshold wages: at s_i = 1, log R_i(x) = log((1-a)/a) + x
    # + log L_i(x) - log m_i(1) is affine in x, so Delta_i(1, x) = 0 is
    # closed form for every eta_i (MODEL.md's formula when eta_i = 0).
    for i in range(n):
        kind = sv[SV_KIND, i]
        if kind == KIND_INERT:
            sv[SV_XBAR, i] = np.nan
        elif kind == KIND_SPONT:
            sv[SV_XBAR, i] = np.inf
        else:
            logm1 = sv[SV_LOGM1, i]
            denom = 1.0 - eps * eta[i]
            b = sv[SV_B0, i] + logm1 / denom
            # log R_i(x) = coef + b + (1 - k) x - logm1, and
            # 1 - k = -eps (alpha + eta_i) / (1 - eps eta_i) (no cancellation)
            one_minus_k = -eps * (alpha + eta[i]) / denom
            target = math.log((1.0 - sigma[i]) * cost[i]) - log_expm1(logm1)
            sv[SV_XBAR, i] = (target - sp[SP_LOGCOEF] - b + logm1) / one_minus_k
    return True


@jit
def log_wage(sp, sv, tmp, st):
    """log w clearing the labour market for the profile whose log m_i are
    in tmp[T_LOGM]; fills tmp[T_LOGL] with log L_i."""
    n = sv.shape[1]
    logm = tmp[T_LOGM]
    logl = tmp[T_LOGL]
    eps = sp[SP_EPS]
    if sp[SP_ETA0] == 1.0:
        # X^ = sum_i exp(eps lqa_i - c0 + log m_i); w = alpha (X / L)^(1-alpha)
        mx = -np.inf
        for i in range(n):
            t = sv[SV_LOGU, i] + logm[i]
            logl[i] = t
            if t > mx:
                mx = t
        s = 0.0
        for i in range(n):
            s += math.exp(logl[i] - mx)
        logx = mx + math.log(s)
        for i in range(n):
            logl[i] = logl[i] - logx + sp[SP_LOGL]
        return math.log(sp[SP_ALPHA]) + (1.0 - sp[SP_ALPHA]) * (
            logx + sp[SP_C0] - sp[SP_LOGL])
    # general eta: log L_i(x) = b_i - k_i x, b_i = b0_i + log m_i / (1 - eps eta_i)
    logL = sp[SP_LOGL]
    lo = -np.inf
    hi = -np.inf
    lnn = math.log(n)
    for i in range(n):
        k = sv[SV_K, i]
        b = sv[SV_B0, i] + logm[i] / (1.0 - eps * sv[SV_ETA, i])
        logl[i] = b  # hold b_i while iterating
        # each L_i <= L at the root, and some L_i >= L / N
        v = (b - logL) / k
        if v > lo:
            lo = v
        v = (b - logL + lnn) / k
        if v > hi:
            hi = v
    x = lo
    converged = False
    for _ in range(NEWTON_MAXITER):
        mx = -np.inf
        for i in range(n):
            t = logl[i] - sv[SV_K, i] * x
            if t > mx:
                mx = t
        s = 0.0
        ds = 0.0
        for i in range(n):
            e = math.exp(logl[i] - sv[SV_K, i] * x - mx)
            s += e
            ds += sv[SV_K, i] * e
        h = mx + math.log(s) - logL
        if h <= 0.0:
            converged = True
            break
        step = h * s / ds  # -h / h'(x), > 0
        xn = x + step
        if xn > hi:
            xn = 0.5 * (x + hi)
        if step <= 4.0 * 2.220446049250313e-16 * max(1.0, abs(x)):
            x = xn
            converged = True
            break
        x = xn
    if not converged:
        st[0] |= codes.WAGE_NOT_CONVERGED
    for i in range(n):
        logl[i] = logl[i] - sv[SV_K, i] * x
    return x


@jit
def set_binary_profile(sv, tmp, mask):
    n = sv.shape[1]
    for i in range(n):
        tmp[T_LOGM, i] = sv[SV_LOGM1, i] if (mask >> i) & 1 else 0.0


@jit
def binary_log_wage(sp, sv, tmp, st, mask):
    """log w for the full-cooperation profile `mask` (bit i = sector i)."""
    n = sv.shape[1]
    if sp[SP_FAST] == 1.0:
        xs = 0.0
        for i in range(n):
            xs += sv[SV_XB, i] if (mask >> i) & 1 else sv[SV_XA, i]
        return math.log(sp[SP_ALPHA]) + (1.0 - sp[SP_ALPHA]) * (
            math.log(xs) + sp[SP_C0] - sp[SP_LOGL])
    set_binary_profile(sv, tmp, mask)
    return log_wage(sp, sv, tmp, st)


@jit
def binary_welfare(sp, sv, tmp, st, mask):
    """(log w, W) for the full-cooperation profile `mask`.

    W = sum_i V_i - sum_{i in S} c_i, V_i = w L_i / (alpha (1 + tau_i))
    (revenue at producer prices is w L_i / alpha)."""
    n = sv.shape[1]
    alpha = sp[SP_ALPHA]
    csum = 0.0
    if sp[SP_FAST] == 1.0:
        xs = 0.0
        ys = 0.0
        for i in range(n):
            if (mask >> i) & 1:
                xs += sv[SV_XB, i]
                ys += sv[SV_YB, i]
                csum += sv[SV_COST, i]
            else:
                xs += sv[SV_XA, i]
                ys += sv[SV_YA, i]
        x = math.log(alpha) + (1.0 - alpha) * (
            math.log(xs) + sp[SP_C0] - sp[SP_LOGL])
        return x, math.exp(x) * sp[SP_LABOR] / alpha * (ys / xs) - csum
    set_binary_profile(sv, tmp, mask)
    x = log_wage(sp, sv, tmp, st)
    vsum = 0.0
    for i in range(n):
        vsum += math.exp(x + tmp[T_LOGL, i]) / (1.0 + sv[SV_TAU, i])
        if (mask >> i) & 1:
            csum += sv[SV_COST, i]
    return x, vsum / alpha - csum


@jit
def set_path_profile(sv, tmp, i, s, eps):
    """Profile S0 with sector i at share s: fills tmp[T_LOGM]; returns
    a = eps log(1 + theta_i s), so (1 + theta_i s)^eps - 1 = expm1(a)."""
    n = sv.shape[1]
    for j in range(n):
        tmp[T_LOGM, j] = sv[SV_LOGM1, j] if sv[SV_S0, j] == 1.0 else 0.0
    a = eps * math.log1p(sv[SV_THETA, i] * s)
    tmp[T_LOGM, i] = log_m(s, a)  # m(s) = 1 + s ((1 + theta s)^eps - 1)
    return a


@jit
def path_g(ws, i, s):
    """g_i(s) = Delta_i(s, w_i(s)): the gain of cooperating in sector i when
    a share s of its firms cooperates and the others are at S0."""
    sp, sv, tmp, st = ws
    eps = sp[SP_EPS]
    alpha = sp[SP_ALPHA]
    net_cost = (1.0 - sv[SV_SIGMA, i]) * sv[SV_COST, i]
    if sp[SP_FAST] == 1.0:
        e = math.expm1(eps * math.log1p(sv[SV_THETA, i] * s))
        # X^(s) = X^(S0) + u^_i (m(s) - m_i(S0)), m(s) - 1 = s e
        xs = math.exp(sp[SP_LOGXA0]) + math.exp(sv[SV_LOGU, i]) * s * e
        if sv[SV_S0, i] == 1.0:  # (not a candidate: only via ge_path)
            xs += sv[SV_XA, i] - sv[SV_XB, i]
        logx = math.log(xs)
        # R_i = (1 - alpha) u_i (L / X)^alpha with u, X scaled by exp(c0)
        logr = (math.log(1.0 - alpha) + sv[SV_LOGU, i]
                + alpha * (sp[SP_LOGL] - logx) + (1.0 - alpha) * sp[SP_C0])
        return math.exp(logr) * e - net_cost
    a = set_path_profile(sv, tmp, i, s, eps)
    x = log_wage(sp, sv, tmp, st)
    # R_i = pi(A_N, w) = (1 - alpha) w l_N / alpha, l_N = L_i / m_i(s)
    logr = sp[SP_LOGCOEF] + x + tmp[T_LOGL, i] - tmp[T_LOGM, i]
    return math.exp(logr + log_expm1(a)) - net_cost


@jit
def path_welfare(ws, i, s):
    """W with sector i at share s and the others at S0."""
    sp, sv, tmp, st = ws
    n = sv.shape[1]
    set_path_profile(sv, tmp, i, s, sp[SP_EPS])
    x = log_wage(sp, sv, tmp, st)
    vsum = 0.0
    csum = 0.0
    for j in range(n):
        vsum += math.exp(x + tmp[T_LOGL, j]) / (1.0 + sv[SV_TAU, j])
        share = s if j == i else sv[SV_S0, j]
        csum += share * sv[SV_COST, j]
    return vsum / sp[SP_ALPHA] - csum


@jit
def log_rent_full(sp, sv, tmp, i, x):
    """log R_i at log wage x with sector i fully cooperating (s_i = 1)."""
    eps = sp[SP_EPS]
    logm1 = sv[SV_LOGM1, i]
    b = sv[SV_B0, i] + logm1 / (1.0 - eps * sv[SV_ETA, i])
    logl = b - sv[SV_K, i] * x
    return sp[SP_LOGCOEF] + x + logl - logm1
