"""Adjustment dynamics (MODEL.md "Every equilibrium, and which one the
economy reaches", "Adjustment dynamics"): where best-response revision,
with the market-clearing wage at every instant, takes the economy from K
quasi-random starts, and how big a coordinated push tips it into its best
equilibrium.

Every active sector (neither inert nor spontaneous) moves up
(ṡ_i = 1 − s_i) where Δ_i(s_i, w(s)) > 0 and down (ṡ_i = −s_i) elsewhere.
Between switches of the sign vector d the path is the straight segment
s(u) = d + (s(t₀) − d) u, u = e^{−(t − t₀)} falling from 1 to 0 (the
corner d). The path is followed from switch to switch:

- a segment is sampled at u = 1 − k/M (k = 1 … M, the last one the corner
  itself); where a sample's signs differ from d, the first switch is found
  by regula falsi (Illinois) on the Δ_i of the sectors that switched;
- at a switch, a sector whose Δ_i changes sign from + to − as s_i rises
  (a negative slope ∂Δ_i/∂s_i, the wage's response included) is *held*:
  its share is the zero of Δ_i, solved at every later sample by Newton's
  method from the previous one, while the other shares move on their
  straight lines; it is released (up or down, by the sign of Δ_i) where
  that zero disappears;
- a path ends where a segment's samples reach its corner without a
  switch: at a stable equilibrium (no held sector) or at a partial rest
  point (its held shares at the exact zeros of Δ_i).

A switch closer than the sample spacing to another one of the same
sector (Δ_i turning back within 1/M of the segment) is not seen; like
Euler's steps of MODEL.md's definition, that changes where a path ends
only near a basin boundary. A path not ended after 40 time units counts at
its profile then and sets PATH_NOT_CONVERGED.

The starts are SciPy's scrambled Sobol' points (MODEL.md), drawn in
Python (:func:`sobol_starts`, cached per (number of active sectors, K,
seed)) and passed to the numba loop. Everything at a point depends on its
inputs, K and the seed only: blocks of any size give the same bits.

On the fast path (every η_i = 0, linear-scale sums: kernels/economy.py)
the sign of Δ_i is that of D_i = h_i − c_i X̂^α, h_i = (1 + θ_i s_i)^ε − 1,
X̂ the scaled sum Σ_j u_j m_j(s_j), c_i = (1 − σ_i) c_i e^{−log K_i}: one
log1p and one expm1 per active sector and one power per evaluation.
Elsewhere D_i = Δ_i from the general labour-market root
(economy.log_wage).
"""
import math
import threading
import warnings
from collections import namedtuple

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.economy import (
    KIND_CAND, KIND_SPONT, binary_welfare, log_expm1, log_m, log_wage)
from coordsweep.kernels.jit import jit, maxiter
from coordsweep.kernels.point import allocate_scratch, workspace_at

#: samples per segment (u = 1 - k / SAMPLES, k = 1 .. SAMPLES) where
#: the derivative of D is not at hand (some eta_i > 0, a held sector)
SAMPLES = 8
#: on the fast path without held sectors the samples adapt: half the
#: linear prediction of the nearest switch, within these (in u)
STEP_MIN = 1.0 / 16.0
STEP_MAX = 0.5
MAX_SAMPLES = 16
#: a path not ended after this many time units sets PATH_NOT_CONVERGED
T_MAX = 40.0
#: at most this many segments per path (then as T_MAX)
MAX_SEGMENTS = maxiter(400)
#: a switch is located to this width of u
U_TOL = 1e-12
SWITCH_MAXITER = maxiter(100)
#: Newton's method on a held share: steps below this end it
HELD_TOL = 1e-12
HELD_MAXITER = maxiter(60)
#: finite-difference step of the slope dD_i/ds_i
SLOPE_STEP = 1e-7
#: halvings of the big-push search
PUSH_HALVINGS = 12
#: relative tolerance of "below welfare_best_eq" (p_stuck)
STUCK_RTOL = 1e-12

DOWN = 0
UP = 1
HELD = 2

#: how a path ended
END_CORNER = 0
END_PARTIAL = 1
END_OPEN = 2  # not ended after T_MAX (PATH_NOT_CONVERGED)

