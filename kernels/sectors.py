"""MODEL.md "Coordination-failure conditions, per sector": from the GE path
g_i(s) (kernels.economy.path_g), each sector's regime, critical mass,
partial share, gain from coordination and the subsidy it needs.
"""
import math

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.economy import (
    KIND_INERT, KIND_SPONT, SOLVER_PATH, SOLVER_WAGE, WAGE_NEWTON, binary_welfare, fast_g,
    fast_g_slope, fast_path_args, log_rent_full, log_wage, path_g, path_welfare,
    set_path_profile)
from coordsweep.kernels.jit import jit
from coordsweep.kernels.solvers import code
from coordsweep.kernels.rootfind import (
    SMALL_RTOL, make_bisect_root, make_brent_root, make_golden_peak, make_newton_root)

#: samples of g_i on (0, 1] used to check that the path is increasing or
#: single-peaked (the searches rely on it; PATH_SHAPE flags a violation;
#: where every eta = 0, :func:`fast_path_turns_back` decides it exactly,
#: dips between the samples included; elsewhere :func:`dip_state` screens
#: for such dips)
SHAPE_SAMPLES = 8
#: when the path rises again after falling (it happens for large theta at
#: high labour shares), the searches start again from
#: this many samples, so that the first and last crossings are still found
#: unless g_i wiggles on a finer scale; the point keeps its PATH_SHAPE bit
DENSE_SAMPLES = 64
#: the samples scratch of analyse_candidate (DENSE_SAMPLES + 1 samples)
#: holds, from here, a deferred search's start and bracket
DEFER_SLOT = DENSE_SAMPLES + 1
#: the samples of a path found in lock-step where some eta_j > 0
#: (kernels/etapath.py): g_i(k / SHAPE_SAMPLES) for k = 0..SHAPE_SAMPLES,
#: then g_i(1 - SLOPE_STEP); the block kernel copies them into the samples
#: scratch from PRE_SLOT (gs[PRE_SLOT] NaN: none)
PRESAMPLES = SHAPE_SAMPLES + 2
PRE_SLOT = DEFER_SLOT + 3
#: length of analyse_candidate's samples scratch
SAMPLES_SCRATCH = PRE_SLOT + PRESAMPLES
#: a rise or fall of g_i smaller than this (relative) is rounding noise
SHAPE_RTOL = 1e-12
#: step used to tell whether g_i still rises at s = 1
SLOPE_STEP = 1e-7
#: relative margin of the monotonicity certificate (path_increasing)
CERT_MARGIN = 1e-9
#: the pieces of (0, 1] of the certificate's second test where some
#: eta_j > 0 (:func:`eta_path_increasing`): shares s_k = (k / CERT_PIECES)^(1/3),
#: narrower towards s = 1, where the test is tightest
CERT_PIECES = 16
CERT_SHARES = np.linspace(0.0, 1.0, CERT_PIECES + 1) ** (1.0 / 3.0)
#: relative margin of the exact shape test (:func:`fast_path_turns_back`):
#: a dip of g_i shallower than this leaves no trace in its values
TURN_RTOL = 1e-9
#: :func:`dip_state`'s relative margin (TURN_RTOL's: a dip shallower than
#: rounding is none) and the tolerance of its search for beta's minimum
DIP_RTOL = TURN_RTOL
DIP_XTOL = 1e-6
#: iterations of its search for the largest value of m (Newton's, bracketed;
#: 2-4 are needed)
TURN_MAXITER = 100
#: GE-path variants' codes (kernels/solvers.py SLOTS["path"])
PATH_BRENT = code("path", "brent")
PATH_BISECT = code("path", "bisect")
PATH_NEWTON = code("path", "newton")
PATH_LOCKSTEP = code("path", "lockstep")
#: the critical mass analyse_candidate returns for a root it leaves to the
#: block's lock-step search (kernels/lockstep.py)
DEFERRED = -1.0
#: the same for a fast path the certificate does not cover, left with its
#: samples to kernels/samplepath.py
DEFERRED_SAMPLED = -2.0

#: root and peak of g_i(s) on a bracket in [0, 1]: path_root(a, b, g(a),
#: g(b), (ws, i)), path_peak(a, b, (ws, i))
path_root = make_brent_root(path_g)
path_peak = make_golden_peak(path_g)
#: the GE-path variant ``path=bisect`` (kernels/solvers.py)
path_bisect = make_bisect_root(path_g)
#: the same on the fast path, on g_i's scalars (economy.fast_path_args)
fast_root = make_brent_root(fast_g)
fast_peak = make_golden_peak(fast_g)
fast_bisect = make_bisect_root(fast_g)
#: the GE-path variant ``path=newton``: safeguarded Newton with g_i's
#: analytic slope (fast path only; elsewhere Brent answers)
fast_newton = make_newton_root(fast_g_slope)


