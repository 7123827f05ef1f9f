"""A point with some eta_i > 0 and a profile table (kernels/etatable.py),
solved by the default variants: the block kernel's per-point work with
every transcendental function taken beforehand, for the whole block, in
SIMD lanes.

:func:`prepare_eta_points` (run by kernels/etatable.py after the table)
writes, for each such point p, into the prepared block's room for the
transcendental passes (kernels/prepare.py: ``tmp``, ``ptmp``, free once the
block is prepared):

- ``ptmp[P_WNC, p]`` = w(S0) = exp(log w(S0));
- ``tmp[E_VALUE, p, i]`` = V_i at S0 (equilibria.no_coordination's
  exp(x + log L_i) / (alpha (1 + tau_i)));
- for each candidate sector i: ``tmp[E_SUBSIDY, p, i]`` = subsidy_needed_i
  (max(0, 1 - exp(log R_i + lem1_i - log c_i)) at x1 = log w(S0 u {i}),
  sectors.analyse_candidate's), ``tmp[E_GC1, p, i]`` = g_i(1) + c' =
  exp(log R_i + lem1_i), and ``tmp[E_CERT, p, i]`` = 1.0 where the
  monotonicity certificate (sectors.eta_path_increasing: both its tests,
  the second one's h(s_k) = expm1(eps log1p(theta s_k)) for all the rows
  that need it at once) covers the path, else 0.0.

:func:`solve_eta_point` then makes kernels/point.py ``solve_point_into``'s
operations for such a point, in its order, reading those values instead
of calling libm's scalar exp: the equilibria and the first best read
from the table (equilibria.tabled_equilibria with the default variants,
as the tabled points with every eta_i = 0; else
variants.equilibria_and_first_best), each sector as
sectors.analyse_sector does (the paths the certificate does not cover
through sectors.sampled_candidate, with their lock-step samples). NumPy's
vector exp may differ from libm's in the last bit: the outputs agree with
``solve_point_into``'s within a few ulps, and the certificate is decided
once (the same flag decides which paths kernels/etapath.py samples).
No I/O.
"""
import math
import threading

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.economy import (
    KIND_CAND, KIND_INERT, KIND_SPONT, Point, Workspace, SOLVER_PATH, SOLVER_WAGE,
    WAGE_NEWTON)
from coordsweep.kernels.equilibria import classify_kinds, tabled_equilibria
from coordsweep.kernels.jit import jit
from coordsweep.kernels.sectors import (
    CERT_PIECES, CERT_SHARES, DEFER_SLOT, DEFERRED, PATH_LOCKSTEP, PRE_SLOT,
    PRESAMPLES, first_test, piece_certified, pull_bound, sampled_candidate)
from coordsweep.kernels.variants import equilibria_and_first_best, tabled_solver

#: rows of Prepared.tmp (P x N) and Prepared.ptmp (P) that hold the values
#: (kernels/prepare.py has at least 4 and 1 of them)
E_VALUE, E_SUBSIDY, E_GC1, E_CERT = range(4)
P_WNC = 0


