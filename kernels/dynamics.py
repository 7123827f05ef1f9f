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

- a segment is sampled in u: without held sectors at half the linear
  prediction of the nearest switch (from D_i and its derivative along the
  segment; steps between 1/16 and 1/2 of u), with held sectors at
  u = 1 − k/8; the last sample is the corner itself. Where a sample's
  signs differ from d, the first switch is found by regula falsi
  (Illinois) on the D_i of the sectors that switched (by bisection with
  held sectors);
- between two samples whose signs agree with d, a free sector's Δ_i may
  still turn to its other sign and back. Euler's steps of MODEL.md's
  definition see any such stretch longer than a step, and stretches of a
  tenth of a time unit occur late in segments toward S0 at labour shares
  above about 0.7. Where dD_i/dv (v = 1 − u; the wage's response and the
  held shares' included: :func:`gradient`) turns toward the other sign at
  the earlier sample and back at the later one, the extremum between them
  is searched by cutting planes (:func:`hidden_switch`); a probe past the
  other sign is a switch, located as above;
- at a switch, a sector whose Δ_i changes sign from + to − as s_i rises
  (a negative slope ∂Δ_i/∂s_i, the wage's response included) is *held*:
  its share is the zero of Δ_i, solved at every later sample by Newton's
  method from the previous one, while the other shares move on their
  straight lines; it is released (up or down, by the sign of Δ_i) where
  that zero disappears;
- a path ends where a segment's samples reach its corner without a
  switch: at a stable equilibrium (no held sector) or at a partial rest
  point (its held shares at the exact zeros of Δ_i).

Not searched: a stretch between two samples where dD_i/dv does not show
that turn (D_i first moving away from its other sign, then to it and
back, all between them). A path not ended after 40 time units counts at
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
from coordsweep.kernels.outputs import DYNAMICS_OUTPUTS
from coordsweep.kernels.point import allocate_scratch, workspace_at

#: samples per segment with held sectors (u = 1 - k / SAMPLES, k = 1 ..
#: SAMPLES)
SAMPLES = 8
#: without held sectors the samples adapt: half the linear prediction of
#: the nearest switch, within these (in u)
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
#: cutting-plane steps of the search for a switch between two samples
HIDDEN_MAXITER = maxiter(40)
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
DYNAMICS_NAMES = tuple(o.name for o in DYNAMICS_OUTPUTS)

#: per-thread buffers of the path follower, indexed by the active sectors
#: (j = 0 .. na - 1; act[j] is sector j's index): s the accepted profile,
#: s0 the segment's start, sp a probe, D / Da / Dt the D_j at the probe /
#: at the accepted profile / scratch, sb / Db a probe's shares and D
#: kept aside, G / Ga / Gs dD_j/dv at the probe /
#: at the accepted profile / scratch, mode DOWN / UP / HELD; hp, q, r, sc
#: the pieces of the gradient at the last eval_D (fast path: hp = h'_j,
#: q = u_j (h_j + s_j h'_j), sc[0] = alpha X^alpha / X, sc[1] the
#: inactive sectors' part of X; elsewhere hp = d log m_j / ds_j, q =
#: R_j e^a_j a'_j, r = D_j + net_j: see gradient); on the fast path th, xa,
#: cf the constants theta_j, u_j, c_j
DynScratch = namedtuple("DynScratch",
                        "s s0 sp D Da Dt sb Db th xa cf hp q r G Ga Gs act mode sc")


def allocate_dyn(n):
    """The path follower's buffers for points of n sectors."""
    return DynScratch(*(np.zeros(n) for _ in range(17)),
                      act=np.zeros(n, np.int64), mode=np.zeros(n, np.int64),
                      sc=np.zeros(2))


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
    """The starts of a block's points: (flat, offset), the (k, d) starts
    of the points with d active sectors at flat[offset[d]:] (row-major),
    for every d among the valid points."""
    n = kind.shape[1]
    nact = (kind == KIND_CAND).sum(axis=1)
    offset = np.zeros(n + 1, np.int64)
    parts = []
    at = 0
    for d in np.unique(nact[valid]):
        if d > 0:
            offset[d] = at
            parts.append(sobol_starts(d, k, seed).ravel())
            at += parts[-1].size
    flat = np.concatenate(parts) if parts else np.zeros(1)
    return flat, offset


# --- Delta along a profile ------------------------------------------------

@jit
def eval_D(ws, s, dy, na, D):
    """D_j (the sign and zeros of Delta_j) of every active sector at the
    shares s of the active sectors (the others at S0), into D."""
    pt = ws.pt
    eps = pt.eps
    if pt.fast:
        xs = dy.sc[1]
        for j in range(na):
            th = dy.th[j]
            sj = s[j]
            h = math.expm1(eps * math.log1p(th * sj))
            D[j] = h
            hp = eps * th * (1.0 + h) / (1.0 + th * sj)
            dy.hp[j] = hp
            dy.q[j] = dy.xa[j] * (h + sj * hp)
            xs += dy.xa[j] * (1.0 + sj * h)
        xa = math.exp(pt.alpha * math.log(xs))
        dy.sc[0] = pt.alpha * xa / xs
        for j in range(na):
            D[j] = D[j] - dy.cf[j] * xa
        return
    sec = ws.sec
    logm = ws.prof.logm  # (the inactive sectors' entries: set_inactive)
    for j in range(na):
        i = dy.act[j]
        a = eps * math.log1p(sec.theta[i] * s[j])
        D[j] = a  # a_j until the wage is known
        logm[i] = log_m(s[j], a)
    x = log_wage(ws)
    for j in range(na):
        i = dy.act[j]
        net = (1.0 - sec.sigma[i]) * sec.cost[i]
        a = D[j]
        sj = s[j]
        # R_i = (1 - alpha) w l_N / alpha, l_N = L_i / m_i; D_j + net = R_i (e^a - 1)
        logr = pt.logcoef + x + ws.prof.logl[i] - logm[i]
        r = math.exp(logr + log_expm1(a))
        D[j] = r - net
        # the gradient's pieces: a' = eps theta / (1 + theta s), m = 1 + s (e^a - 1)
        da = eps * sec.theta[i] / (1.0 + sec.theta[i] * sj)
        ea = math.exp(-a)
        dy.hp[j] = (1.0 - ea + sj * da) / (ea + sj * (1.0 - ea))
        dy.q[j] = math.exp(logr + a) * da
        dy.r[j] = r


@jit
def set_inactive(ws):
    """ws.prof.logm of the inactive sectors (0: inert, log m(1): spontaneous)."""
    sec = ws.sec
    for i in range(sec.lqa.shape[0]):
        if sec.kind[i] == KIND_SPONT:
            ws.prof.logm[i] = sec.logm1[i]
        elif sec.kind[i] != KIND_CAND:
            ws.prof.logm[i] = 0.0


@jit
def welfare_at(ws, dy, na, s):
    """W with the active sectors at the shares s (the others at S0)."""
    pt, sec = ws.pt, ws.sec
    n = sec.lqa.shape[0]
    set_inactive(ws)
    for j in range(na):
        i = dy.act[j]
        ws.prof.logm[i] = log_m(s[j], pt.eps * math.log1p(sec.theta[i] * s[j]))
    x = log_wage(ws)
    vsum = 0.0
    csum = 0.0
    for i in range(n):
        vsum += math.exp(x + ws.prof.logl[i]) / (1.0 + sec.tau[i])
        if sec.kind[i] == KIND_SPONT:
            csum += sec.cost[i]
    for j in range(na):
        csum += s[j] * sec.cost[dy.act[j]]
    return vsum / pt.alpha - csum


@jit
def slope(ws, s, dy, na, j, d0):
    """dD_j/ds_j at s (the wage's response included; d0 = D_j at s), by a
    one-sided difference (inward at s_j near 1). Leaves dy.Dt changed."""
    sj = s[j]
    step = SLOPE_STEP if sj + SLOPE_STEP <= 1.0 else -SLOPE_STEP
    s[j] = sj + step
    eval_D(ws, s, dy, na, dy.Dt)
    s[j] = sj
    return (dy.Dt[j] - d0) / step


@jit
def solve_held(ws, sp, dy, na):
    """Newton's method on the held shares of sp (Gauss-Seidel over the
    held sectors, from their values in sp) for D_j = 0 with dD_j/ds_j < 0.
    True with dy.D = D at the solution; False where a held zero is gone
    (a positive slope, a step out of (0, 1), no convergence)."""
    mode, D = dy.mode, dy.D
    for _ in range(HELD_MAXITER):
        biggest = 0.0
        for j in range(na):
            if mode[j] != HELD:
                continue
            eval_D(ws, sp, dy, na, D)
            g = slope(ws, sp, dy, na, j, D[j])
            if not g < 0.0:
                return False
            step = -D[j] / g
            new = sp[j] + step
            if not (0.0 < new < 1.0):
                return False
            sp[j] = new
            if abs(step) > biggest:
                biggest = abs(step)
        if biggest <= HELD_TOL:
            eval_D(ws, sp, dy, na, D)
            return True
    return False


@jit(inline="always")
def switched(f, m):
    """D_j = f contradicts the mode m of a free sector."""
    return (f > 0.0) != (m == UP)


@jit
def profile_at(dy, na, u):
    """dy.sp: the segment from dy.s0 at u (free sectors on their straight
    lines; held ones keep their accepted values dy.s as Newton's start)."""
    for j in range(na):
        m = dy.mode[j]
        if m == HELD:
            dy.sp[j] = dy.s[j]
        else:
            d = 1.0 if m == UP else 0.0
            dy.sp[j] = d + (dy.s0[j] - d) * u


@jit
def state_at(ws, dy, na, nheld, u):
    """The state at u into dy.sp, dy.D (held shares solved); False where a
    held zero is gone."""
    profile_at(dy, na, u)
    if nheld > 0:
        return solve_held(ws, dy.sp, dy, na)
    eval_D(ws, dy.sp, dy, na, dy.D)
    return True


@jit
def probe(ws, dy, na, nheld, u):
    """The state at u into dy.sp, dy.D; True when it has no switch (every
    held zero found, every free sign as its mode)."""
    if not state_at(ws, dy, na, nheld, u):
        return False
    for j in range(na):
        if dy.mode[j] != HELD and switched(dy.D[j], dy.mode[j]):
            return False
    return True


@jit
def accept(dy, na):
    """The probe becomes the accepted state."""
    for j in range(na):
        dy.s[j] = dy.sp[j]
        dy.Da[j] = dy.D[j]


@jit
def locate_free(ws, dy, na, ua, ub):
    """The first switch in (ub, ua) of a segment without held sectors
    (dy.Da: D at ua, dy.D: D at ub): regula falsi (Illinois) on the D_j
    of each sector that switched; returns the u of the earliest, on its
    switched side."""
    best = ub
    mode = dy.mode
    for j in range(na):
        if not switched(dy.D[j], mode[j]):
            continue
        a, fa = ua, dy.Da[j]
        b, fb = ub, dy.D[j]
        side = 0
        for _ in range(SWITCH_MAXITER):
            if a - b <= U_TOL:
                break
            m = (a * fb - b * fa) / (fb - fa)
            if not (b < m < a):
                m = 0.5 * (a + b)
            profile_at(dy, na, m)
            eval_D(ws, dy.sp, dy, na, dy.Dt)
            fm = dy.Dt[j]
            if switched(fm, mode[j]):
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
def release(ws, dy, na, back):
    """The held sectors back at their shares in `back` (where solve_held
    started from), dy.D there, and each of them moving by the sign of its
    D_j (solve_held changes only the held shares of dy.sp)."""
    for j in range(na):
        if dy.mode[j] == HELD:
            dy.sp[j] = back[j]
    eval_D(ws, dy.sp, dy, na, dy.D)
    for j in range(na):
        if dy.mode[j] == HELD:
            dy.mode[j] = UP if dy.D[j] > 0.0 else DOWN


@jit
def settle(ws, dy, na, nheld):
    """At a switch (dy.sp: the free shares just past it; held shares to be
    solved): release the held sectors if a held zero is gone (each moves
    by the sign of its D_j), hold a switched sector whose dD_j/ds_j < 0,
    reverse the other switched ones. Returns the number of held sectors;
    dy.sp, dy.D the state after the switch."""
    mode = dy.mode
    if nheld > 0 and not solve_held(ws, dy.sp, dy, na):
        release(ws, dy, na, dy.s)
        nheld = 0
    elif nheld == 0:
        eval_D(ws, dy.sp, dy, na, dy.D)
    newly = 0
    for j in range(na):
        if mode[j] == HELD or not switched(dy.D[j], mode[j]):
            continue
        g = slope(ws, dy.sp, dy, na, j, dy.D[j])
        if g < 0.0:
            mode[j] = HELD
            newly += 1
        else:
            mode[j] = UP if dy.D[j] > 0.0 else DOWN
    if newly > 0:
        for j in range(na):  # (s0 is free until the next segment)
            dy.s0[j] = dy.sp[j]
        if not solve_held(ws, dy.sp, dy, na):
            release(ws, dy, na, dy.s0)  # no zero found after all
    count = 0
    for j in range(na):
        if mode[j] == HELD:
            count += 1
    return count


@jit
def gradient(ws, dy, na, nheld, G):
    """G: dD_j/dv of the free sectors along the segment from dy.s0 (free
    shares s = s0 + (d - s0) v, held ones at the zeros of their D_h), at
    the profile of the last eval_D (its pieces dy.hp, dy.q, dy.r, dy.sc;
    dy.Dt is its scratch).

    Both forms of D_j move as dD_j = g_j ds_j + b_j dx, dx = sum_k w_k ds_k
    (one common term). Fast path: D_j = h_j - c_j X^alpha, so g_j = h'_j,
    b_j = -c_j, w_k = alpha X^(alpha-1) u_k (h_k + s_k h'_k), dx the change
    of X^alpha. Elsewhere D_j + net_j = R_j (e^a_j - 1), log R_j = log coef
    + x + log L_j - log m_j, log L_i = b_i - k_i x, b_i = b0_i + e_i log m_i
    (e_i = 1 / (1 - eps eta_i)); the labour market stays cleared, so the
    log wage moves by dx = sum_k w_k ds_k, w_k = L_k e_k (log m_k)' /
    sum_i L_i k_i, and g_j = r_j (e_j - 1) (log m_j)' + q_j (q_j = R_j
    e^a_j a'_j, r_j = D_j + net_j), b_j = r_j (1 - k_j). A held sector
    keeps D_h = 0: ds_h = -b_h dx / g_h, so dx = sum_free w_k ds_k /
    (1 + sum_held w_h b_h / g_h). (nheld: the number of
    held sectors; the fast path without them takes the sums directly.)"""
    fast = ws.pt.fast
    if fast and nheld == 0:
        dx = 0.0
        for j in range(na):
            dx += dy.q[j] * ((1.0 if dy.mode[j] == UP else 0.0) - dy.s0[j])
        f = dy.sc[0] * dx
        for j in range(na):
            ds = (1.0 if dy.mode[j] == UP else 0.0) - dy.s0[j]
            G[j] = dy.hp[j] * ds - dy.cf[j] * f
        return
    sec = ws.sec
    eps = ws.pt.eps
    den = 0.0
    if not fast:
        logl = ws.prof.logl
        for i in range(sec.lqa.shape[0]):
            den += math.exp(logl[i]) * sec.k[i]
    free = 0.0
    held = 0.0
    for j in range(na):
        i = dy.act[j]
        if fast:
            g, bj, w = dy.hp[j], -dy.cf[j], dy.sc[0] * dy.q[j]
        else:
            e = 1.0 / (1.0 - eps * sec.eta[i])
            g = dy.r[j] * (e - 1.0) * dy.hp[j] + dy.q[j]
            bj = dy.r[j] * (1.0 - sec.k[i])
            w = math.exp(ws.prof.logl[i]) * e * dy.hp[j] / den
        m = dy.mode[j]
        if m == HELD:
            held += w * bj / g
            G[j] = 0.0
        else:
            ds = (1.0 if m == UP else 0.0) - dy.s0[j]
            free += w * ds
            G[j] = g * ds  # (b_j dx added below)
        dy.Dt[j] = bj  # (scratch: b_j)
    dx = free / (1.0 + held)
    for j in range(na):
        if dy.mode[j] != HELD:
            G[j] += dy.Dt[j] * dx


@jit
def hidden_switch(ws, dy, na, nheld, ua, ub):
    """A switch between two samples ua > ub of a segment whose signs both
    agree with the modes (dy.Da, dy.Ga: D and dD/dv at ua; dy.sp, dy.D,
    dy.G the probe at ub): where a free sector's D_j turns toward its
    other sign at ua and back at ub (an interior maximum of D_j for a
    sector moving down, a minimum for one moving up), the extremum is
    bracketed by cutting planes: where the tangents at the bracket's ends
    meet inside it, they bound the extremum (for a concave D_j near a
    maximum), which ends the search where the bound does not reach the
    other sign, and the next probe is there (elsewhere at the bracket's
    middle). Each such sector is searched; returns the largest u of a
    probe past a switch (any probe that fails; dy.sp, dy.D there), or -1
    with the probe at ub as it was."""
    saved = False
    found = -1.0
    for j in range(na):
        m = dy.mode[j]
        if m == HELD:
            continue
        sg = 1.0 if m == DOWN else -1.0
        ga = sg * dy.Ga[j]
        gb = sg * dy.G[j]
        if not (ga > 0.0 and gb < 0.0):
            continue
        a, fa = 1.0 - ua, sg * dy.Da[j]
        b, fb = 1.0 - ub, sg * (dy.Db[j] if saved else dy.D[j])
        for _ in range(HIDDEN_MAXITER):
            if b - a <= U_TOL:
                break
            v = (fb - fa + ga * a - gb * b) / (ga - gb)
            if a < v < b:
                if not fa + ga * (v - a) >= 0.0:
                    break  # the tangents' bound stays on this side
            else:
                v = 0.5 * (a + b)
            if not saved:
                for i in range(na):
                    dy.sb[i] = dy.sp[i]
                    dy.Db[i] = dy.D[i]
                saved = True
            if not probe(ws, dy, na, nheld, 1.0 - v):
                found = max(found, 1.0 - v)
                break
            gradient(ws, dy, na, nheld, dy.Gs)
            fm, gm = sg * dy.D[j], sg * dy.Gs[j]
            if gm > 0.0:
                a, fa, ga = v, fm, gm
            elif gm < 0.0:
                b, fb, gb = v, fm, gm
            else:
                break  # the extremum itself, on this side
    if found > 0.0:
        probe(ws, dy, na, nheld, found)  # (its state again: it fails as before)
        return found
    if saved:
        for i in range(na):
            dy.sp[i] = dy.sb[i]
            dy.D[i] = dy.Db[i]
    return -1.0


@jit
def next_u(dy, na, ua):
    """The next sample of an adaptive segment (no held sector): half the
    linear prediction of the nearest switch from dy.Da, dy.G at ua,
    within [STEP_MIN, STEP_MAX]; 0 (the corner) when that reaches it."""
    step = STEP_MAX
    for j in range(na):
        d, g = dy.Da[j], dy.G[j]
        if (d > 0.0 and g < 0.0) or (d <= 0.0 and g > 0.0):
            step = min(step, -0.5 * d / g)
    step = max(step, STEP_MIN)
    u = ua - step
    return u if u > 0.5 * STEP_MIN else 0.0


@jit
def follow(ws, dy, na):
    """Follow the path from the shares dy.s of the active sectors to its
    end. Returns (how, up): END_CORNER, END_PARTIAL or END_OPEN (not
    ended by T_MAX: dy.s the profile then), and the mask of the active
    sectors at 1 (END_OPEN: above 1/2), by their position j."""
    mode = dy.mode
    for j in range(na):
        dy.sp[j] = dy.s[j]
    eval_D(ws, dy.s, dy, na, dy.D)
    for j in range(na):
        mode[j] = UP if dy.D[j] > 0.0 else DOWN
    accept(dy, na)
    nheld = 0
    t0 = 0.0
    how = END_OPEN
    for seg in range(MAX_SEGMENTS):
        for j in range(na):
            dy.s0[j] = dy.s[j]
        ua = 1.0
        ended = True
        adaptive = nheld == 0
        if seg > 0:  # (the pieces of the gradient at the start)
            eval_D(ws, dy.s, dy, na, dy.D)
        gradient(ws, dy, na, nheld, dy.G)
        for k in range(1, MAX_SAMPLES + 1):
            u = next_u(dy, na, ua) if adaptive else 1.0 - k / SAMPLES
            ok = probe(ws, dy, na, nheld, u)
            if ok:
                for j in range(na):
                    dy.Ga[j] = dy.G[j]
                gradient(ws, dy, na, nheld, dy.G)
                uh = hidden_switch(ws, dy, na, nheld, ua, u)
                if uh > 0.0:
                    u = uh
                    ok = False
            if ok:
                accept(dy, na)
                ua = u
                if u == 0.0:
                    break
                continue
            ended = False
            if nheld > 0:
                uev = locate_held(ws, dy, na, nheld, ua, u)
            else:
                uev = locate_free(ws, dy, na, ua, u)
            tev = t0 - math.log(uev)
            if tev > T_MAX:
                probe(ws, dy, na, nheld, math.exp(t0 - T_MAX))
                accept(dy, na)
                return END_OPEN, _up(dy, na, END_OPEN)
            profile_at(dy, na, uev)
            nheld = settle(ws, dy, na, nheld)
            accept(dy, na)
            t0 = tev
            break
        if ended:
            how = END_CORNER if nheld == 0 else END_PARTIAL
            return how, _up(dy, na, how)
    return how, _up(dy, na, how)


@jit
def _up(dy, na, how):
    up = np.int64(0)
    for j in range(na):
        if (dy.s[j] >= 0.5) if how == END_OPEN else (dy.mode[j] == UP):
            up |= np.int64(1) << j
    return up


@jit
def end_of(ws, dy, na, zmask, how, up):
    """(mask, W) of a path's end (mask by sector index)."""
    mask = zmask
    for j in range(na):
        if (up >> j) & 1:
            mask |= np.int64(1) << dy.act[j]
    if how == END_CORNER:
        return mask, binary_welfare(ws, mask)[1]
    return mask, welfare_at(ws, dy, na, dy.s)


@jit
def point_setup(ws, dy):
    """The path follower's constants of a point (ws its workspace): the
    active sectors into dy.act and, for the fast path, dy.th, dy.xa,
    dy.cf, dy.sc[1]; the inactive sectors' log m_i. Returns (na, the mask
    of the spontaneous sectors)."""
    sec = ws.sec
    na = 0
    zmask = np.int64(0)
    xfix = 0.0
    for i in range(sec.lqa.shape[0]):
        if sec.kind[i] == KIND_CAND:
            dy.act[na] = i
            dy.th[na] = sec.theta[i]
            dy.xa[na] = sec.xa[i]
            dy.cf[na] = (1.0 - sec.sigma[i]) * sec.cost[i] * math.exp(-sec.logk[i])
            na += 1
        elif sec.kind[i] == KIND_SPONT:
            zmask |= np.int64(1) << i
            xfix += sec.xb[i]
        else:
            xfix += sec.xa[i]
    dy.sc[1] = xfix
    set_inactive(ws)
    return na, zmask


@jit
def dynamics_points(prep, scr, dy, flat, offset, k, welfare_nc, welfare_best, coop_best,
                    basin_nc, basin_best, p_stuck, welfare_expected, selection_gap,
                    big_push, status):
    """The six outputs and the status bits (status[p], to OR into the
    point's) of every point of a prepared block (kernels/point.py), from
    its block-kernel outputs welfare_nc, welfare_best (welfare_best_eq)
    and coop_best (coop_best_eq), k starts each (block_starts: flat,
    offset)."""
    for p in range(status.shape[0]):
        status[p] = 0
        if not prep.valid[p]:
            basin_nc[p] = basin_best[p] = p_stuck[p] = np.nan
            welfare_expected[p] = selection_gap[p] = big_push[p] = np.nan
            continue
        ws = workspace_at(prep, p, scr)
        na, zmask = point_setup(ws, dy)
        nsec = ws.sec.lqa.shape[0]
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
        base = offset[na]
        for r in range(k):
            for j in range(na):
                dy.s[j] = flat[base + r * na + j]
            how, up = follow(ws, dy, na)
            mask, W = end_of(ws, dy, na, zmask, how, up)
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
            bup = np.int64(0)
            for j in range(na):
                if (bmask >> dy.act[j]) & 1:
                    bup |= np.int64(1) << j
            lo = 0.0
            hi = 1.0
            for _ in range(PUSH_HALVINGS):
                mid = 0.5 * (lo + hi)
                for j in range(na):
                    dy.s[j] = mid if (bup >> j) & 1 else 0.0
                how, up = follow(ws, dy, na)
                if how == END_OPEN:
                    bad |= codes.PATH_NOT_CONVERGED
                if how == END_CORNER and up == bup:
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
    flat, offset = block_starts(prep.sec["kind"][:npts], prep.valid[:npts], k, seed)
    scr, dy = _buffers(n)
    status = np.zeros(npts, np.int64)
    dynamics_points(prep, scr, dy, flat, offset, k, out.welfare_nc, out.welfare_best_eq,
                    out.coop_best_eq, *(dyn[name] for name in DYNAMICS_NAMES), status)
    bits = status.astype(np.int8)
    out.status[:] |= bits
    return dyn, bits