#: the outputs, in the order dynamics_points takes them (kernels/outputs.py)
DYNAMICS_NAMES = ("basin_nc", "basin_best", "p_stuck", "welfare_expected",
                  "selection_gap", "big_push")

#: per-thread buffers of the path follower, length N each: s the accepted
#: profile, s0 the segment's start, sp a probe, D / Da / Dt the D_j at the
#: probe / at the accepted profile / scratch, cf the fast path's c_j, act
#: the active sectors (index list, na of them), mode DOWN / UP / HELD
DynScratch = namedtuple("DynScratch", "s s0 sp D Da Dt cf hp q G act mode sc cnt")


def allocate_dyn(n):
    """The path follower's buffers for points of n sectors."""
    return DynScratch(*(np.zeros(n) for _ in range(10)),
                      act=np.zeros(n, np.int64), mode=np.zeros(n, np.int64),
                      sc=np.zeros(1), cnt=np.zeros(8, np.int64))


# --- the starts ---------------------------------------------------------

_STARTS = {}
_STARTS_LOCK = threading.Lock()
_STARTS_MAX = 256


def sobol_starts(d, k, seed):
    """The K starts of a point with d active sectors (MODEL.md): SciPy's
    ``Sobol(d=d, scramble=True, seed=seed).random(k)``, (k, d), cached."""
    key = (int(d), int(k), int(seed))
    with _STARTS_LOCK:
        got = _STARTS.get(key)
    if got is not None:
        return got
    from scipy.stats import qmc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the balance warning when k is not 2^m
        pts = qmc.Sobol(d=key[0], scramble=True, seed=key[2]).random(key[1])
    pts = np.ascontiguousarray(pts, dtype=np.float64)
    pts.setflags(write=False)
    with _STARTS_LOCK:
        if len(_STARTS) >= _STARTS_MAX:
            _STARTS.clear()
        _STARTS[key] = pts
    return pts


def block_starts(kind, valid, k, seed):
    """(N + 1, k, N) array: [d, :, :d] the starts of the points with d
    active sectors, for every d among the valid points of a block."""
    n = kind.shape[1]
    out = np.zeros((n + 1, k, n))
    nact = (kind == KIND_CAND).sum(axis=1)
    for d in np.unique(nact[valid]):
        if d > 0:
            out[d, :, :d] = sobol_starts(d, k, seed)
    return out


# --- Delta along a profile ------------------------------------------------

@jit
def eval_D(ws, s, dy, na, D):
    """D_j (the sign and zeros of Delta_j) of every active sector j at the
    profile s (length N: inert sectors 0, spontaneous ones 1), into D[j]."""
    pt, sec = ws.pt, ws.sec
    act = dy.act
    dy.cnt[0] += 1
    eps = pt.eps
    n = sec.lqa.shape[0]
    if pt.fast:
        xs = 0.0
        for i in range(n):
            k = sec.kind[i]
            if k == KIND_CAND:
                th = sec.theta[i]
                h = math.expm1(eps * math.log1p(th * s[i]))
                D[i] = h
                hp = eps * th * (1.0 + h) / (1.0 + th * s[i])
                dy.hp[i] = hp
                dy.q[i] = sec.xa[i] * (h + s[i] * hp)
                xs += sec.xa[i] * (1.0 + s[i] * h)
            elif k == KIND_SPONT:
                xs += sec.xb[i]
            else:
                xs += sec.xa[i]
        xa = math.exp(pt.alpha * math.log(xs))
        dy.sc[0] = pt.alpha * xa / xs
        for j in range(na):
            i = act[j]
            D[i] = D[i] - dy.cf[i] * xa
        return
    logm = ws.prof.logm
    for i in range(n):
        k = sec.kind[i]
        if k == KIND_CAND:
            a = eps * math.log1p(sec.theta[i] * s[i])
            D[i] = a  # a_i until the wage is known
            logm[i] = log_m(s[i], a)
        elif k == KIND_SPONT:
            logm[i] = sec.logm1[i]
        else:
            logm[i] = 0.0
    x = log_wage(ws)
    for j in range(na):
        i = act[j]
        net = (1.0 - sec.sigma[i]) * sec.cost[i]
        # R_i = (1 - alpha) w l_N / alpha, l_N = L_i / m_i
        D[i] = math.exp(pt.logcoef + x + ws.prof.logl[i] - logm[i] + log_expm1(D[i])) - net


