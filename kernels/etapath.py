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
numba loops over the roots still active, stored a root per column (the
loops over roots run in vector lanes too), and the converged ones are
moved out once a quarter of them are. With w_j the shares of L_j in L,

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
from coordsweep.kernels.etatable import newton_rows, row_buffers, term_sums
from coordsweep.kernels.jit import jit
from coordsweep.kernels.lockstep import (
    compact_columns, exp_pade, log_predicted_converged, staggered_block, step_tol)
from coordsweep.kernels.sectors import PRESAMPLES, SHAPE_SAMPLES, SLOPE_STEP
from coordsweep.kernels.rootfind import MAXITER

#: relative tolerance on s: F is a log-sum of terms of size |max_j t_j|
#: minus log L, so its rounding (~1e-15 of that) moves a Newton step by
#: ~1e-14 s; Brent's few-ulp tolerance would leave the search jittering
#: inside the noise. A step shorter than this (relative) ends it, and the
#: root is the stepped iterate (quadratic convergence: far inside the
#: contract's 1e-10).
ETA_RTOL = 1e-12
#: a Newton step in log s longer than this takes exp itself: _newton's
#: lockstep.exp_pade is exp to second order only, and on a long step it
#: tends to 1 (from a start far below the root, as where c' is tiny and
#: the path far from linear in s, the search would creep up by factors of
#: about 2 and its steps fall below the tolerance before the root)
PADE_SPAN = 0.5

# the search also stops when the next Newton error in log s, estimated
# from F'' over the last step, is small (kernels/lockstep.py
# log_predicted_converged)

# R: the active roots (at the front; each root's state and constants
# travel with it; a root done stays in place, frozen, until a quarter of
# them are, then the others move up: lockstep.compact_columns), a column
# a root, its rows: s, the bracket and
# F, F' at its ends, A, the root's place in the queue, theta_i, eps, e_i,
# k_i, log L, i, the previous iterate and F' there, then b_j at S0 (b0_i
# for j = i) and k_j (R_B + j, R_B + N + j). T rows: the arguments NumPy
# transforms in place, then x_G, F, F', the step in log s, the iterate
# and the i-th term of the sum (_newton), whether the root is done;
# E[j]: the N terms of the sum.
# Every pass is a loop over the columns of these rows (the loops run in
# the CPU's vector lanes; the searches' branches are in _newton_step).
(R_S, R_LO, R_HI, R_FLO, R_DLO, R_FHI, R_DHI, R_A, R_Q, R_THETA, R_EPS, R_E, R_KI,
 R_LOGL, R_I, R_XP, R_DP, R_B) = range(18)
T_T, T_H, T_LH, T_LM, T_LS, T_XG, T_F, T_DF, T_DY, T_XN, T_EI, T_DONE = range(12)
T_ROWS = 12
#: the T rows a root's next pass reads (its log1p argument)
_MOVED = np.array([T_T])


@jit
def _start(qidx, qstart, q, n, sec, pt, R, T):
    """Columns of the q queued roots: start, bracket (qstart's rows), A =
    log c' - log((1 - alpha)/alpha) - b0_i, the constants, b_j and k_j;
    the first log1p argument theta_i s."""
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
        R[R_S, k] = x
        R[R_LO, k] = lo
        R[R_HI, k] = hi
        R[R_FLO, k] = R[R_DLO, k] = R[R_FHI, k] = R[R_DHI, k] = np.nan
        R[R_XP, k] = R[R_DP, k] = np.nan
        R[R_A, k] = math.log((1.0 - s.sigma[i]) * s.cost[i]) - pt.logcoef[p] - s.b0[i]
        R[R_Q, k] = k
        R[R_THETA, k] = s.theta[i]
        R[R_EPS, k] = eps
        R[R_E, k] = 1.0 / (1.0 - eps * s.eta[i])
        R[R_KI, k] = s.k[i]
        R[R_LOGL, k] = pt.logl[p]
        R[R_I, k] = i
        for r in range(n):
            if r != i and s.s0[r] == 1.0:
                b = s.b0[r] + s.logm1[r] / (1.0 - eps * s.eta[r])
            else:
                b = s.b0[r]
            R[R_B + r, k] = b
            R[R_B + n + r, k] = s.k[r]
        T[T_T, k] = s.theta[i] * x


@jit
def _args_expm1(m, R, T):
    """eps log1p(theta s) (expm1's argument: h)."""
    for k in range(m):
        T[T_H, k] = R[R_EPS, k] * T[T_T, k]


@jit
def _args_logs(m, R, T):
    """log h and log m = log1p(s h)'s arguments."""
    for k in range(m):
        h = T[T_H, k]
        T[T_LH, k] = h
        T[T_LM, k] = R[R_S, k] * h


@jit
def _terms(m, n, R, T, E, MX):
    """E[j, k] = b_j(s) - k_j x_G(s) - max, MX[k] = the max (its exps
    next); x_G into T_XG."""
    for k in range(m):
        T[T_XG, k] = ((R[R_A, k] - (R[R_E, k] - 1.0) * T[T_LM, k] - T[T_LH, k])
                      / (1.0 - R[R_KI, k]))
        MX[k] = -np.inf
    for r in range(n):
        for k in range(m):
            b = R[R_B + r, k]
            b = b + R[R_E, k] * T[T_LM, k] if R[R_I, k] == r else b
            t = b - R[R_B + n + r, k] * T[T_XG, k]
            E[r, k] = t
            MX[k] = t if t > MX[k] else MX[k]
    for r in range(n):
        for k in range(m):
            E[r, k] = E[r, k] - MX[k]


