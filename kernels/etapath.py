"""The critical masses of certified increasing GE paths where some
eta_j > 0, found for a whole block at once (the default ``path =
"lockstep"`` with the default wage variant; kernels/lockstep.py does the
same where every eta = 0).

Point by point, g_i(s) costs a wage root (economy.log_wage: a Newton
iteration of N exps and a log per step) and Brent calls it a dozen times.
Here no wage root is taken. At share s, log(g_i + c') is affine in the
log wage x (economy.path_g):

    log(g_i(s) + c') = log((1 - alpha)/alpha) + (1 - k_i) x + b0_i
                       + (e_i - 1) log m(s) + log h(s),

e_i = 1 / (1 - eps eta_i), k_i = eps e_i > 1, h = (1 + theta_i s)^eps - 1,
m = 1 + s h. So g_i(s) = 0 at the wage x_G(s) that solves it for
log(g_i + c') = log c', and since g_i falls in x and the labour gap

    F(s) = log sum_j exp(b_j(s) - k_j x_G(s)) - log L

falls in x too (b_j at S0, b_i(s) = b0_i + e_i log m(s)), g_i(s) > 0
exactly where F(s) < 0 (the clearing wage lies below x_G(s)): g_i and F
have the same roots and opposite signs. The critical mass is the root of
F, a closed form in s: its N exps and five other transcendental calls per
step run in NumPy over every queued root (SIMD lanes), the arithmetic in
numba loops over the roots still active, which move the converged ones
out, as kernels/lockstep.py does. With w_j the shares of L_j in L,

    F'(s) = w_i e_i m'/m - x_G'(s) sum_j w_j k_j,
    x_G'(s) = ((e_i - 1) m'/m + h'/h) / (k_i - 1),
    h' = eps theta (1 + h) / (1 + theta s),  m' = h + s h'.

Safeguarded Newton inside the bracket [0, 1] that keeps the sign change;
F is mostly convex (close to -c log s + const), so a step from the right
of the root overshoots: a step leaving the bracket is replaced by the
tangent step from the bracket's other end (which lands between it and the
root), or by bisection where that end has not been evaluated, from the start the block kernel
queued (kernels/sectors.py: where log(g_i + c') ~ log s + const crosses
log c'), stopping when a step is shorter than ETA_RTOL (relative).

Results do not depend on how points are blocked: every operation is
elementwise or a sum over sectors in sector order, and every NumPy call
is made in place (kernels/lockstep.py explains why). No I/O.
"""
import math

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.economy import log_expm1, log_m
from coordsweep.kernels.equilibria import classify
from coordsweep.kernels.etatable import newton_rows
from coordsweep.kernels.jit import jit
from coordsweep.kernels.point import workspace_at
from coordsweep.kernels.sectors import PRESAMPLES, SHAPE_SAMPLES, SLOPE_STEP, path_increasing
from coordsweep.kernels.rootfind import MAXITER, XTOL

#: relative tolerance on s: F is a log-sum of terms of size |max_j t_j|
#: minus log L, so its rounding (~1e-15 of that) moves a Newton step by
#: ~1e-14 s; Brent's few-ulp tolerance would leave the search jittering
#: inside the noise. A step shorter than this (relative) ends it, and the
#: root is the stepped iterate (quadratic convergence: far inside the
#: contract's 1e-10).
ETA_RTOL = 1e-12

# W rows: the state of each active root (compacted at the front); T rows:
# the arguments NumPy transforms in place; E: the N terms of the sum
W_S, W_LO, W_HI, W_FLO, W_DLO, W_FHI, W_DHI, W_A, W_IDX = range(9)
T_T, T_H, T_LH, T_LM, T_LS = range(5)