@jit
def welfare_at(ws, s):
    """W at the profile s (length N)."""
    pt, sec = ws.pt, ws.sec
    n = sec.lqa.shape[0]
    logm = ws.prof.logm
    for i in range(n):
        if sec.kind[i] == KIND_SPONT:
            logm[i] = sec.logm1[i]
        else:
            logm[i] = log_m(s[i], pt.eps * math.log1p(sec.theta[i] * s[i]))
    x = log_wage(ws)
    vsum = 0.0
    csum = 0.0
    for i in range(n):
        vsum += math.exp(x + ws.prof.logl[i]) / (1.0 + sec.tau[i])
        csum += s[i] * sec.cost[i]
    return vsum / pt.alpha - csum


@jit
def slope(ws, s, dy, na, i, d0):
    """dD_i/ds_i at s (the wage's response included; d0 = D_i at s), by a
    one-sided difference (inward at s_i near 1). Leaves dy.Dt changed."""
    si = s[i]
    step = SLOPE_STEP if si + SLOPE_STEP <= 1.0 else -SLOPE_STEP
    s[i] = si + step
    eval_D(ws, s, dy, na, dy.Dt)
    s[i] = si
    return (dy.Dt[i] - d0) / step


@jit
def solve_held(ws, sp, dy, na):
    """Newton's method on the held shares of sp (Gauss-Seidel over the
    held sectors, from their values in sp) for D_i = 0 with dD_i/ds_i < 0.
    True with dy.D = D at the solution; False where a held zero is gone
    (a positive slope, a step out of (0, 1), no convergence)."""
    act, mode, D = dy.act, dy.mode, dy.D
    dy.cnt[1] += 1
    for _ in range(HELD_MAXITER):
        biggest = 0.0
        for j in range(na):
            i = act[j]
            if mode[i] != HELD:
                continue
            eval_D(ws, sp, dy, na, D)
            g = slope(ws, sp, dy, na, i, D[i])
            if not g < 0.0:
                return False
            step = -D[i] / g
            new = sp[i] + step
            if not (0.0 < new < 1.0):
                return False
            sp[i] = new
            if abs(step) > biggest:
                biggest = abs(step)
        if biggest <= HELD_TOL:
            eval_D(ws, sp, dy, na, D)
            return True
    return False


@jit(inline="always")
def switched(f, m):
    """D_i = f contradicts the mode m of a free sector."""
    return (f > 0.0) != (m == UP)


@jit
def profile_at(dy, na, u):
    """dy.sp: the segment from dy.s0 at u (free sectors on their straight
    lines; held ones keep their accepted values dy.s as Newton's start)."""
    for j in range(na):
        i = dy.act[j]
        m = dy.mode[i]
        if m == HELD:
            dy.sp[i] = dy.s[i]
        else:
            d = 1.0 if m == UP else 0.0
            dy.sp[i] = d + (dy.s0[i] - d) * u


@jit
def probe(ws, dy, na, nheld, u):
    """The state at u into dy.sp, dy.D; True when it has no switch (every
    held zero found, every free sign as its mode)."""
    profile_at(dy, na, u)
    if nheld > 0:
        if not solve_held(ws, dy.sp, dy, na):
            return False
    else:
        eval_D(ws, dy.sp, dy, na, dy.D)
    for j in range(na):
        i = dy.act[j]
        if dy.mode[i] != HELD and switched(dy.D[i], dy.mode[i]):
            return False
    return True


@jit
def accept(dy, na):
    """The probe becomes the accepted state."""
    for j in range(na):
        i = dy.act[j]
        dy.s[i] = dy.sp[i]
        dy.Da[i] = dy.D[i]


@jit
def locate_free(ws, dy, na, ua, ub):
    """The first switch in (ub, ua) of a segment without held sectors
    (dy.Da: D at ua, dy.D: D at ub): regula falsi (Illinois) on the D_i
    of each sector that switched; returns the u of the earliest, on its
    switched side."""
    best = ub
    act, mode = dy.act, dy.mode
    for j in range(na):
        i = act[j]
        if not switched(dy.D[i], mode[i]):
            continue
        dy.cnt[2] += 1
        a, fa = ua, dy.Da[i]
        b, fb = ub, dy.D[i]
        side = 0
        for _ in range(SWITCH_MAXITER):
            if a - b <= U_TOL:
                break
            m = (a * fb - b * fa) / (fb - fa)
            if not (b < m < a):
                m = 0.5 * (a + b)
            profile_at(dy, na, m)
            eval_D(ws, dy.sp, dy, na, dy.Dt)
            fm = dy.Dt[i]
            if switched(fm, mode[i]):
                b, fb = m, fm
                if side == -1:
                    fa *= 0.5
                side = -1
            else:
                a, fa = m, fm
                if side == 1:
                    fb *= 0.5
                side = 1
        if b > best:
            best = b
    return best


