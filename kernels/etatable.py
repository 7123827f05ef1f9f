"""The profile table (kernels/table.py) for points with some eta_i > 0:
every full-cooperation profile's wage root found in lock-step, all
(point, profile) rows of a block at once.

With eta_i > 0 the clearing wage of a profile S is the root of

    h(x) = logsumexp_i(b_i - k_i x) - log L,  b_i = b0_i + log m_i / (1 - eps eta_i)

(kernels/economy.py ``log_wage``: safeguarded Newton from x = lo, rising
monotonically onto the root, capped by hi). Point by point that is the
first best's 2^N roots, each some N + 1 scalar libm calls per Newton step:
~80% of the kernel's time at N = 8. Here a numba pass (:func:`fill_rows`)
writes every row's b_i and k_i, in sector-major columns, and its bracket
and start exactly as log_wage computes them, and :func:`newton_rows` runs
log_wage's iteration on all rows together in NumPy (same start, step, cap
by hi and stopping rules, the early stop on economy.newton_error_coef's
bound included; sums over sectors added in sector order, as the scalar
loops do), where exp and log run in SIMD lanes, and so do the numba
loops between them (the columns are read where the fill wrote them: no
copy before the first pass). Then
W = sum_i exp(x + log L_i) / (1 + tau_i) / alpha - C(S), as
``binary_welfare``. The roots agree with log_wage's to a few ulps of
max(1, |x|): NumPy's vector exp/log and libm's may differ in the last bit.

Only for the default wage variant (Newton): the variants (brent, bisect,
a user's function) keep computing profile wages their own way, so that
``coordsweep bench`` compares them. Points with every eta_i = 0 that are
not on the linear-scale fast path (terms spanning more than exp(600)) stay
out: their wage is closed form, not a root.

Non-convergence: a row whose Newton iteration hits its cap is not
remembered per row; its point gets ``pt.wagefail`` (kernels/point.py's
workspace_at turns it into WAGE_NOT_CONVERGED). The dfs and brute
equilibrium variants' first best reads every profile in which no inert
sector cooperates, and a profile with an inert sector cooperating is the
same root as without it (theta_i = 0: m_i(1) = 1, the same b_i), so the
point is flagged exactly when the scalar path would have flagged it
(tests/test_table_eta.py checks it under COORDSWEEP_DEBUG_MAXITER). The
mitm variant's branch-and-bound first best reads fewer profiles: there a
point may be flagged for a root it never used.

Results do not depend on how points are blocked: every operation is
elementwise or a sum over sectors in a fixed order, and every
transcendental call is made in place (kernels/lockstep.py explains why).
"""
import math
import threading

import numpy as np

from coordsweep.kernels.economy import NEWTON_MAXITER, WAGE_NEWTON, newton_error_coef
from coordsweep.kernels.lockstep import staggered_block
from coordsweep.kernels.etapoint import prepare_eta_points
from coordsweep.kernels.wages import WAGE_TOL  # (log_wage's stopping rule)
from coordsweep.kernels.jit import jit

#: rows (point, profile) solved together: the iteration's arrays (some 20
#: doubles a row at N = 3, 40 at N = 8) stay in a core's 2 MB L2 cache
ROWS = 1 << 13


@jit
def fill_rows(sec, pt, pts, pre, CB, CK, WX, WH, WL, WKE):
    """The rows of the points pts (row r = q 2^N + S: point pts[q],
    profile S), in columns: CB[i, r] = b_i, CK[i, r] = k_i, and the
    Newton iteration's start: WX[r] = lo, WH[r] = hi (the bracket), WL[r]
    = log L, WKE[r] the error coefficient, as economy.log_wage_from
    computes them (pre: room for 3 x 2 x N values)."""
    n = CB.shape[0]
    nprof = np.int64(1) << n
    lnn = math.log(n)
    for q in range(pts.shape[0]):
        p = pts[q]
        s = sec[p]
        eps = pt.eps[p]
        logl = pt.logl[p]
        kmin = np.inf
        kmax = 0.0
        for i in range(n):
            k = s.k[i]
            kmin = min(kmin, k)
            kmax = max(kmax, k)
            for on in range(2):
                logm = s.logm1[i] if on else 0.0
                b = s.b0[i] + logm / (1.0 - eps * s.eta[i])
                pre[0, on, i] = b
                pre[1, on, i] = (b - logl) / k
                pre[2, on, i] = (b - logl + lnn) / k
        kerr = newton_error_coef(kmin, kmax)
        base = q * nprof
        for i in range(n):
            k = s.k[i]
            for mask in range(nprof):
                CB[i, base + mask] = pre[0, (mask >> i) & 1, i]
                CK[i, base + mask] = k
        for mask in range(nprof):
            r = base + mask
            rlo = -np.inf
            rhi = -np.inf
            for i in range(n):
                on = (mask >> i) & 1
                v = pre[1, on, i]
                if v > rlo:
                    rlo = v
                v = pre[2, on, i]
                if v > rhi:
                    rhi = v
            WX[r] = rlo
            WH[r] = rhi
            WL[r] = logl
            WKE[r] = kerr