@jit
def root_on_path(ws, i, a, b, fa, fb):
    """A root of g_i in [a, b] by the run's GE-path variant (a RootResults)."""
    code = ws.status[SOLVER_PATH]
    # (a tolerance relative to s below s = 1e-4: rootfind.SMALL_RTOL)
    if ws.pt.fast:
        args = fast_path_args(ws, i)
        if code == PATH_BISECT:
            return fast_bisect(a, b, fa, fb, args, small_rtol=SMALL_RTOL)
        if code == PATH_NEWTON:
            return fast_newton(a, b, fa, fb, args, small_rtol=SMALL_RTOL)
        return fast_root(a, b, fa, fb, args, small_rtol=SMALL_RTOL)
    if code == PATH_BISECT:
        return path_bisect(a, b, fa, fb, (ws, i), small_rtol=SMALL_RTOL)
    return path_root(a, b, fa, fb, (ws, i), small_rtol=SMALL_RTOL)


@jit(inline="always")
def g_at(ws, i, s):
    """g_i(s) of a candidate sector i (the fast path on scalars)."""
    if ws.pt.fast:
        return fast_g(s, *fast_path_args(ws, i))
    return path_g(s, ws, i)


@jit
def peak_on_path(ws, i, a, b):
    """Golden-section peak of g_i on [a, b] (a PeakResults)."""
    if ws.pt.fast:
        return fast_peak(a, b, fast_path_args(ws, i))
    return path_peak(a, b, (ws, i))


@jit(inline="always")
def path_increasing(ws, i, x1):
    """True when g_i is certainly strictly increasing on [0, 1] (candidate
    sector i; x1 = log w(S0 u {i})): then the shape samples are not needed.

    On the fast path (every eta = 0): with h(s) = (1 + theta s)^eps - 1,
    X(s) = X0 + u s h(s) (X0: X at S0, sector i at 0; u = (q_i a_i)^eps)
    and g + c' = K h X^-alpha, d/ds log(g + c') = h'/h - alpha u (h + s h') / X,
    which is > 0 iff h' X0 + (1 - alpha) u s h h' > alpha u h^2. h is
    convex with h(0) = 0, so h <= s h' and alpha u h^2 <= alpha u s h h':
    it suffices that X0 + (1 - 2 alpha) u s h(s) > 0 on (0, 1] (h' > 0).
    Always true for alpha <= 1/2; otherwise s h(s) is largest at s = 1,
    where u h(1) = xb_i - xa_i, so X0 > (2 alpha - 1) (xb_i - xa_i)
    suffices (with a margin of CERT_MARGIN against rounding).

    With some eta_j > 0 (:func:`eta_path_increasing`) the same argument
    holds with alpha replaced by a bound B on the wage's pull. Points with
    every eta = 0 off the fast path are not certified."""
    pt = ws.pt
    if not pt.fast:
        if pt.eta0:
            return False
        return eta_path_increasing(ws, i, x1)
    sec = ws.sec
    return cheap_certificate(pt.alpha, pt.xa0, sec.xa[i], sec.xb[i])


@jit(inline="always")
def cheap_certificate(alpha, xa0, xa, xb):
    """:func:`path_increasing` on the fast path: alpha <= 1/2, or
    X0 > (2 alpha - 1) (xb_i - xa_i) with a margin of CERT_MARGIN."""
    return alpha <= 0.5 or xa0 > (2.0 * alpha - 1.0) * (xb - xa) * (1.0 + CERT_MARGIN)


@jit(inline="always")
def _turn_terms(d, eps, alpha):
    """At t = 1 + d: (t^-eps, 1 - t^-eps, v(t)) of :func:`fast_path_turns_back`'s
    m(t) = (t^eps - 1) v(t) = (1 - t^-eps) v(t) / t^-eps (no overflow for
    large t; expm1 where t is near 1)."""
    lg = math.log1p(d)
    w = math.exp(-eps * lg)
    if d < 0.5:
        return w, -math.expm1(-eps * lg), -alpha * math.expm1((1.0 - eps) * lg) - (1.0 - alpha) * d
    return w, 1.0 - w, alpha - alpha * (1.0 + d) * w - (1.0 - alpha) * d


@jit(inline="always")
def _turn_slope(d, eps, alpha, w, omw, v):
    """((log m)', (log m)'') at t = 1 + d, where v(t) > 0."""
    t = 1.0 + d
    vp = alpha * (eps - 1.0) * w - (1.0 - alpha)
    vpp = -alpha * (eps - 1.0) * eps * w / t
    slope = eps / (t * omw) + vp / v
    curv = -eps * (omw + eps * w) / (t * t * omw * omw) + (vpp * v - vp * vp) / (v * v)
    return slope, curv


#: what :func:`turn_state` tells of g_i near s = 1
TURN_FALLS = 0  # g_i falls at s = 1 (or a tie): at most single-peaked, not increasing
TURN_RISES = 1  # m rises up to 1 + theta, below kappa there: g_i increasing
TURN_PEAK = 2   # g_i rises at s = 1, past the peak of m: its peak decides