@jit
def locate_held(ws, dy, na, nheld, ua, ub):
    """The first switch in (ub, ua) of a segment with held sectors, by
    bisection (each probe continues the held zeros from the last state
    without a switch, which it accepts); returns its u, switched side."""
    dy.cnt[3] += 1
    for _ in range(SWITCH_MAXITER):
        if ua - ub <= U_TOL:
            break
        m = 0.5 * (ua + ub)
        if probe(ws, dy, na, nheld, m):
            accept(dy, na)
            ua = m
        else:
            ub = m
    return ub


@jit
def settle(ws, dy, na, nheld):
    """At a switch (dy.sp: the free shares just past it; held shares to be
    solved): release the held sectors if a held zero is gone (each moves
    by the sign of its D_i), hold a switched sector whose dD_i/ds_i < 0,
    reverse the other switched ones. Returns the number of held sectors;
    dy.sp, dy.D the state after the switch."""
    act, mode = dy.act, dy.mode
    if nheld > 0 and not solve_held(ws, dy.sp, dy, na):
        for j in range(na):
            i = act[j]
            if mode[i] == HELD:
                dy.sp[i] = dy.s[i]
        eval_D(ws, dy.sp, dy, na, dy.D)
        for j in range(na):
            i = act[j]
            if mode[i] == HELD:
                mode[i] = UP if dy.D[i] > 0.0 else DOWN
        nheld = 0
    if nheld == 0:
        eval_D(ws, dy.sp, dy, na, dy.D)
    newly = 0
    for j in range(na):
        i = act[j]
        if mode[i] == HELD or not switched(dy.D[i], mode[i]):
            continue
        g = slope(ws, dy.sp, dy, na, i, dy.D[i])
        if g < 0.0:
            mode[i] = HELD
            newly += 1
        else:
            mode[i] = UP if dy.D[i] > 0.0 else DOWN
    if newly > 0:
        for j in range(na):  # (s0 is free until the next segment)
            dy.s0[act[j]] = dy.sp[act[j]]
        if not solve_held(ws, dy.sp, dy, na):
            # no zero found after all: held sectors move by their sign
            for j in range(na):
                dy.sp[act[j]] = dy.s0[act[j]]
            eval_D(ws, dy.sp, dy, na, dy.D)
            for j in range(na):
                i = act[j]
                if mode[i] == HELD:
                    mode[i] = UP if dy.D[i] > 0.0 else DOWN
    count = 0
    for j in range(na):
        if mode[act[j]] == HELD:
            count += 1
    return count


@jit
def gradient(dy, na):
    """dy.G: dD_j/dv along the segment s = s0 + (d - s0) v of the fast
    path, at the profile of the last eval_D (its pieces dy.hp, dy.q,
    dy.sc): D_j = h_j - c_j X^alpha, so dD_j/dv = h'_j ds_j/dv
    - c_j alpha X^(alpha-1) sum_k u_k (h_k + s_k h'_k) ds_k/dv."""
    act = dy.act
    dx = 0.0
    for j in range(na):
        i = act[j]
        dx += dy.q[i] * ((1.0 if dy.mode[i] == UP else 0.0) - dy.s0[i])
    for j in range(na):
        i = act[j]
        ds = (1.0 if dy.mode[i] == UP else 0.0) - dy.s0[i]
        dy.G[i] = dy.hp[i] * ds - dy.cf[i] * dy.sc[0] * dx