# newton_rows runs on the rows' columns as their fill left them (CB[i, r],
# CK[i, r]: b_i, k_i of row r; WE[i, j]: the exps' arguments) and per row
# its x, hi, log L, error coefficient and converged flag (WX, WH, WL, WKE,
# WC). Each pass is a numba loop over the working rows (sector-major: the
# loops over rows run in the CPU's vector lanes), the exps and the log in
# NumPy over the same rows. Rows that converge stay in place, frozen,
# until a quarter of the working rows have converged; then the others move
# up, the first time from the fill's columns into per-thread work columns
# WB, WK (CB, CK stay as filled, for the caller), with their original row
# in WR (most roots take three steps: the first two passes need no
# compaction at all).


@jit
def _terms(m, WB, WK, WX, WE, MX):
    """Working rows j < m: WE[i, j] = t_i - mx, t_i = b_i - k_i x,
    MX[j] = max_i t_i (in sector order, as economy.log_wage_from)."""
    n = WB.shape[0]
    for j in range(m):
        MX[j] = -np.inf
    for i in range(n):
        for j in range(m):
            t = WB[i, j] - WK[i, j] * WX[j]
            WE[i, j] = t
            MX[j] = t if t > MX[j] else MX[j]
    for i in range(n):
        for j in range(m):
            WE[i, j] = WE[i, j] - MX[j]


@jit
def term_sums(m, WK, WE, S, LS, DS):
    """S[j] = sum_i exp(t_i - mx), DS[j] = sum_i k_i exp(t_i - mx) (WE holds
    the exps), in sector order; LS[j] = S[j] (its log next)."""
    n = WK.shape[0]
    for j in range(m):
        S[j] = 0.0
        DS[j] = 0.0
    for i in range(n):
        for j in range(m):
            e = WE[i, j]
            S[j] = S[j] + e
            DS[j] = DS[j] + WK[i, j] * e
    for j in range(m):
        LS[j] = S[j]


@jit
def _step(m, WX, WH, WL, WKE, WC, MX, S, LS, DS):
    """log_wage_from's Newton step on the working rows j < m (LS holds
    log s): a row not yet converged moves on (its x and converged flag as
    the scalar loop leaves them); a converged row stays. Returns the
    number of rows not converged."""
    left = 0
    for j in range(m):
        xr = WX[j]
        hr = WH[j]
        h = MX[j] + LS[j] - WL[j]
        step = h * S[j] / DS[j]  # -h / h'(x), > 0
        xn = xr + step
        capped = xn > hr
        xc = 0.5 * (xr + hr) if capped else xn
        # the root within the tolerance of xn (economy.newton_error_coef)
        early = (not capped) and WKE[j] * step * step <= WAGE_TOL * max(1.0, abs(xn))
        small = step <= WAGE_TOL * max(1.0, abs(xr))
        stay = WC[j] or h <= 0.0
        WX[j] = xr if stay else xc
        done = stay or early or small
        WC[j] = done
        left += 0 if done else 1
    return left


@jit
def _compact(m, moved, SB, SK, WB, WK, WX, WH, WL, WKE, WC, WR, x, conv):
    """Write the converged working rows' x and flag to their rows; move the
    others up, in order, their columns from SB, SK (the fill's columns,
    or WB, WK themselves once moved) to WB, WK. Returns their number."""
    n = WB.shape[0]
    w = 0
    for j in range(m):
        r = WR[j] if moved else j
        if WC[j]:
            x[r] = WX[j]
            conv[r] = True
            continue
        for i in range(n):
            WB[i, w] = SB[i, j]
            WK[i, w] = SK[i, j]
        WX[w] = WX[j]
        WH[w] = WH[j]
        WL[w] = WL[j]
        WKE[w] = WKE[j]
        WC[w] = False
        WR[w] = r
        w += 1
    return w


_WORK = threading.local()

#: per-row arrays of newton_rows (and the callers' LM, LE), and the column
#: arrays (N rows of the rows' length, staggered across cache sets:
#: lockstep.staggered_block): the fill's CB, CK, newton_rows' WB, WK, WE,
#: the callers' E
_ROW_ARRAYS = ("x", "MX", "S", "LS", "DS", "LM", "LE", "WX", "WH", "WL", "WKE")
_COL_ARRAYS = ("CB", "CK", "WB", "WK", "WE", "E")


def _new_buffers(nrow, n):
    """Fresh arrays for :func:`row_buffers` (room for nrow rows)."""
    buf = {name: np.empty(nrow) for name in _ROW_ARRAYS}
    buf.update({name: staggered_block(n, nrow) for name in _COL_ARRAYS})
    buf["conv"] = np.empty(nrow, np.bool_)
    buf["WC"] = np.empty(nrow, np.bool_)
    buf["WR"] = np.empty(nrow, np.int64)
    return buf


def row_buffers(nrow, n):
    """This thread's room for nrow rows of n sectors: the fill's columns
    and the Newton iteration's state, as views of arrays reused by the next
    call (fresh arrays of a few MB per block cost page faults; a column
    array is whole, its first nrow columns the rows')."""
    buf = getattr(_WORK, "buf", None)
    if buf is None or buf["x"].shape[0] < nrow or buf["CB"].shape[0] != n:
        buf = _new_buffers(max(nrow, 1024), n)
        _WORK.buf = buf
    return {name: a if name in _COL_ARRAYS else a[:nrow] for name, a in buf.items()}