@jit
def _args(prep, pts, T, P, A, pi):
    """The exps' arguments of the points pts: T[E_VALUE] x + log L_i at S0,
    T[E_SUBSIDY] log R_i + lem1_i - log c_i, T[E_GC1] log R_i + lem1_i, P
    log w(S0); the certificate's rows A (t_j - max_j t_j at x1, then
    lem1_i) with pi = p N + i (-1 - (p N + i): log m_i(1) beyond 700,
    never certified); T[E_CERT] = 0. Returns the number of rows of A."""
    n = prep.sec.shape[1]
    count = 0
    for q in range(pts.shape[0]):
        p = pts[q]
        s = prep.sec[p]
        pt = prep.pt
        eps = pt.eps[p]
        tx = prep.tx[p]
        zmask = np.int64(0)
        for j in range(n):
            if s.kind[j] == KIND_SPONT:
                zmask |= np.int64(1) << j
        x = tx[zmask]
        P[P_WNC, p] = x
        for j in range(n):
            logm = s.logm1[j] if s.s0[j] == 1.0 else 0.0
            T[E_VALUE, p, j] = x + (s.b0[j] + logm / (1.0 - eps * s.eta[j]) - s.k[j] * x)
            T[E_SUBSIDY, p, j] = 0.0
            T[E_GC1, p, j] = 0.0
            T[E_CERT, p, j] = 0.0
        for i in range(n):
            if s.kind[i] != KIND_CAND:
                continue
            x1 = tx[zmask | (np.int64(1) << i)]
            # economy.log_rent_full
            logm1 = s.logm1[i]
            b = s.b0[i] + logm1 / (1.0 - eps * s.eta[i])
            logrent = pt.logcoef[p] + x1 + (b - s.k[i] * x1) - logm1
            T[E_SUBSIDY, p, i] = logrent + s.lem1[i] - s.logc[i]
            T[E_GC1, p, i] = logrent + s.lem1[i]
            if not logm1 < 700.0:
                pi[count] = -1 - (p * n + i)
                count += 1
                continue
            mx = -np.inf
            for j in range(n):
                logm = s.logm1[j] if (s.s0[j] == 1.0 or j == i) else 0.0
                t = s.b0[j] + logm / (1.0 - eps * s.eta[j]) - s.k[j] * x1
                A[count, j] = t
                if t > mx:
                    mx = t
            for j in range(n):
                A[count, j] -= mx
            A[count, n] = s.lem1[i]
            pi[count] = p * n + i
            count += 1
    return count


@jit
def _values(prep, pts, T, A, pi, count, pc, F):
    """From the exps: V_i, subsidy_needed_i and the certificate's first
    test (sectors.eta_path_increasing's bound from A's rows); the rows it
    leaves to the second test in pc (p N + i) and F (theta_i, eps, the
    bound). Returns their number."""
    n = prep.sec.shape[1]
    pt = prep.pt
    for q in range(pts.shape[0]):
        p = pts[q]
        s = prep.sec[p]
        for j in range(n):
            T[E_VALUE, p, j] = T[E_VALUE, p, j] / (pt.alpha[p] * (1.0 + s.tau[j]))
            if s.kind[j] == KIND_CAND:
                T[E_SUBSIDY, p, j] = max(0.0, 1.0 - T[E_SUBSIDY, p, j])
    more = 0
    for c in range(count):
        j = pi[c]
        if j < 0:
            continue
        p = j // n
        i = j - p * n
        s = prep.sec[p]
        tot = 0.0
        for r in range(n):
            tot += s.k[r] * A[c, r]
        lam = s.k[i] * A[c, i] / tot
        eps = pt.eps[p]
        bound = pull_bound(lam, s.eta[i], eps, pt.alpha[p])
        ok, second = first_test(bound, lam, A[c, n])
        if second:
            pc[more] = j
            F[more, 0] = s.theta[i]
            F[more, 1] = eps
            F[more, 2] = bound
            more += 1
        T[E_CERT, p, i] = 1.0 if ok else 0.0
    return more


@jit
def _piece_args(F, more, H):
    """H[r, k] = theta s_k+1 (sectors.CERT_SHARES): log1p's argument."""
    for r in range(more):
        for k in range(CERT_PIECES):
            H[r, k] = F[r, 0] * CERT_SHARES[k + 1]


@jit
def _pieces(T, n, pc, F, H, more):
    """The second test (sectors.piece_certified on every piece) of the
    rows pc, H holding h(s_k+1)."""
    for r in range(more):
        theta, eps, bound = F[r, 0], F[r, 1], F[r, 2]
        ok = True
        ha = 0.0
        for k in range(CERT_PIECES):
            if not piece_certified(theta, eps, bound, CERT_SHARES[k], ha,
                                   CERT_SHARES[k + 1], H[r, k]):
                ok = False
                break
            ha = H[r, k]
        if ok:
            p = pc[r] // n
            T[E_CERT, p, pc[r] - p * n] = 1.0


_WORK = threading.local()