@jit(inline="always")
def turn_state(xa0, u, theta, eps, alpha, w):
    """The first part of :func:`fast_path_turns_back` (alpha > 1/2;
    w = (1 + theta)^-eps, which the callers have): (TURN_FALLS, TURN_RISES
    or TURN_PEAK, kappa). With TURN_PEAK, g_i turns back iff the peak of
    m (:func:`turn_peak`) exceeds kappa, and is increasing iff it stays
    below."""
    kappa = xa0 * eps * theta / u
    if theta < 0.5:
        w, omw, v = _turn_terms(theta, eps, alpha)
    else:
        omw = 1.0 - w
        v = alpha - alpha * (1.0 + theta) * w - (1.0 - alpha) * theta
    if not omw * v < kappa * w * (1.0 - TURN_RTOL):
        return TURN_FALLS, kappa  # m(1 + theta) >= kappa (or a tie; or NaN)
    if 1.0 + theta <= alpha / (1.0 - alpha):
        return TURN_RISES, kappa  # below the peak of m (turn_peak), where m rises
    if v > 0.0 and _turn_slope(theta, eps, alpha, w, omw, v)[0] >= 0.0:
        return TURN_RISES, kappa
    return TURN_PEAK, kappa


@jit
def turn_peak(eps, alpha):
    """(n, d) with n / d the largest value of :func:`fast_path_turns_back`'s
    m (alpha > 1/2; it depends on alpha only): Newton's method on
    (log m)' = 0, bracketed (log m is concave) from below by
    t = alpha / (1 - alpha), where m still rises (t (log m)' >= 1 there, to
    50 digits on a fine grid of alpha in (1/2, 1)) and which is within 9%
    of the peak; once the step is below 1e-5 of t, log m's quadratic
    model gives the peak's value to rounding."""
    lo = (2.0 * alpha - 1.0) / (1.0 - alpha)
    hi = np.inf
    # the start: t = alpha / (1 - alpha) (1 + x (1 - x)^2 p(x)), x = 2 alpha - 1,
    # p a cubic fitted to the peak (within 0.03% of it), so that one or two
    # steps reach it
    x = 2.0 * alpha - 1.0
    p = 0.65340021 + x * (0.26644872 + x * (-1.62872304 + x * 0.94854925))
    d = lo + alpha / (1.0 - alpha) * x * (1.0 - x) * (1.0 - x) * p
    w, omw, v = _turn_terms(d, eps, alpha)
    for _ in range(TURN_MAXITER):
        if not v > 0.0:  # past t*: the peak is to the left
            hi = d
            d = 0.5 * (lo + hi)
            w, omw, v = _turn_terms(d, eps, alpha)
            continue
        slope, curv = _turn_slope(d, eps, alpha, w, omw, v)
        if slope > 0.0:
            lo = d
        else:
            hi = d
        step = -slope / curv
        if abs(step) <= 1e-5 * d:
            # log m at the peak: its quadratic model's, log m + slope step / 2
            return omw * v * (1.0 + 0.5 * slope * step), w
        dn = d + step
        if not lo < dn < hi:
            dn = 0.5 * (lo + hi) if hi < np.inf else 2.0 * d
        d = dn
        w, omw, v = _turn_terms(d, eps, alpha)
    return omw * v, w


@jit
def fast_path_turns_back(xa0, u, logk, theta, eps, alpha, net):
    """True when g_i (the fast path; economy.fast_g's arguments) rises, falls
    and rises again on (0, 1]: MODEL.md's path that is not single-peaked,
    decided exactly rather than from samples.

    With t = 1 + theta s, :func:`path_increasing`'s condition for
    d/ds log(g + c') > 0, h' X0 + (1 - alpha) u s h h' > alpha u h^2,
    reads (eps (1 - alpha) = 1) X0 eps theta > u m(t) with
    m(t) = (t^eps - 1) v(t), v(t) = 1 - (1 - alpha) t - alpha t^(1 - eps).
    For alpha > 1/2, v is concave with v(1) = 0 and v'(1) > 0, so m is
    positive on (1, t*) (v(t*) = 0), negative after, and log-concave on
    (1, t*) (both factors are): m rises to one peak and falls. g_i falls
    exactly where m(t) > kappa = X0 eps theta / u, an interval of t, so it
    rises again after falling iff m(1 + theta) < kappa < max m over
    (1, 1 + theta): g_i rises at s = 1, and the peak of m lies inside,
    above kappa (:func:`turn_state`, then :func:`turn_peak`, which a
    caller with many paths of one alpha may keep: :func:`path_turns`).
    And g_i is increasing iff m stays below kappa on (1, 1 + theta]
    (:func:`fast_increasing`).
    TURN_RTOL keeps the ties (a dip or a final rise of the order of
    rounding) out of both."""
    return path_turns(xa0, u, theta, eps, alpha, math.exp(-eps * math.log1p(theta)),
                      np.nan, np.nan)[0]


@jit(inline="always")
def path_turns(xa0, u, theta, eps, alpha, w, peak_n, peak_d):
    """:func:`fast_path_turns_back`'s analysis given w = (1 + theta)^-eps:
    (turns back, increasing, peak_n, peak_d), m's peak (:func:`turn_peak`;
    NaN: not known yet) as the caller gave it or as worked out here, for
    the next path of the same alpha. Neither answer where alpha <= 1/2
    (:func:`cheap_certificate` holds there)."""
    if not (alpha > 0.5 and theta > 0.0 and u > 0.0 and xa0 > 0.0):
        return False, False, peak_n, peak_d
    state, kappa = turn_state(xa0, u, theta, eps, alpha, w)
    if state != TURN_PEAK:
        return False, state == TURN_RISES, peak_n, peak_d
    if np.isnan(peak_n):
        peak_n, peak_d = turn_peak(eps, alpha)
    return (peak_n > kappa * peak_d * (1.0 + TURN_RTOL),
            peak_n < kappa * peak_d * (1.0 - TURN_RTOL), peak_n, peak_d)