def newton_rows(nrow, work):
    """economy.log_wage's safeguarded Newton on rows 0 .. nrow - 1 at once,
    as their fill left them in work (:func:`row_buffers`): columns CB, CK
    of b_i, k_i; the start x = lo in WX, hi in WH, log L in WL and the
    error coefficient in WKE (all of which the iteration changes but CB,
    CK). The same start, steps, cap by hi and stopping rules as the scalar
    loop, sums in sector order. Returns (x, converged): work's x and
    conv."""
    x, conv = work["x"], work["conv"]
    MX, S, LS, DS = (work[k] for k in ("MX", "S", "LS", "DS"))
    CB, CK, WB, WK, WE, WX, WH, WL, WKE, WC, WR = (
        work[k] for k in ("CB", "CK", "WB", "WK", "WE", "WX", "WH", "WL", "WKE", "WC", "WR"))
    WC[:nrow] = False
    m = nrow
    moved = False
    SB, SK = CB, CK
    for _ in range(NEWTON_MAXITER):
        if m == 0:
            break
        _terms(m, SB, SK, WX, WE, MX)
        e = WE[:, :m]  # (in place: lockstep's note)
        np.exp(e, out=e)
        term_sums(m, SK, WE, S, LS, DS)
        ls = LS[:m]
        np.log(ls, out=ls)
        left = _step(m, WX, WH, WL, WKE, WC, MX, S, LS, DS)
        if 4 * left <= 3 * m:
            m = _compact(m, moved, SB, SK, WB, WK, WX, WH, WL, WKE, WC, WR, x, conv)
            moved = True
            SB, SK = WB, WK
    _unload(m, moved, WX, WC, WR, x, conv)
    return x, conv


@jit
def _unload(m, moved, WX, WC, WR, x, conv):
    """The working rows left (the cap reached): x and flag to their rows."""
    for j in range(m):
        r = WR[j] if moved else j
        x[r] = WX[j]
        conv[r] = WC[j]


@jit
def _welfare_terms(m, CB, CK, x, E):
    """E[i, r] = x + log L_i, log L_i = b_i - k_i x, rows r < m (its exp
    next)."""
    for i in range(CB.shape[0]):
        for r in range(m):
            xr = x[r]
            E[i, r] = xr + (CB[i, r] - CK[i, r] * xr)


@jit
def _store(sec, pt, pts, E, x, conv, tx, tw):
    """tx, tw of the points pts from their rows: log w and W = sum_i
    exp(x + log L_i) / (1 + tau_i) / alpha - C(S) (economy.binary_welfare's
    sums, in sector order; E holds the exps); pt.table set, pt.wagefail
    where a row did not converge."""
    n = E.shape[0]
    nprof = np.int64(1) << n
    for q in range(pts.shape[0]):
        p = pts[q]
        s = sec[p]
        alpha = pt.alpha[p]
        fail = False
        for mask in range(nprof):
            r = q * nprof + mask
            vsum = 0.0
            csum = 0.0
            for i in range(n):
                vsum += E[i, r] / (1.0 + s.tau[i])
                if (mask >> i) & 1:
                    csum += s.cost[i]
            tx[p, mask] = x[r]
            tw[p, mask] = vsum / alpha - csum
            if not conv[r]:
                fail = True
        pt.table[p] = True
        pt.wagefail[p] = fail


def finish_eta_table(prep, wage_code):
    """Fill the table rows of the block's points with some eta_i > 0
    (valid, at most table.TABLE_MAX_SECTORS sectors) when the wage variant
    is the default Newton (wage_code 0): tx = log w, tw = W; sets
    pt.table, and pt.wagefail where a root did not converge; then the
    points' other transcendental values (kernels/etapoint.py)."""
    tx, tw = prep.tx, prep.tw
    pt = prep.pt
    nprof = tx.shape[1]
    if nprof == 0 or wage_code != WAGE_NEWTON:
        return
    pts = np.flatnonzero(prep.valid & ~pt["eta0"])
    if pts.shape[0] == 0:
        return
    n = prep.sec.shape[1]
    per = max(1, ROWS // nprof)  # points per chunk
    pre = np.empty((3, 2, n))
    with np.errstate(all="ignore"):
        for start in range(0, pts.shape[0], per):
            chunk = pts[start:start + per]
            m = chunk.shape[0] * nprof
            w = row_buffers(m, n)
            CB, CK, E = w["CB"], w["CK"], w["E"]
            fill_rows(prep.sec, pt, chunk, pre, CB, CK, w["WX"], w["WH"], w["WL"], w["WKE"])
            x, conv = newton_rows(m, w)
            _welfare_terms(m, CB, CK, x, E)
            e = E[:, :m]
            np.exp(e, out=e)
            _store(prep.sec, pt, chunk, E, x, conv, tx, tw)
    prepare_eta_points(prep, pts)