def prepare_eta_points(prep, pts):
    """The values of the module's note for the points pts (valid, some
    eta_i > 0, with a profile table)."""
    if pts.shape[0] == 0:
        return
    n = prep.sec.shape[1]
    T, P = prep.tmp, prep.ptmp
    rows = pts.shape[0] * n
    buf = getattr(_WORK, "buf", None)
    if buf is None or buf[0].shape[0] < rows or buf[0].shape[1] != n + 1:
        size = max(rows, 1024)
        buf = (np.empty((size, n + 1)), np.empty(size, np.int64), np.empty(size, np.int64),
               np.empty((size, 3)), np.empty((size, CERT_PIECES)))
        _WORK.buf = buf
    A, pi, pc, F, H = (b[:rows] for b in buf)
    with np.errstate(all="ignore"):
        count = _args(prep, pts, T, P, A, pi)
        for k in (E_VALUE, E_SUBSIDY, E_GC1):
            np.exp(T[k], out=T[k])
        np.exp(P[P_WNC], out=P[P_WNC])
        np.exp(A[:count], out=A[:count])
        more = _values(prep, pts, T, A, pi, count, pc, F)
        if more:
            # h(s_k) = expm1(eps log1p(theta s_k)) in SIMD lanes, in place
            h = H[:more]
            _piece_args(F, more, h)
            np.log1p(h, out=h)
            np.multiply(h, F[:more, 1:2], out=h)
            np.expm1(h, out=h)
            _pieces(T, n, pc, F, h, more)


@jit(inline="always")
def eta_tabled(prep, scr, p):
    """Point p goes through :func:`solve_eta_point`: valid, some eta_i > 0,
    a profile table (so :func:`prepare_eta_points` ran on it), and the
    default wage and GE-path variants."""
    return (prep.valid[p] and prep.pt.table[p] and not prep.pt.fast[p]
            and scr.status[SOLVER_WAGE] == WAGE_NEWTON
            and scr.status[SOLVER_PATH] == PATH_LOCKSTEP)