@jit
def _start(qidx, qstart, q, n, sec, pt, W):
    """Rows of the q queued roots: start, bracket (qstart's rows), A =
    log c' - log((1 - alpha)/alpha) - b0_i, the index p N + i."""
    for k in range(q):
        j = qidx[k]
        p = j // n
        i = j - p * n
        s = sec[p]
        s0 = qstart[0, k]
        lo = qstart[1, k]
        hi = qstart[2, k]
        W[W_S, k] = s0 if lo < s0 < hi else 0.5 * (lo + hi)
        W[W_LO, k] = lo
        W[W_HI, k] = hi
        W[W_FLO, k] = W[W_DLO, k] = W[W_FHI, k] = W[W_DHI, k] = np.nan
        W[W_A, k] = math.log((1.0 - s.sigma[i]) * s.cost[i]) - pt.logcoef[p] - s.b0[i]
        W[W_IDX, k] = j


@jit
def _args_log1p(m, n, W, T, sec):
    """theta_i s (log1p's argument)."""
    for k in range(m):
        j = np.int64(W[W_IDX, k])
        p = j // n
        T[T_T, k] = sec[p].theta[j - p * n] * W[W_S, k]


@jit
def _args_expm1(m, n, W, T, pt):
    """eps log1p(theta s) (expm1's argument: h)."""
    for k in range(m):
        j = np.int64(W[W_IDX, k])
        T[T_H, k] = pt.eps[j // n] * T[T_T, k]


@jit
def _args_logs(m, W, T):
    """log h and log m = log1p(s h)'s arguments."""
    for k in range(m):
        h = T[T_H, k]
        T[T_LH, k] = h
        T[T_LM, k] = W[W_S, k] * h


@jit
def _terms(m, n, W, T, E, MX, sec, pt):
    """E[k, j] = b_j(s) - k_j x_G(s) - max, MX[k] = the max (its exps next)."""
    for k in range(m):
        j = np.int64(W[W_IDX, k])
        p = j // n
        i = j - p * n
        s = sec[p]
        eps = pt.eps[p]
        e = 1.0 / (1.0 - eps * s.eta[i])
        logm = T[T_LM, k]
        xg = (W[W_A, k] - (e - 1.0) * logm - T[T_LH, k]) / (1.0 - s.k[i])
        mx = -np.inf
        for r in range(n):
            if r == i:
                b = s.b0[r] + e * logm
            elif s.s0[r] == 1.0:
                b = s.b0[r] + s.logm1[r] / (1.0 - eps * s.eta[r])
            else:
                b = s.b0[r]
            t = b - s.k[r] * xg
            E[k, r] = t
            if t > mx:
                mx = t
        for r in range(n):
            E[k, r] -= mx
        MX[k] = mx


@jit
def _sums(m, n, W, T, E, S, SK, sec):
    """S = sum_j exp(...) and T_LS the same (its log next), SK = sum_j
    k_j exp(...) (E holds the exps)."""
    for k in range(m):
        p = np.int64(W[W_IDX, k]) // n
        s = sec[p]
        tot = 0.0
        tk = 0.0
        for r in range(n):
            v = E[k, r]
            tot += v
            tk += s.k[r] * v
        S[k] = tot
        T[T_LS, k] = tot
        SK[k] = tk


@jit
def _newton_step(m, n, W, T, E, MX, S, SK, sec, pt, root):
    """One safeguarded Newton step on F of every active root (T_LS holds
    the log of the sum, T_H h, T_T log1p(theta s)); a root that has
    converged is written into root and leaves the rows. Returns the
    number of roots still active."""
    keep = 0
    for k in range(m):
        j = np.int64(W[W_IDX, k])
        p = j // n
        i = j - p * n
        s = sec[p]
        eps = pt.eps[p]
        x = W[W_S, k]
        lo = W[W_LO, k]
        hi = W[W_HI, k]
        tot = S[k]
        F = MX[k] + T[T_LS, k] - pt.logl[p]
        h = T[T_H, k]
        theta = s.theta[i]
        e = 1.0 / (1.0 - eps * s.eta[i])
        ki = s.k[i]
        dh = eps * theta * (1.0 + h) / (1.0 + theta * x)
        dlm = (h + x * dh) / (1.0 + x * h)
        dxg = ((e - 1.0) * dlm + dh / h) / (ki - 1.0)
        dF = (E[k, i] * e * dlm - dxg * SK[k]) / tot
        if F > 0.0:
            lo = x
            W[W_FLO, k] = F
            W[W_DLO, k] = dF
        else:
            hi = x
            W[W_FHI, k] = F
            W[W_DHI, k] = dF
        delta = (XTOL + ETA_RTOL * abs(x)) / 2.0
        step = -F / dF
        xn = x + step
        inside = (lo < xn) and (xn < hi)  # False for a non-finite step
        # (a step below the rounding of x leaves xn = x = an end: converged)
        small = abs(step) <= delta
        at = F == 0.0 or hi - lo <= 2.0 * delta
        if at or small:
            root[j] = xn if small and inside else x
            continue
        if not inside:
            # F is convex where Newton overshoots: the tangent at the
            # bracket's other end lands between it and the root
            if F > 0.0:
                xn = hi - W[W_FHI, k] / W[W_DHI, k]
            else:
                xn = lo - W[W_FLO, k] / W[W_DLO, k]
            if not (lo < xn < hi):  # (NaN: that end not evaluated yet)
                xn = 0.5 * (lo + hi)
        for r in range(W.shape[0]):
            W[r, keep] = W[r, k]
        W[W_S, keep] = xn
        W[W_LO, keep] = lo
        W[W_HI, keep] = hi
        keep += 1
    return keep


@jit
def _write(q, qidx, root, conv, cm, status):
    """critical_mass[p, i] = the root; PATH_NOT_CONVERGED (and NON_FINITE
    for a root that is not a number) where the search did not converge."""
    n = cm.shape[1]
    for k in range(q):
        j = qidx[k]
        p = j // n
        v = root[j]
        cm[p, j - p * n] = v
        if not conv[j]:
            status[p] |= codes.PATH_NOT_CONVERGED
            if not math.isfinite(v):
                status[p] |= codes.NON_FINITE


@jit
def _not_converged(m, W, root, conv):
    for k in range(m):
        j = np.int64(W[W_IDX, k])
        root[j] = W[W_S, k]
        conv[j] = False


def _inplace(f, a):
    f(a, out=a)


def finish_eta_paths(scr, out, prep):
    """Solve the roots the block kernel queued in scr.gidx (kernels/point.py)
    for the points of prep, and write them into out.critical_mass (status
    bits as kernels/lockstep.py's finish_block). Returns their number."""
    q = int(scr.glen[0])
    if q == 0:
        return 0
    n = prep.sec.shape[1]
    qidx = scr.gidx[:q]
    npn = prep.sec.shape[0] * n
    root = np.empty(npn)
    conv = np.ones(npn, np.bool_)
    W = np.empty((W_IDX + 1, q))
    T = np.empty((T_LS + 1, q))
    E = np.empty((q, n))
    MX = np.empty(q)
    S = np.empty(q)
    SK = np.empty(q)
    sec, pt = prep.sec, prep.pt
    with np.errstate(all="ignore"):
        _start(qidx, scr.gstart, q, n, sec, pt, W)
        m = q
        for _ in range(MAXITER):
            if m == 0:
                break
            _args_log1p(m, n, W, T, sec)
            _inplace(np.log1p, T[T_T, :m])
            _args_expm1(m, n, W, T, pt)
            _inplace(np.expm1, T[T_H, :m])
            _args_logs(m, W, T)
            _inplace(np.log, T[T_LH, :m])
            _inplace(np.log1p, T[T_LM, :m])
            _terms(m, n, W, T, E, MX, sec, pt)
            _inplace(np.exp, E[:m])
            _sums(m, n, W, T, E, S, SK, sec)
            _inplace(np.log, T[T_LS, :m])
            m = _newton_step(m, n, W, T, E, MX, S, SK, sec, pt, root)
        _not_converged(m, W, root, conv)
    _write(q, qidx, root, conv, out.critical_mass, out.status)
    scr.glen[0] = 0
    return q


# --- the samples of the paths the certificate does not cover -------------

#: rows (wage roots) per sampled path: g_i(k / SHAPE_SAMPLES), k = 1..K,
#: and g_i(1 - SLOPE_STEP) (g_i(0) = -c' needs none)
SAMPLE_ROWS = PRESAMPLES - 1


@jit
def _to_sample(prep, scr, todo):
    """todo[:count] = p N + i for the candidate sectors of points with some
    eta_j > 0 and a profile table whose path the certificate
    (sectors.path_increasing, at the table's x1) does not cover. Returns
    count."""
    n = prep.sec.shape[1]
    count = 0
    for p in range(prep.valid.shape[0]):
        if not prep.valid[p] or not prep.pt.table[p] or prep.pt.fast[p]:
            continue
        ws = workspace_at(prep, p, scr)
        zmask, ncand, _ = classify(ws, scr.cand, scr.active)
        for c in range(ncand):
            i = scr.cand[c]
            if not path_increasing(ws, i, ws.tx[zmask | (np.int64(1) << i)]):
                todo[count] = p * n + i
                count += 1
    return count


@jit
def _fill(prep, todo, count, B, K, lo, hi, logL, LM, LE):
    """The wage rows of the sampled paths, as economy.path_g sets the
    profile and economy.log_wage the bracket (etatable.fill_rows' layout);
    LM = log m_i(s), LE = log((1 + theta_i s)^eps - 1)."""
    n = prep.sec.shape[1]
    lnn = math.log(n)
    for c in range(count):
        j = todo[c]
        p = j // n
        i = j - p * n
        s = prep.sec[p]
        eps = prep.pt.eps[p]
        logl = prep.pt.logl[p]
        for k in range(SAMPLE_ROWS):
            share = (k + 1) / SHAPE_SAMPLES if k < SHAPE_SAMPLES else 1.0 - SLOPE_STEP
            r = c * SAMPLE_ROWS + k
            a = eps * math.log1p(s.theta[i] * share)
            lm = log_m(share, a)
            LM[r] = lm
            LE[r] = log_expm1(a)
            rlo = -np.inf
            rhi = -np.inf
            for q in range(n):
                if q == i:
                    logm = lm
                elif s.s0[q] == 1.0:
                    logm = s.logm1[q]
                else:
                    logm = 0.0
                b = s.b0[q] + logm / (1.0 - eps * s.eta[q])
                B[r, q] = b
                K[r, q] = s.k[q]
                v = (b - logl) / s.k[q]
                if v > rlo:
                    rlo = v
                v = (b - logl + lnn) / s.k[q]
                if v > rhi:
                    rhi = v
            lo[r] = rlo
            hi[r] = rhi
            logL[r] = logl


@jit
def _store_samples(prep, todo, count, B, K, x, conv, LM, LE):
    """prep.gs[p, i] = g_i at the samples (economy.path_g's formula from
    the rows' wages); pt.wagefail where a root did not converge."""
    n = prep.sec.shape[1]
    for c in range(count):
        j = todo[c]
        p = j // n
        i = j - p * n
        s = prep.sec[p]
        net = (1.0 - s.sigma[i]) * s.cost[i]
        prep.gs[p, i, 0] = -net
        for k in range(SAMPLE_ROWS):
            r = c * SAMPLE_ROWS + k
            xr = x[r]
            logr = prep.pt.logcoef[p] + xr + (B[r, i] - K[r, i] * xr) - LM[r]
            prep.gs[p, i, k + 1] = math.exp(logr + LE[r]) - net
            if not conv[r]:
                prep.pt.wagefail[p] = True


def sample_eta_paths(prep, scr):
    """Sample, in lock-step, the GE paths of the block's points with some
    eta_j > 0 (and a profile table: the default wage variant) that the
    certificate does not cover: prep.gs (kernels/sectors.py PRESAMPLES),
    read by analyse_candidate instead of a wage root per sample. Returns
    the number of paths sampled."""
    npts, n = prep.sec.shape
    todo = np.empty(npts * n, np.int64)
    count = _to_sample(prep, scr, todo)
    if count == 0:
        return 0
    rows = count * SAMPLE_ROWS
    B = np.empty((rows, n))
    K = np.empty((rows, n))
    lo, hi, logL, LM, LE = (np.empty(rows) for _ in range(5))
    with np.errstate(all="ignore"):
        _fill(prep, todo, count, B, K, lo, hi, logL, LM, LE)
        x, conv = newton_rows(B, K, lo, hi, logL)
        _store_samples(prep, todo, count, B, K, x, conv, LM, LE)
    return count