@jit
def eta_path_increasing(ws, i, x1):
    """The certificate of :func:`path_increasing` where some eta_j > 0.

    With e_i = 1 / (1 - eps eta_i), k_j the wage elasticities of labour
    demand (log L_j = b_j - k_j x) and m = m_i(s), log(g + c') =
    const + (1 - k_i) x(s) + (e_i - 1) log m + log h, and clearing gives
    x' = e_i L_i (m'/m) / sum_j k_j L_j, so

        d/ds log(g + c') = h'/h - (m'/m) B(s),
        B(s) = e_i (lambda(s) (alpha + eta_i) - eps eta_i),
        lambda(s) = k_i L_i / sum_j k_j L_j

    (1 - 1/k_i = alpha + eta_i; with every eta = 0, B = alpha L_i / L and
    this is the fast path's expression). lambda rises with s (the wage
    rises, every other L_j falls, L_i rises), so B(s) <= B(1). As on the
    fast path (h <= s h', m = 1 + s h), h'/h > (m'/m) B holds when
    1 + (1 - 2B) s h(s) > 0, which for all s in (0, 1] follows from
    B(1) <= 1/2 or (2 B(1) - 1) h(1) < 1. lambda(1) is read at the clearing
    wage x1 of the profile S0 u {i} (N exps; ws.prof.logl is scratch
    here); both B(1) and the product carry a relative margin of CERT_MARGIN.

    Where that fails, a second test (:func:`piece_certified`) keeps h and
    h' as they are instead of h <= s h' (which loses up to a factor eps):
    h'/h > (m'/m) B is h' (1 + (1 - B) s h) > B h^2, implied by

        B(1) Q(s) < R(s),  Q = h^2 / h',  R = 1 + (1 - B(1)) s h,

    and Q and R both rise with s (Q: d log Q / du = 2 eps u^(eps-1) / (u^eps
    - 1) - (eps - 1) / u > 0 with u = 1 + theta s; R: B(1) < 1, as
    lambda < 1 makes B < e_i (alpha + eta_i - eps eta_i) = alpha),
    so on each piece [s_k, s_k+1] of CERT_SHARES it suffices that
    B(1) Q(s_k+1) < R(s_k). Sectors with (1 + theta_i)^eps beyond exp(700)
    are not certified."""
    pt, sec = ws.pt, ws.sec
    if not sec.logm1[i] < 700.0:
        return False
    lam = pull_share(ws, i, x1)
    bound = pull_bound(lam, sec.eta[i], pt.eps, pt.alpha)
    ok, more = first_test(bound, lam, math.exp(sec.lem1[i]))
    if ok or not more:
        return ok
    eps = pt.eps
    theta = sec.theta[i]
    ha = 0.0  # h(0)
    for k in range(CERT_PIECES):
        hb = math.expm1(eps * math.log1p(theta * CERT_SHARES[k + 1]))
        if not piece_certified(theta, eps, bound, CERT_SHARES[k], ha, CERT_SHARES[k + 1], hb):
            return False
        ha = hb
    return True


@jit(inline="always")
def pull_share(ws, i, x1):
    """lambda(1) of :func:`eta_path_increasing`: :func:`labour_pull` at
    the clearing wage x1 of the profile S0 u {i} (N exps)."""
    sec = ws.sec
    eps = ws.pt.eps
    # log L_j at x1, profile S0 u {i} (b_j as economy.log_wage)
    for j in range(sec.lqa.shape[0]):
        logm = sec.logm1[j] if (sec.s0[j] == 1.0 or j == i) else 0.0
        ws.prof.logl[j] = sec.b0[j] + logm / (1.0 - eps * sec.eta[j]) - sec.k[j] * x1
    return labour_pull(ws, i)


@jit(inline="always")
def labour_pull(ws, i):
    """lambda = k_i L_i / sum_j k_j L_j from the log L_j in ws.prof.logl
    (which it overwrites with k_j L_j, scaled)."""
    logl = ws.prof.logl
    n = ws.sec.lqa.shape[0]
    mx = -np.inf
    for j in range(n):
        if logl[j] > mx:
            mx = logl[j]
    tot = 0.0
    for j in range(n):
        v = ws.sec.k[j] * math.exp(logl[j] - mx)
        logl[j] = v
        tot += v
    return logl[i] / tot


@jit(inline="always")
def pull_terms(lam, eta, eps, alpha):
    """(up, down), B = up - down = e_i (lambda (alpha + eta_i) - eps eta_i)
    of :func:`eta_path_increasing` from lambda."""
    e = 1.0 / (1.0 - eps * eta)
    return e * lam * (alpha + eta), e * eps * eta


@jit(inline="always")
def pull_bound(lam, eta, eps, alpha):
    """B(1) of :func:`eta_path_increasing` from lambda(1), raised by its
    relative margin CERT_MARGIN."""
    up, down = pull_terms(lam, eta, eps, alpha)
    return up - down + CERT_MARGIN * (up + down)