@jit(inline="always")
def solve_eta_point(x, p, prep, scr, out):
    """kernels/point.py solve_point_into for a point that :func:`eta_tabled`
    admits, with room for n more roots in the lock-step queues (the
    caller checks both), up to its targeting: writes row p but targets and
    status. Returns (W_nc, status).
    (Over 80 lines: solve_point_into's sections, in its order.)"""
    r = prep.pt
    sec = prep.sec[p]
    n = sec.shape[0]
    # --- kernels/point.py workspace_at (status) and workspace_of ---------
    status = 0
    if r.wagefail[p]:
        status |= codes.WAGE_NOT_CONVERGED
    for i in range(n):
        if (1.0 - r.eps[p] * sec.eta[i]) * codes.ILL_CONDITIONED_EXPONENT < 1.0:
            status |= codes.ILL_CONDITIONED
    scr.status[0] = status
    pt = Point(alpha=r.alpha[p], eps=r.eps[p], labor=r.labor[p], logl=r.logl[p],
               logcoef=r.logcoef[p], c0=r.c0[p], eta0=r.eta0[p], fast=r.fast[p],
               logxa0=r.logxa0[p], xa0=r.xa0[p], logalpha=r.logalpha[p],
               table=r.table[p], wagefail=r.wagefail[p])
    ws = Workspace(pt, sec, scr.prof, scr.status, prep.tx[p], prep.tw[p])
    tx = prep.tx[p]
    tw = prep.tw[p]
    T = prep.tmp
    zmask, ncand, nactive = classify_kinds(sec.kind, scr.cand, scr.active)

    # --- no-coordination equilibrium (equilibria.no_coordination, table) --
    fiscal = 0.0
    value = scr.value_nc
    for i in range(n):
        value[i] = T[E_VALUE, p, i]
        fiscal += sec.tau[i] * value[i] + sec.sigma[i] * sec.s0[i] * sec.cost[i]
    x_nc = tx[zmask]
    W_nc = tw[zmask]
    w_nc = prep.ptmp[P_WNC, p]
    out.wage_nc[p] = w_nc
    out.welfare_nc[p] = W_nc
    out.fiscal_cost_nc[p] = fiscal

    # --- stable equilibria, the best one and the first best --------------
    if tabled_solver(scr, n):
        count, best_mask, best_W, fb_mask, fb_W = tabled_equilibria(
            tx, tw, sec.xbar, zmask, scr.cand, ncand, scr.active, nactive, scr.stack,
            scr.stackx)
        best_x = tx[best_mask]
    else:
        count, best_mask, best_W, best_x, nrec, fb_mask, fb_W = equilibria_and_first_best(
            ws, zmask, scr.cand, ncand, scr.active, nactive, scr.record, scr.stack,
            scr.stackx)
    out.n_equilibria[p] = count
    out.welfare_best_eq[p] = best_W
    out.wage_best_eq[p] = w_nc if best_x == x_nc else math.exp(best_x)
    out.coordination_gap[p] = max(0.0, best_W - W_nc)
    out.welfare_fb[p] = fb_W
    out.provision_gap[p] = max(0.0, fb_W - best_W)  # < 0 only within a tie
    for i in range(n):
        out.coop_best_eq[p, i] = (best_mask >> i) & 1 == 1
        out.coop_fb[p, i] = (fb_mask >> i) & 1 == 1

    # --- per-sector conditions (sectors.analyse_sector, deferring) -------
    partial_any = False
    g = scr.glen[0]
    gs = scr.samples
    for i in range(n):
        kind = sec.kind[i]
        if kind == KIND_INERT:
            reg, cm, ps, gain, wbar, sub = codes.INERT, np.nan, np.nan, 0.0, np.nan, np.nan
        elif kind == KIND_SPONT:
            reg, cm, ps, gain, wbar, sub = codes.SPONTANEOUS, 0.0, np.nan, 0.0, sec.wbar[i], 0.0
        else:
            wbar = sec.wbar[i]
            mask1 = zmask | (np.int64(1) << i)
            x1 = tx[mask1]
            W1 = tw[mask1]
            sub = T[E_SUBSIDY, p, i]
            g0 = -(1.0 - sec.sigma[i]) * sec.cost[i]
            gain = W1 - W_nc
            ps = np.nan
            if T[E_CERT, p, i] == 1.0:
                if x1 <= sec.xbar[i]:
                    reg = codes.COORDINATION_FAILURE
                    net = -g0
                    gc1 = T[E_GC1, p, i]
                    if gc1 > net:
                        # the lock-step search (kernels/etapath.py) from where
                        # log(g_i + c') ~ log s + const crosses log c'
                        scr.gidx[g] = p * n + i
                        scr.gstart[0, g] = net / gc1
                        scr.gstart[1, g] = 0.0
                        scr.gstart[2, g] = 1.0
                        g += 1
                    cm = 1.0  # (a finite placeholder until the search)
                else:
                    reg = codes.NEEDS_SUBSIDY if gain > 0.0 else codes.NOT_WORTH
                    cm = np.nan
            else:
                # the path's samples found in lock-step (kernels/etapath.py)
                v = prep.gs[p, i, 0]
                gs[PRE_SLOT] = v
                if not math.isnan(v):
                    for k in range(1, PRESAMPLES):
                        gs[PRE_SLOT + k] = prep.gs[p, i, k]
                reg, cm, ps, gain, sub = sampled_candidate(
                    ws, i, W_nc, x1, W1, sub, g0, gs, True)
                if cm == DEFERRED:
                    scr.gidx[g] = p * n + i
                    for k in range(3):  # start, bracket
                        scr.gstart[k, g] = gs[DEFER_SLOT + k]
                    g += 1
                    cm = 1.0
        out.regime[p, i] = reg
        out.critical_mass[p, i] = cm
        out.partial_share[p, i] = ps
        out.gain_coordinate[p, i] = gain
        out.threshold_wage[p, i] = wbar
        out.subsidy_needed[p, i] = sub
        if reg == codes.PARTIAL_COORDINATION:
            partial_any = True
    out.has_partial[p] = partial_any
    scr.glen[0] = g
    return W_nc, scr.status[0]