@jit
def next_u(dy, na, ua):
    """The next sample of an adaptive segment (fast path, no held
    sector): half the linear prediction of the nearest switch from dy.Da,
    dy.G at ua, within [STEP_MIN, STEP_MAX]; 0 (the corner) when that
    reaches it."""
    step = STEP_MAX
    for j in range(na):
        i = dy.act[j]
        d, g = dy.Da[i], dy.G[i]
        if d > 0.0 and g < 0.0:
            step = min(step, -0.5 * d / g)
        elif d <= 0.0 and g > 0.0:
            step = min(step, -0.5 * d / g)
    step = max(step, STEP_MIN)
    u = ua - step
    return u if u > STEP_MIN * 0.5 else 0.0


@jit
def follow(ws, dy, na, zmask):
    """Follow the path from the profile dy.s (length N) to its end.
    Returns (how, mask, W): END_CORNER with the corner's mask, END_PARTIAL
    (mask: the sectors at 1), END_OPEN (not ended by T_MAX; mask: the
    profile rounded) and W at the end."""
    act, mode = dy.act, dy.mode
    n = dy.s.shape[0]
    for i in range(n):
        dy.sp[i] = dy.s[i]
    eval_D(ws, dy.s, dy, na, dy.D)
    for j in range(na):
        i = act[j]
        mode[i] = UP if dy.D[i] > 0.0 else DOWN
    accept(dy, na)
    nheld = 0
    t0 = 0.0
    dy.cnt[4] += 1
    how = END_OPEN
    for seg in range(MAX_SEGMENTS):
        for j in range(na):
            dy.s0[act[j]] = dy.s[act[j]]
        dy.cnt[5] += 1
        ua = 1.0
        ended = True
        adaptive = ws.pt.fast and nheld == 0
        first = seg == 0
        if adaptive:
            if not first:  # (the pieces of the gradient at the start)
                eval_D(ws, dy.s, dy, na, dy.D)
            gradient(dy, na)
        for k in range(1, MAX_SAMPLES + 1):
            if adaptive:
                u = next_u(dy, na, ua)
            else:
                u = 1.0 - k / SAMPLES
            if probe(ws, dy, na, nheld, u):
                accept(dy, na)
                ua = u
                if u == 0.0:
                    break
                if adaptive:
                    gradient(dy, na)
                continue
            ended = False
            if nheld > 0:
                uev = locate_held(ws, dy, na, nheld, ua, u)
            else:
                uev = locate_free(ws, dy, na, ua, u)
            tev = t0 - math.log(uev)
            if tev > T_MAX:
                ucap = math.exp(t0 - T_MAX)
                probe(ws, dy, na, nheld, ucap)
                accept(dy, na)
                return _end(ws, dy, na, zmask, END_OPEN)
            profile_at(dy, na, uev)
            nheld = settle(ws, dy, na, nheld)
            accept(dy, na)
            t0 = tev
            break
        if ended:
            how = END_CORNER if nheld == 0 else END_PARTIAL
            return _end(ws, dy, na, zmask, how)
    return _end(ws, dy, na, zmask, how)


@jit
def _end(ws, dy, na, zmask, how):
    """(how, mask, W) of the accepted state dy.s."""
    mask = zmask
    for j in range(na):
        i = dy.act[j]
        if dy.s[i] >= 0.5 if how == END_OPEN else dy.mode[i] == UP:
            mask |= np.int64(1) << i
    if how == END_CORNER:
        return how, mask, binary_welfare(ws, mask)[1]
    return how, mask, welfare_at(ws, dy.s)


@jit
def base_profile(ws, dy):
    """dy.s: the profile S0 (inert and active sectors 0, spontaneous 1)."""
    for i in range(dy.s.shape[0]):
        dy.s[i] = 1.0 if ws.sec.kind[i] == KIND_SPONT else 0.0