@jit(inline="always")
def first_test(bound, lam, h1):
    """:func:`eta_path_increasing`'s first test, from its bound on B(1),
    lambda(1) and h(1) = (1 + theta_i)^eps - 1: (certified, the second test
    (:func:`piece_certified` on every piece) may still certify)."""
    if bound <= 0.5:
        return math.isfinite(lam), False
    if (2.0 * bound - 1.0) * h1 * (1.0 + CERT_MARGIN) < 1.0:
        return True, False
    return False, bound < 1.0


@jit(inline="always")
def piece_certified(theta, eps, bound, sa, ha, sb, hb):
    """The second test of :func:`eta_path_increasing` on the piece [sa, sb]
    of (0, 1] (ha, hb: h there): bound Q(sb) < R(sa), Q = h^2 / h' with
    h' = eps theta (1 + h) / (1 + theta s), R = 1 + (1 - bound) s h, with
    a relative margin of CERT_MARGIN (multiplied out: no division). False
    for anything not a number and for an infinite h.
    """
    lhs = bound * (hb * hb) * (1.0 + theta * sb) * (1.0 + CERT_MARGIN)
    return lhs < (1.0 + (1.0 - bound) * sa * ha) * (eps * theta * (1.0 + hb))


@jit
def sample_path(ws, i, g0, g1, gs, nk):
    """gs[k] = g_i(k / nk), k = 0..nk. Returns True when the samples rise
    and then (maybe) fall, never rising again (beyond rounding noise): the
    shape the searches rely on. The samples also narrow their brackets."""
    gs[0] = g0
    gs[nk] = g1
    if ws.pt.fast:
        args = fast_path_args(ws, i)
        for k in range(1, nk):
            gs[k] = fast_g(k / nk, *args)
    elif nk == SHAPE_SAMPLES and presampled(gs):
        for k in range(1, nk):
            gs[k] = gs[PRE_SLOT + k]
    else:
        for k in range(1, nk):
            gs[k] = path_g(k / nk, ws, i)
    falling = False
    for k in range(1, nk + 1):
        tol = SHAPE_RTOL * max(abs(gs[k]), abs(gs[k - 1]), abs(g0))
        if gs[k] < gs[k - 1] - tol:
            falling = True
        elif gs[k] > gs[k - 1] + tol and falling:
            return False
    return True


@jit(inline="always")
def turns_back(ws, i):
    """:func:`fast_path_turns_back` of candidate sector i on the fast path,
    (1 + theta_i)^-eps = xa_i / xb_i from the workspace."""
    sec = ws.sec
    return path_turns(ws.pt.xa0, sec.xa[i], sec.theta[i], ws.pt.eps, ws.pt.alpha,
                      sec.xa[i] / sec.xb[i], np.nan, np.nan)[0]


@jit(inline="always")
def fast_increasing(xa0, u, theta, eps, alpha, w, peak_n, peak_d):
    """Whether g_i is increasing on (0, 1] by :func:`fast_path_turns_back`'s
    exact analysis (m below kappa on (1, 1 + theta]; the fast path;
    w = (1 + theta)^-eps). Returns (increasing, peak_n, peak_d), m's peak
    as :func:`path_turns` keeps it."""
    _, up, peak_n, peak_d = path_turns(xa0, u, theta, eps, alpha, w, peak_n, peak_d)
    return up, peak_n, peak_d


@jit(inline="always")
def fast_path_increasing(xa0, xa, xb, theta, eps, alpha, peak_n, peak_d):
    """Candidate sector i's g_i certainly increasing on the fast path:
    :func:`cheap_certificate`, else the exact :func:`fast_increasing`
    (xa, xb: the sector's xa_i, xb_i). Returns (increasing, peak_n,
    peak_d) as fast_increasing does."""
    if cheap_certificate(alpha, xa0, xa, xb):
        return True, peak_n, peak_d
    return fast_increasing(xa0, xa, theta, eps, alpha, xa / xb, peak_n, peak_d)


@jit(inline="always")
def rises_at_one_after_peak(ws, i, g0, g1, gs, pre, nk):
    """Off the fast path, where no exact test is at hand: whether g_i, whose
    nk + 1 samples in gs rise and then fall, still rises at s = 1
    (beyond rounding noise), so that it fell and rose again after its last
    sample (g_i(1 - SLOPE_STEP) from the lock-step samples where pre)."""
    kmax = 0
    for k in range(1, nk + 1):
        if gs[k] > gs[kmax]:
            kmax = k
    if kmax == nk:
        return False
    gm = gs[PRE_SLOT + SHAPE_SAMPLES + 1] if pre else g_at(ws, i, 1.0 - SLOPE_STEP)
    return g1 > gm + SHAPE_RTOL * max(abs(g1), abs(gm), abs(g0))


@jit(inline="always")
def dip_beta(s, theta, eps):
    """beta(s) = h' (1 + s h) / (h (h + s h')), h = (1 + theta s)^eps - 1:
    g_i falls at s exactly where B(s) > beta(s) (:func:`dip_state`)."""
    h = math.expm1(eps * math.log1p(theta * s))
    hp = eps * theta * (1.0 + h) / (1.0 + theta * s)
    return hp * (1.0 + s * h) / (h * (h + s * hp))


