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

Safeguarded Newton in y = log s inside the bracket [0, 1] that keeps
the sign change: F is close to -c log s + const, nearly linear in log s,
so a step in log s (s -> s exp(-F / (s F')), the exp by
lockstep.exp_pade) lands closer than one in s (about 3.1 evaluations a
root on random points instead of 3.8). A step leaving the bracket is
replaced by the tangent step in s from the bracket's other end (F is
mostly convex: it lands between that end and the root), or by bisection
where that end has not been evaluated. The search starts where the block
kernel queued it (kernels/sectors.py: where log(g_i + c') ~ log s + const
crosses log c') and stops when a step is shorter than ETA_RTOL
(relative).

Results do not depend on how points are blocked: every operation is
elementwise or a sum over sectors in sector order, and every NumPy call
is made in place (kernels/lockstep.py explains why). No I/O.
"""
import math
import threading

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.economy import KIND_CAND, log_expm1, log_m, newton_error_coef
from coordsweep.kernels.etapoint import E_CERT
from coordsweep.kernels.etatable import newton_rows, row_buffers
from coordsweep.kernels.jit import jit
from coordsweep.kernels.lockstep import exp_pade, log_predicted_converged, staggered_rows
from coordsweep.kernels.sectors import PRESAMPLES, SHAPE_SAMPLES, SLOPE_STEP
from coordsweep.kernels.rootfind import MAXITER, XTOL

#: relative tolerance on s: F is a log-sum of terms of size |max_j t_j|
#: minus log L, so its rounding (~1e-15 of that) moves a Newton step by
#: ~1e-14 s; Brent's few-ulp tolerance would leave the search jittering
#: inside the noise. A step shorter than this (relative) ends it, and the
#: root is the stepped iterate (quadratic convergence: far inside the
#: contract's 1e-10).
ETA_RTOL = 1e-12

# the search also stops when the next Newton error in log s, estimated
# from F'' over the last step, is small (kernels/lockstep.py
# log_predicted_converged)

# R: one row per active root (compacted at the front; its state and
# constants travel with it): s, the bracket and F, F' at its ends, A, the
# root's place in the queue, theta_i, eps, e_i, k_i, log L, i, the
# previous iterate and F' there. BK[k] (the queue's order): b_j at S0
# (b0_i for j = i) then k_j. T rows: the arguments NumPy transforms in
# place, then F, F', the step in log s and the iterate (_newton); E: the
# N terms of the sum.
(R_S, R_LO, R_HI, R_FLO, R_DLO, R_FHI, R_DHI, R_A, R_Q, R_THETA, R_EPS, R_E, R_KI,
 R_LOGL, R_I, R_XP, R_DP) = range(17)
R_COLS = 17
T_T, T_H, T_LH, T_LM, T_LS, T_F, T_DF, T_DY, T_XN = range(9)


@jit
def _start(qidx, qstart, q, n, sec, pt, R, BK, T):
    """Rows of the q queued roots: start, bracket (qstart's rows), A =
    log c' - log((1 - alpha)/alpha) - b0_i, the constants; BK; the first
    log1p argument theta_i s."""
    for k in range(q):
        j = qidx[k]
        p = j // n
        i = j - p * n
        s = sec[p]
        eps = pt.eps[p]
        s0 = qstart[0, k]
        lo = qstart[1, k]
        hi = qstart[2, k]
        x = s0 if lo < s0 < hi else 0.5 * (lo + hi)
        R[k, R_S] = x
        R[k, R_LO] = lo
        R[k, R_HI] = hi
        R[k, R_FLO] = R[k, R_DLO] = R[k, R_FHI] = R[k, R_DHI] = np.nan
        R[k, R_XP] = R[k, R_DP] = np.nan
        R[k, R_A] = math.log((1.0 - s.sigma[i]) * s.cost[i]) - pt.logcoef[p] - s.b0[i]
        R[k, R_Q] = k
        R[k, R_THETA] = s.theta[i]
        R[k, R_EPS] = eps
        R[k, R_E] = 1.0 / (1.0 - eps * s.eta[i])
        R[k, R_KI] = s.k[i]
        R[k, R_LOGL] = pt.logl[p]
        R[k, R_I] = i
        for r in range(n):
            if r != i and s.s0[r] == 1.0:
                b = s.b0[r] + s.logm1[r] / (1.0 - eps * s.eta[r])
            else:
                b = s.b0[r]
            BK[k, r] = b
            BK[k, n + r] = s.k[r]
        T[T_T, k] = s.theta[i] * x


@jit
def _args_expm1(m, R, T):
    """eps log1p(theta s) (expm1's argument: h)."""
    for k in range(m):
        T[T_H, k] = R[k, R_EPS] * T[T_T, k]


@jit
def _args_logs(m, R, T):
    """log h and log m = log1p(s h)'s arguments."""
    for k in range(m):
        h = T[T_H, k]
        T[T_LH, k] = h
        T[T_LM, k] = R[k, R_S] * h


@jit
def _terms(m, n, R, BK, T, E, MX):
    """E[k, j] = b_j(s) - k_j x_G(s) - max, MX[k] = the max (its exps next)."""
    for k in range(m):
        q = np.int64(R[k, R_Q])
        i = np.int64(R[k, R_I])
        e = R[k, R_E]
        logm = T[T_LM, k]
        xg = (R[k, R_A] - (e - 1.0) * logm - T[T_LH, k]) / (1.0 - R[k, R_KI])
        mx = -np.inf
        for r in range(n):
            b = BK[q, r]
            if r == i:
                b = b + e * logm
            t = b - BK[q, n + r] * xg
            E[k, r] = t
            if t > mx:
                mx = t
        for r in range(n):
            E[k, r] -= mx
        MX[k] = mx


@jit
def _sums(m, n, R, BK, T, E, S, SK):
    """S = sum_j exp(...) and T_LS the same (its log next), SK = sum_j
    k_j exp(...) (E holds the exps)."""
    for k in range(m):
        q = np.int64(R[k, R_Q])
        tot = 0.0
        tk = 0.0
        for r in range(n):
            v = E[k, r]
            tot += v
            tk += BK[q, n + r] * v
        S[k] = tot
        T[T_LS, k] = tot
        SK[k] = tk


@jit
def _newton(m, R, T, E, MX, S, SK):
    """F, F' and Newton's step in y = log s (F is close to linear in log
    s) of every active root (T_LS holds the log of the sum, T_H h): into
    T_F, T_DF, T_DY and the iterate T_XN (a loop without branches: its
    divisions run in vector lanes)."""
    for k in range(m):
        x = R[k, R_S]
        tot = S[k]
        F = MX[k] + T[T_LS, k] - R[k, R_LOGL]
        h = T[T_H, k]
        theta = R[k, R_THETA]
        eps = R[k, R_EPS]
        e = R[k, R_E]
        dh = eps * theta * (1.0 + h) / (1.0 + theta * x)
        dlm = (h + x * dh) / (1.0 + x * h)
        dxg = ((e - 1.0) * dlm + dh / h) / (R[k, R_KI] - 1.0)
        dF = (E[k, np.int64(R[k, R_I])] * e * dlm - dxg * SK[k]) / tot
        dy = -F / (x * dF)
        T[T_F, k] = F
        T[T_DF, k] = dF
        T[T_DY, k] = dy
        T[T_XN, k] = x * exp_pade(dy)


@jit
def _newton_step(m, R, T, root):
    """One safeguarded Newton step in log s on F of every active root
    (:func:`_newton`'s values in T); a root that has converged is written
    into root (the queue's order) and leaves the rows; the others' next
    log1p argument theta s is written. Returns the number of roots still
    active."""
    keep = 0
    for k in range(m):
        x = R[k, R_S]
        lo = R[k, R_LO]
        hi = R[k, R_HI]
        F = T[T_F, k]
        dF = T[T_DF, k]
        theta = R[k, R_THETA]
        if F > 0.0:
            lo = x
            R[k, R_FLO] = F
            R[k, R_DLO] = dF
        else:
            hi = x
            R[k, R_FHI] = F
            R[k, R_DHI] = dF
        delta = (XTOL + ETA_RTOL * abs(x)) / 2.0
        dy = T[T_DY, k]
        xn = T[T_XN, k]
        step = xn - x
        inside = (lo < xn) and (xn < hi)  # False for a non-finite step
        # (a step below the rounding of x leaves xn = x = an end: converged)
        small = abs(step) <= delta
        at = F == 0.0 or hi - lo <= 2.0 * delta
        if at or small:
            root[np.int64(R[k, R_Q])] = xn if small and inside else x
            continue
        if inside and log_predicted_converged(x, dy, dF, R[k, R_XP], R[k, R_DP]):
            root[np.int64(R[k, R_Q])] = xn
            continue
        if not inside:
            # F is convex where Newton overshoots: the tangent at the
            # bracket's other end lands between it and the root
            if F > 0.0:
                xn = hi - R[k, R_FHI] / R[k, R_DHI]
            else:
                xn = lo - R[k, R_FLO] / R[k, R_DLO]
            if not (lo < xn < hi):  # (NaN: that end not evaluated yet)
                xn = 0.5 * (lo + hi)
        if keep != k:
            for r in range(R_COLS):
                R[keep, r] = R[k, r]
        R[keep, R_S] = xn
        R[keep, R_LO] = lo
        R[keep, R_HI] = hi
        R[keep, R_XP] = x
        R[keep, R_DP] = dF
        T[T_T, keep] = theta * xn
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
        v = root[k]
        cm[p, j - p * n] = v
        if not conv[k]:
            status[p] |= codes.PATH_NOT_CONVERGED
            if not math.isfinite(v):
                status[p] |= codes.NON_FINITE


@jit
def _not_converged(m, R, root, conv):
    for k in range(m):
        q = np.int64(R[k, R_Q])
        root[q] = R[k, R_S]
        conv[q] = False


def _inplace(f, a):
    f(a, out=a)


_WORK = threading.local()


def _work(q, n):
    """This thread's room for q roots of n sectors (R, BK, T, E, MX, S,
    SK), reused by the next block (fresh arrays cost page faults)."""
    buf = getattr(_WORK, "buf", None)
    if buf is None or buf[0].shape[0] < q or buf[1].shape[1] != 2 * n:
        cap = max(q, 1024)
        buf = (np.empty((cap, R_COLS)), np.empty((cap, 2 * n)),
               staggered_rows(T_XN + 1, cap), np.empty((cap, n)),
               np.empty(cap), np.empty(cap), np.empty(cap))
        _WORK.buf = buf
    return buf


def finish_eta_paths(scr, out, prep):
    """Solve the roots the block kernel queued in scr.gidx (kernels/point.py)
    for the points of prep, and write them into out.critical_mass (status
    bits as kernels/lockstep.py's finish_block). Returns their number."""
    q = int(scr.glen[0])
    if q == 0:
        return 0
    n = prep.sec.shape[1]
    qidx = scr.gidx[:q]
    root = np.empty(q)
    conv = np.ones(q, np.bool_)
    R, BK, T, E, MX, S, SK = _work(q, n)
    sec, pt = prep.sec, prep.pt
    with np.errstate(all="ignore"):
        _start(qidx, scr.gstart, q, n, sec, pt, R, BK, T)
        m = q
        for _ in range(MAXITER):
            if m == 0:
                break
            _inplace(np.log1p, T[T_T, :m])
            _args_expm1(m, R, T)
            _inplace(np.expm1, T[T_H, :m])
            _args_logs(m, R, T)
            _inplace(np.log, T[T_LH, :m])
            _inplace(np.log1p, T[T_LM, :m])
            _terms(m, n, R, BK, T, E, MX)
            _inplace(np.exp, E[:m])
            _sums(m, n, R, BK, T, E, S, SK)
            _inplace(np.log, T[T_LS, :m])
            _newton(m, R, T, E, MX, S, SK)
            m = _newton_step(m, R, T, root)
        _not_converged(m, R, root, conv)
    _write(q, qidx, root, conv, out.critical_mass, out.status)
    scr.glen[0] = 0
    return q


# --- the samples of the paths the certificate does not cover -------------

#: rows (wage roots) per sampled path: g_i(k / SHAPE_SAMPLES), k = 1..K,
#: and g_i(1 - SLOPE_STEP) (g_i(0) = -c' needs none)
SAMPLE_ROWS = PRESAMPLES - 1


@jit
def _to_sample(prep, todo):
    """todo[:count] = p N + i for the candidate sectors of points with some
    eta_j > 0 and a profile table whose path the certificate does not
    cover (kernels/etapoint.py's flag, at the table's x1). Returns count."""
    n = prep.sec.shape[1]
    count = 0
    for p in range(prep.valid.shape[0]):
        if not prep.valid[p] or not prep.pt.table[p] or prep.pt.fast[p]:
            continue
        s = prep.sec[p]
        for i in range(n):
            if s.kind[i] == KIND_CAND and prep.tmp[E_CERT, p, i] != 1.0:
                todo[count] = p * n + i
                count += 1
    return count


@jit
def _share_args(prep, todo, count, T):
    """theta_i s at each sample's share s (log1p's argument)."""
    n = prep.sec.shape[1]
    for c in range(count):
        j = todo[c]
        p = j // n
        theta = prep.sec[p].theta[j - p * n]
        for k in range(SAMPLE_ROWS):
            share = (k + 1) / SHAPE_SAMPLES if k < SHAPE_SAMPLES else 1.0 - SLOPE_STEP
            T[c * SAMPLE_ROWS + k] = theta * share


@jit
def _a_args(prep, todo, count, T, E):
    """a = eps log1p(theta s) into T, and into E (expm1's argument)."""
    n = prep.sec.shape[1]
    for c in range(count):
        eps = prep.pt.eps[todo[c] // n]
        for k in range(SAMPLE_ROWS):
            r = c * SAMPLE_ROWS + k
            a = eps * T[r]
            T[r] = a
            E[r] = a


@jit
def _m_args(count, E, LM, LE):
    """From e = expm1(a): log1p(s e)'s and log(e)'s arguments."""
    for c in range(count):
        for k in range(SAMPLE_ROWS):
            share = (k + 1) / SHAPE_SAMPLES if k < SHAPE_SAMPLES else 1.0 - SLOPE_STEP
            r = c * SAMPLE_ROWS + k
            LM[r] = share * E[r]
            LE[r] = E[r]


@jit
def _fill(prep, todo, count, A, CB, CK, WX, WH, WL, WKE, LM, LE, pre):
    """The wage rows of the sampled paths, as economy.path_g sets the
    profile and economy.log_wage the bracket, in etatable.fill_rows'
    layout (CB, CK: columns of b_i, k_i; WX = lo, WH = hi, WL = log L, WKE
    the error coefficient), from a = eps log1p(theta s) (A) and LM =
    log1p(s expm1(a)), LE = log(expm1(a)) (economy.log_m and log_expm1,
    whose other branches, for large a, are taken here). pre: room for
    3 x N values (b_q and the bracket's terms of the sectors at S0, the
    same in every row of a path)."""
    n = prep.sec.shape[1]
    lnn = math.log(n)
    for c in range(count):
        j = todo[c]
        p = j // n
        i = j - p * n
        s = prep.sec[p]
        eps = prep.pt.eps[p]
        logl = prep.pt.logl[p]
        kmin = np.inf
        kmax = 0.0
        for q in range(n):
            k = s.k[q]
            kmin = min(kmin, k)
            kmax = max(kmax, k)
            logm = s.logm1[q] if s.s0[q] == 1.0 else 0.0
            b = s.b0[q] + logm / (1.0 - eps * s.eta[q])
            pre[0, q] = b
            pre[1, q] = (b - logl) / k
            pre[2, q] = (b - logl + lnn) / k
        kerr = newton_error_coef(kmin, kmax)
        for k in range(SAMPLE_ROWS):
            share = (k + 1) / SHAPE_SAMPLES if k < SHAPE_SAMPLES else 1.0 - SLOPE_STEP
            r = c * SAMPLE_ROWS + k
            a = A[r]
            if not a < 700.0:
                LM[r] = log_m(share, a)
            if a > 30.0:
                LE[r] = log_expm1(a)
            lm = LM[r]
            rlo = -np.inf
            rhi = -np.inf
            for q in range(n):
                if q == i:
                    b = s.b0[q] + lm / (1.0 - eps * s.eta[q])
                    vlo = (b - logl) / s.k[q]
                    vhi = (b - logl + lnn) / s.k[q]
                else:
                    b = pre[0, q]
                    vlo = pre[1, q]
                    vhi = pre[2, q]
                CB[q, r] = b
                CK[q, r] = s.k[q]
                if vlo > rlo:
                    rlo = vlo
                if vhi > rhi:
                    rhi = vhi
            WX[r] = rlo
            WH[r] = rhi
            WL[r] = logl
            WKE[r] = kerr


@jit
def _sample_args(prep, todo, count, CB, CK, x, LM, LE):
    """LE[r] = log(g_i + c') at the samples (economy.path_g's log R_i +
    log_expm1(a), from the rows' wages): its exp next, in SIMD lanes."""
    n = prep.sec.shape[1]
    for c in range(count):
        j = todo[c]
        p = j // n
        i = j - p * n
        for k in range(SAMPLE_ROWS):
            r = c * SAMPLE_ROWS + k
            xr = x[r]
            logr = prep.pt.logcoef[p] + xr + (CB[i, r] - CK[i, r] * xr) - LM[r]
            LE[r] = logr + LE[r]


@jit
def _store_samples(prep, todo, count, conv, LE):
    """prep.gs[p, i] = g_i at the samples (LE holds g_i + c'); pt.wagefail
    where a root did not converge."""
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
            prep.gs[p, i, k + 1] = LE[r] - net
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
    count = _to_sample(prep, todo)
    if count == 0:
        return 0
    rows = count * SAMPLE_ROWS
    w = row_buffers(rows, n)
    CB, CK = w["CB"], w["CK"]
    LM, LE = w["LM"], w["LE"]
    A, E = w["x"], w["S"]  # (free until newton_rows)
    with np.errstate(all="ignore"):
        # a, expm1(a), log1p(s expm1(a)), log(expm1(a)) in SIMD lanes
        _share_args(prep, todo, count, A)
        np.log1p(A, out=A)
        _a_args(prep, todo, count, A, E)
        np.expm1(E, out=E)
        _m_args(count, E, LM, LE)
        np.log1p(LM, out=LM)
        np.log(LE, out=LE)
        _fill(prep, todo, count, A, CB, CK, w["WX"], w["WH"], w["WL"], w["WKE"],
              LM, LE, np.empty((3, n)))
        x, conv = newton_rows(rows, w)
        _sample_args(prep, todo, count, CB, CK, x, LM, LE)
        np.exp(LE, out=LE)
        _store_samples(prep, todo, count, conv, LE)
    return count