@jit
def _exp_i(m, R, T, E):
    """T_EI = the i-th exp of the sum (E holds the exps)."""
    for k in range(m):
        T[T_EI, k] = E[np.int64(R[R_I, k]), k]


@jit
def _newton(m, R, T, MX, S, SK):
    """F, F' and Newton's step in y = log s (F is close to linear in log
    s) of every active root (T_LS holds the log of the sum, T_H h): into
    T_F, T_DF, T_DY and the iterate T_XN (a loop without branches: its
    divisions run in vector lanes)."""
    for k in range(m):
        x = R[R_S, k]
        tot = S[k]
        F = MX[k] + T[T_LS, k] - R[R_LOGL, k]
        h = T[T_H, k]
        theta = R[R_THETA, k]
        eps = R[R_EPS, k]
        e = R[R_E, k]
        dh = eps * theta * (1.0 + h) / (1.0 + theta * x)
        dlm = (h + x * dh) / (1.0 + x * h)
        dxg = ((e - 1.0) * dlm + dh / h) / (R[R_KI, k] - 1.0)
        dF = (T[T_EI, k] * e * dlm - dxg * SK[k]) / tot
        dy = -F / (x * dF)
        T[T_F, k] = F
        T[T_DF, k] = dF
        T[T_DY, k] = dy
        T[T_XN, k] = x * exp_pade(dy)


@jit
def _newton_step(m, R, T, root):
    """One safeguarded Newton step in log s on F of every active root
    (:func:`_newton`'s values in T); a root that has converged is written
    into root (the queue's order) and marked done (T_DONE); the others'
    next log1p argument theta s is written. A root already done stays as
    it is (until lockstep.compact_columns moves it out). Returns the
    number of roots not done."""
    left = 0
    for k in range(m):
        if T[T_DONE, k] != 0.0:
            continue
        x = R[R_S, k]
        lo = R[R_LO, k]
        hi = R[R_HI, k]
        F = T[T_F, k]
        dF = T[T_DF, k]
        if F > 0.0:
            lo = x
            R[R_FLO, k] = F
            R[R_DLO, k] = dF
        else:
            hi = x
            R[R_FHI, k] = F
            R[R_DHI, k] = dF
        delta = step_tol(x, ETA_RTOL)
        dy = T[T_DY, k]
        xn = T[T_XN, k]
        if abs(dy) > PADE_SPAN:  # (exp_pade tends to 1 on a long step)
            xn = x * math.exp(dy)
        step = xn - x
        inside = (lo < xn) and (xn < hi)  # False for a non-finite step
        # (a step below the rounding of x leaves xn = x = an end: converged)
        small = abs(step) <= delta
        at = F == 0.0 or hi - lo <= 2.0 * delta
        if at or small:
            root[np.int64(R[R_Q, k])] = xn if small and inside else x
            T[T_DONE, k] = 1.0
            continue
        if inside and log_predicted_converged(x, dy, dF, R[R_XP, k], R[R_DP, k]):
            root[np.int64(R[R_Q, k])] = xn
            T[T_DONE, k] = 1.0
            continue
        if not inside:
            # F is convex where Newton overshoots: the tangent at the
            # bracket's other end lands between it and the root
            if F > 0.0:
                xn = hi - R[R_FHI, k] / R[R_DHI, k]
            else:
                xn = lo - R[R_FLO, k] / R[R_DLO, k]
            if not (lo < xn < hi):  # (NaN: that end not evaluated yet)
                xn = 0.5 * (lo + hi)
        R[R_S, k] = xn
        R[R_LO, k] = lo
        R[R_HI, k] = hi
        R[R_XP, k] = x
        R[R_DP, k] = dF
        T[T_T, k] = R[R_THETA, k] * xn
        left += 1
    return left


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
def _not_converged(m, R, T, root, conv):
    for k in range(m):
        if T[T_DONE, k] != 0.0:
            continue
        q = np.int64(R[R_Q, k])
        root[q] = R[R_S, k]
        conv[q] = False


def _inplace(f, a):
    f(a, out=a)


_WORK = threading.local()


def _work(q, n):
    """This thread's room for q roots of n sectors (R, T, E, MX, S, SK),
    reused by the next block (fresh arrays cost page faults)."""
    buf = getattr(_WORK, "buf", None)
    if buf is None or buf[3].shape[0] < q or buf[0].shape[0] != R_B + 2 * n:
        cap = max(q, 1024)
        buf = (staggered_block(R_B + 2 * n, cap), staggered_block(T_ROWS, cap),
               staggered_block(n, cap),
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
    R, T, E, MX, S, SK = _work(q, n)
    sec, pt = prep.sec, prep.pt
    with np.errstate(all="ignore"):
        _start(qidx, scr.gstart, q, n, sec, pt, R, T)
        T[T_DONE, :q] = 0.0
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
            _terms(m, n, R, T, E, MX)
            _inplace(np.exp, E[:, :m])
            # S, the log's argument and SK = sum_j k_j exp(...), as the
            # wage roots' sums (their k_j: R's rows R_B + N ...)
            term_sums(m, R[R_B + n:R_B + 2 * n], E, S, T[T_LS], SK)
            _exp_i(m, R, T, E)
            _inplace(np.log, T[T_LS, :m])
            _newton(m, R, T, MX, S, SK)
            left = _newton_step(m, R, T, root)
            if 4 * left <= 3 * m:  # (a quarter done: move them out)
                m = compact_columns(m, R, T, T_DONE, _MOVED)
        _not_converged(m, R, T, root, conv)
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