@jit
def _minus_dip_beta(s, theta, eps):
    return -dip_beta(s, theta, eps)


#: the least beta on (0, 1) (:func:`dip_state`): the peak of -beta
dip_beta_low = make_golden_peak(_minus_dip_beta)


#: what :func:`dip_state` tells of a path off the fast path
DIP_NONE = 0   # g_i cannot rise, fall and rise again (by the screen)
DIP_SURE = 1   # it does: it falls at an s where it must rise again after
DIP_MAYBE = 2  # undecided: the dense samples decide
#: the steps of :func:`dip_state`'s narrowing of where g_i may fall. A
#: step rules a dip out or goes on (B(s_b) is at most the bound that gave
#: s_b, beta(s_b): it proves a dip only within the bound's margin); on a
#: path that turns back the steps close in on its last crossing and never
#: end, each a wage root spent before the dense samples. On 3,000 random
#: high-alpha points with theta x 10 and some eta_i > 0, 114 paths that 2
#: steps left undecided do not turn back; 55 of them are ruled out at the
#: 3rd step, 18 at the 4th, 11 at the 5th, 30 later or never
#: (benchmarks/bench_eta.py --dips measures the cost)
DIP_STEPS = 5


@jit(inline="always")
def pull_at(ws, i, s):
    """B(s) of :func:`eta_path_increasing` at share s of sector i (its
    clearing wage: one root search, as for a sample of g_i)."""
    set_path_profile(ws, i, s)
    log_wage(ws)
    up, down = pull_terms(labour_pull(ws, i), ws.sec.eta[i], ws.pt.eps, ws.pt.alpha)
    return up - down


@jit(inline="always")
def dip_beta_above(level, lo, theta, eps):
    """The share in [lo, 1] where beta, rising there, reaches level
    (bisection to 1e-9)."""
    hi = 1.0
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        if dip_beta(mid, theta, eps) < level:
            lo = mid
        else:
            hi = mid
    return hi


@jit
def dip_state(ws, i, x1):
    """Off the fast path (some eta_j > 0), for a path the certificate does
    not cover: DIP_NONE, DIP_SURE or DIP_MAYBE, whether g_i may rise, fall
    and rise again on (0, 1] although its samples may not show it (a dip
    between two of them).

    By :func:`eta_path_increasing`'s d/ds log(g + c') = h'/h - (m'/m) B(s)
    and m' = h + s h', g_i falls exactly where B(s) > beta(s)
    (:func:`dip_beta`), and B rises with s. beta falls from +inf near
    s = 0 and, where it has an interior minimum s_m, rises after it (one
    minimum: checked on 120 x 120 values of eps in [1.001, 100] and theta
    in [1e-3, 1e3], 20,001 shares each; not proved, the screen's
    premise). Before s_m, B - beta rises, so the path can only rise
    again after falling where both rise: beta rises at s = 1, g_i rises at
    s = 1 (B(1) < beta(1)) and falls somewhere (B(1) > beta(s_m)); else
    DIP_NONE. Then B(s_m) > beta(s_m): g_i falls at s_m and rises at 1,
    DIP_SURE. Else g_i may fall only past s_m where beta < B(1), i.e.
    below s_b with beta(s_b) = B(1); as B(s) <= B(s_b) there, B(s_b) <=
    beta(s_m) rules it out (DIP_NONE), and B(s_b) > beta(s_b) would prove
    it (DIP_SURE; B(s_b) is at most the bound, so only within its margin);
    else s_b moves to where beta reaches B(s_b): DIP_STEPS such steps,
    then DIP_MAYBE. Each step costs a wage root (:func:`pull_at`); B(1)
    is read as the certificate reads it (:func:`pull_bound`, raised by
    its margin), beta's minimum by golden section. Comparisons carry
    DIP_RTOL, towards DIP_MAYBE (a rise at s = 1 within it leaves the
    answer at DIP_MAYBE, not DIP_SURE)."""
    pt, sec = ws.pt, ws.sec
    if not sec.logm1[i] < 700.0:
        return DIP_NONE
    theta, eps = sec.theta[i], pt.eps
    # (log beta)' at s = 1, from h, h', h'' there
    u = 1.0 + theta
    h = math.exp(sec.lem1[i])
    hp = eps * theta * (1.0 + h) / u
    hpp = (eps - 1.0) * theta * hp / u
    slope = ((eps - 1.0) * theta / u + (h + hp) / (1.0 + h) - hp / h
             - (2.0 * hp + hpp) / (h + hp))
    if not slope > 0.0:
        return DIP_NONE
    top = pull_bound(pull_share(ws, i, x1), sec.eta[i], eps, pt.alpha)
    b1 = dip_beta(1.0, theta, eps)
    if not top < b1 * (1.0 + DIP_RTOL):
        return DIP_NONE  # g_i falls at s = 1: its samples' peak decides
    sure = DIP_SURE if top < b1 * (1.0 - DIP_RTOL) else DIP_MAYBE
    low = dip_beta_low(0.0, 1.0, (theta, eps), DIP_XTOL)
    sm, bmin = low.x, -low.fx
    if not top > bmin * (1.0 - DIP_RTOL):
        return DIP_NONE
    if pull_at(ws, i, sm) > bmin * (1.0 + DIP_RTOL):
        return sure
    for _ in range(DIP_STEPS):
        sb = dip_beta_above(top, sm, theta, eps)
        top = pull_at(ws, i, sb)
        if top < bmin * (1.0 - DIP_RTOL):
            return DIP_NONE
        if top > dip_beta(sb, theta, eps) * (1.0 + DIP_RTOL):
            return sure
    return DIP_MAYBE