@jit
def dynamics_points(prep, scr, dy, starts, k, welfare_nc, welfare_best, coop_best,
                    basin_nc, basin_best, p_stuck, welfare_expected, selection_gap,
                    big_push, status):
    """The six outputs and the status bits (status[p], to OR into the
    point's) of every point of a prepared block (kernels/point.py), from
    its block-kernel outputs welfare_nc, welfare_best (welfare_best_eq)
    and coop_best (coop_best_eq), k starts from starts (block_starts)."""
    nsec = dy.s.shape[0]
    for p in range(status.shape[0]):
        ws = workspace_at(prep, p, scr)
        status[p] = 0
        if not prep.valid[p]:
            basin_nc[p] = basin_best[p] = p_stuck[p] = np.nan
            welfare_expected[p] = selection_gap[p] = big_push[p] = np.nan
            continue
        sec = ws.sec
        na = 0
        zmask = np.int64(0)
        for i in range(nsec):
            if sec.kind[i] == KIND_CAND:
                dy.act[na] = i
                na += 1
                dy.cf[i] = (1.0 - sec.sigma[i]) * sec.cost[i] * math.exp(-sec.logk[i])
            elif sec.kind[i] == KIND_SPONT:
                zmask |= np.int64(1) << i
        bmask = np.int64(0)
        for i in range(nsec):
            if coop_best[p, i]:
                bmask |= np.int64(1) << i
        wbest = welfare_best[p]
        if na == 0:
            basin_nc[p] = basin_best[p] = 1.0
            p_stuck[p] = 0.0
            welfare_expected[p] = welfare_nc[p]
            selection_gap[p] = 0.0
            big_push[p] = np.nan
            continue
        bad = 0
        n_nc = 0
        n_best = 0
        n_stuck = 0
        wsum = 0.0
        below = wbest - STUCK_RTOL * abs(wbest)
        for r in range(k):
            base_profile(ws, dy)
            for j in range(na):
                dy.s[dy.act[j]] = starts[na, r, j]
            how, mask, W = follow(ws, dy, na, zmask)
            if how == END_OPEN:
                bad |= codes.PATH_NOT_CONVERGED
            exact = how == END_CORNER
            if exact and mask == zmask:
                n_nc += 1
            if exact and mask == bmask:
                n_best += 1
            if W < below:
                n_stuck += 1
            wsum += W
        basin_nc[p] = n_nc / k
        basin_best[p] = n_best / k
        p_stuck[p] = n_stuck / k
        we = wsum / k
        welfare_expected[p] = we
        selection_gap[p] = wbest - we
        # the big push: 12 halvings of [0, 1]
        if bmask == zmask:
            big_push[p] = np.nan
        else:
            lo = 0.0
            hi = 1.0
            for _ in range(PUSH_HALVINGS):
                mid = 0.5 * (lo + hi)
                base_profile(ws, dy)
                for j in range(na):
                    i = dy.act[j]
                    if (bmask >> i) & 1:
                        dy.s[i] = mid
                how, mask, W = follow(ws, dy, na, zmask)
                if how == END_OPEN:
                    bad |= codes.PATH_NOT_CONVERGED
                if how == END_CORNER and mask == bmask:
                    hi = mid
                else:
                    lo = mid
            big_push[p] = hi
        bad |= ws.status[0] & codes.WAGE_NOT_CONVERGED
        if not (math.isfinite(we) and math.isfinite(selection_gap[p])):
            bad |= codes.NON_FINITE
        status[p] = bad


_BUFFERS = threading.local()


def _buffers(n):
    got = getattr(_BUFFERS, "buf", None)
    if got is None or got[0] != n:
        got = (n, allocate_scratch(n), allocate_dyn(n))
        _BUFFERS.buf = got
    return got[1], got[2]


def dynamics_block(x, prep, out, dyn, k, seed):
    """The dynamics outputs of a prepared block (kernels/api.py): x its
    Inputs, prep its Prepared, out its Outputs after the block kernel
    (reads welfare_nc, welfare_best_eq, coop_best_eq; ORs its status bits
    into out.status), dyn {name: (P,) float64 array} of DYNAMICS_NAMES to
    fill (missing names are allocated), k starts, seed the Sobol' seed.
    Returns (dyn, status bits (P,) int8)."""
    npts, n = x.price.shape
    k = int(k)
    if k < 1:
        raise ValueError(f"dynamics needs k >= 1 starts, got {k}")
    dyn = dict(dyn)
    for name in DYNAMICS_NAMES:
        if name not in dyn:
            dyn[name] = np.empty(npts)
    starts = block_starts(prep.sec["kind"][:npts], prep.valid[:npts], k, seed)
    scr, dy = _buffers(n)
    status = np.zeros(npts, np.int64)
    dynamics_points(prep, scr, dy, starts, k, out.welfare_nc, out.welfare_best_eq,
                    out.coop_best_eq, *(dyn[name] for name in DYNAMICS_NAMES), status)
    bits = status.astype(np.int8)
    out.status[:] |= bits
    return dyn, bits