@jit(inline="always")
def presampled(gs):
    """The path analysed was sampled in lock-step (gs: the samples
    scratch)."""
    return not math.isnan(gs[PRE_SLOT])


@jit
def first_crossing(ws, i, gs, hi, nk):
    """Smallest root of g_i below hi / nk where gs[0] < 0 <= gs[hi]: the
    first sampled sign change, then Brent (or the path variant) inside it. Returns (root, converged)."""
    k = 1
    while k < hi and gs[k] < 0.0:
        k += 1
    r = root_on_path(ws, i, (k - 1) / nk, k / nk, gs[k - 1], gs[k])
    return r.root, r.converged


@jit
def analyse_candidate(ws, i, W_nc, zmask, gs, defer):
    """Regime, critical mass, partial share, gain, subsidy for a candidate
    sector i (neither inert nor spontaneous); W_nc: welfare at S0; gs:
    scratch for the samples (from PRE_SLOT: the lock-step samples of the
    path, if any); defer: the critical mass of a certified
    increasing path may be left to the block's lock-step search
    (kernels/lockstep.py on the fast path; kernels/etapath.py where some
    eta_j > 0, with the default wage variant only, also the first crossing
    of a path sampled in lock-step): the critical mass returned is then
    DEFERRED, and for kernels/etapath.py gs[DEFER_SLOT:DEFER_SLOT + 3]
    hold the search's start and bracket.
    Returns (regime, critical_mass, partial_share, gain, subsidy_needed)."""
    sec = ws.sec
    mask1 = zmask | (np.int64(1) << i)
    x1, W1 = binary_welfare(ws, mask1)
    cost = sec.cost[i]
    # least sigma_i making S0 u {i} an equilibrium: R_i at w(S0 u {i}), s_i = 1
    logrent = log_rent_full(ws, i, x1)
    subsidy = max(0.0, 1.0 - math.exp(logrent + sec.lem1[i] - sec.logc[i]))
    g0 = -(1.0 - sec.sigma[i]) * cost
    if (fast_path_increasing(ws.pt.xa0, sec.xa[i], sec.xb[i], sec.theta[i], ws.pt.eps,
                             ws.pt.alpha, np.nan, np.nan)[0] if ws.pt.fast
            else path_increasing(ws, i, x1)):
        # g_i rises from g0 < 0: regime 2 iff g_i(1) >= 0 (the threshold
        # test), with the unique root as critical mass; otherwise g_i < 0
        # on (0, 1): no partial coordination.
        if x1 <= sec.xbar[i]:
            if defer and ws.pt.fast:
                return codes.COORDINATION_FAILURE, DEFERRED, np.nan, W1 - W_nc, subsidy
            if defer and ws.status[SOLVER_WAGE] == WAGE_NEWTON:
                # some eta_j > 0 (kernels/etapath.py): g_i(1) + c' from the
                # rent at x1; the search starts where log(g_i + c') ~ log s
                # + const crosses log c'
                net = -g0
                gc1 = math.exp(logrent + sec.lem1[i])
                if gc1 > net:
                    gs[DEFER_SLOT] = net / gc1
                    gs[DEFER_SLOT + 1] = 0.0
                    gs[DEFER_SLOT + 2] = 1.0
                    return codes.COORDINATION_FAILURE, DEFERRED, np.nan, W1 - W_nc, subsidy
                return codes.COORDINATION_FAILURE, 1.0, np.nan, W1 - W_nc, subsidy
            g1 = g_at(ws, i, 1.0)
            if g1 >= 0.0:
                r = root_on_path(ws, i, 0.0, 1.0, g0, g1)
                cm = r.root
                if not r.converged:
                    ws.status[0] |= codes.PATH_NOT_CONVERGED
            else:  # the threshold test and g_i(1) disagree by rounding
                cm = 1.0
            return codes.COORDINATION_FAILURE, cm, np.nan, W1 - W_nc, subsidy
        regime = codes.NEEDS_SUBSIDY if W1 - W_nc > 0.0 else codes.NOT_WORTH
        return regime, np.nan, np.nan, W1 - W_nc, subsidy
    return sampled_candidate(ws, i, W_nc, x1, W1, subsidy, g0, gs, defer)


@jit
def sampled_candidate(ws, i, W_nc, x1, W1, subsidy, g0, gs, defer):
    """analyse_candidate for a path the certificate does not cover: g_i
    sampled (or its lock-step samples read from gs), its crossings and
    peak searched. x1, W1: log w and W of S0 u {i}; subsidy: its
    subsidy_needed; g0 = g_i(0); defer: a coordination failure on the
    fast path may be left to kernels/samplepath.py (the critical mass
    returned is then DEFERRED_SAMPLED). Same returns as analyse_candidate."""
    sec = ws.sec
    pre = presampled(gs)
    if defer and ws.pt.fast and x1 <= sec.xbar[i]:
        # a coordination failure: kernels/samplepath.py samples the path
        # and finds its first crossing in lock-step
        return codes.COORDINATION_FAILURE, DEFERRED_SAMPLED, np.nan, W1 - W_nc, subsidy
    g1 = gs[PRE_SLOT + SHAPE_SAMPLES] if pre else g_at(ws, i, 1.0)
    K = SHAPE_SAMPLES
    if not sample_path(ws, i, g0, g1, gs, K) or (
            turns_back(ws, i) if ws.pt.fast
            else rises_at_one_after_peak(ws, i, g0, g1, gs, pre, K)):
        ws.status[0] |= codes.PATH_SHAPE
        K = DENSE_SAMPLES
        sample_path(ws, i, g0, g1, gs, K)
    elif not ws.pt.fast:
        # the samples look single-peaked, but a dip may hide between them
        dip = dip_state(ws, i, x1)
        if dip != DIP_NONE:
            K = DENSE_SAMPLES
            if (not sample_path(ws, i, g0, g1, gs, K) or dip == DIP_SURE
                    or rises_at_one_after_peak(ws, i, g0, g1, gs, pre, K)):
                ws.status[0] |= codes.PATH_SHAPE
    partial = np.nan
    if x1 <= sec.xbar[i]:
        # S0 u {i} is an equilibrium: g_i(1) >= 0. On an increasing or
        # single-peaked path the first crossing is the only sign change.
        if g1 >= 0.0:
            if defer and pre and K == SHAPE_SAMPLES:
                # the lock-step search (kernels/etapath.py) in the first
                # sampled sign change, from the secant point
                k = 1
                while k < K and gs[k] < 0.0:
                    k += 1
                a = (k - 1) / K
                b = k / K
                gs[DEFER_SLOT] = a - gs[k - 1] * (b - a) / (gs[k] - gs[k - 1])
                gs[DEFER_SLOT + 1] = a
                gs[DEFER_SLOT + 2] = b
                return codes.COORDINATION_FAILURE, DEFERRED, partial, W1 - W_nc, subsidy
            cm, conv = first_crossing(ws, i, gs, K, K)
            if not conv:
                ws.status[0] |= codes.PATH_NOT_CONVERGED
        else:  # the threshold test and g_i(1) disagree by rounding
            cm = 1.0
        return codes.COORDINATION_FAILURE, cm, partial, W1 - W_nc, subsidy
    # g_i(1) < 0: is there an interior peak above zero?
    kmax = 0
    for k in range(1, K + 1):
        if gs[k] > gs[kmax]:
            kmax = k
    speak = kmax / K
    gpeak = gs[kmax]
    sampled = gpeak >= 0.0
    klo = max(kmax - 1, 0)
    khi = min(kmax + 1, K)
    if not sampled and (kmax < K or (gs[PRE_SLOT + K + 1] if pre and K == SHAPE_SAMPLES
                                     else g_at(ws, i, 1.0 - SLOPE_STEP)) >= g1):
        # the peak lies between the samples around kmax / K: golden section
        pk = peak_on_path(ws, i, klo / K, khi / K)
        speak, gpeak = pk.x, pk.fx
        if not pk.converged:
            ws.status[0] |= codes.PATH_NOT_CONVERGED
    if gpeak >= 0.0 and speak < 1.0:
        if sampled:  # the first and last non-negative samples bracket the roots
            cm, conv1 = first_crossing(ws, i, gs, kmax, K)
            j = K - 1
            while gs[j] < 0.0:
                j -= 1
            r = root_on_path(ws, i, j / K, (j + 1) / K, gs[j], gs[j + 1])
        else:  # a hump between two negative samples: its two crossings
            r = root_on_path(ws, i, klo / K, speak, gs[klo], gpeak)
            cm, conv1 = r.root, r.converged
            r = root_on_path(ws, i, speak, khi / K, gpeak, gs[khi])
        partial = r.root
        if not (conv1 and r.converged):
            ws.status[0] |= codes.PATH_NOT_CONVERGED
        gain = path_welfare(ws, i, partial) - W_nc
        return codes.PARTIAL_COORDINATION, cm, partial, gain, subsidy
    regime = codes.NEEDS_SUBSIDY if W1 - W_nc > 0.0 else codes.NOT_WORTH
    return regime, np.nan, partial, W1 - W_nc, subsidy


@jit(inline="always")
def analyse_sector(ws, i, W_nc, zmask, gs, defer):
    """MODEL.md's per-sector results for sector i at S0 (any kind; defer:
    see analyse_candidate). Returns
    (regime, critical_mass, partial_share, gain_coordinate, threshold_wage,
    subsidy_needed)."""
    kind = ws.sec.kind[i]
    if kind == KIND_INERT:
        return codes.INERT, np.nan, np.nan, 0.0, np.nan, np.nan
    wbar = ws.sec.wbar[i]
    if kind == KIND_SPONT:
        return codes.SPONTANEOUS, 0.0, np.nan, 0.0, wbar, 0.0
    r, cm, ps, gain, sub = analyse_candidate(ws, i, W_nc, zmask, gs, defer)
    return r, cm, ps, gain, wbar, sub
