"""The GE-path speed-ups (kernels/sectors.py, kernels/rootfind.py):

- the monotonicity certificate ``path_increasing``: wherever it holds, the
  pure-Python reference's g_i (tests/reference.py, not the kernels) is
  increasing on a dense grid of [0, 1]; it fails where g_i is known to
  turn down (MODEL.md's high-alpha example);
- the exact shape tests ``fast_path_turns_back`` and ``fast_increasing``
  against the reference's g_i on a dense grid, and the status bit
  ``path_shape``, also where g_i's dip lies between the shape samples;
- where some eta_i > 0, the screen ``dip_state`` against the same dense
  grid (a path it rules out never turns back, one it is sure of always
  does), and the status bit of a path whose dip no shape sample sees;
- the fast-path g_i and its analytic slope against finite differences;
- the safeguarded Newton root finder on known functions, and the
  ``path=newton`` variant against Brent and the reference's critical mass.
"""
import math

import numba
import numpy as np
import pytest

from reference import random_point, reference_g, reference_solve
from test_solvers import assert_agree, random_block

from coordsweep.kernels import api
from coordsweep.kernels.economy import (
    KIND_CAND, KIND_SPONT, binary_log_wage, fast_g, fast_g_slope, fast_path_args)
from coordsweep.kernels.rootfind import make_brent_root, make_newton_root
from coordsweep.kernels import codes
from coordsweep.kernels.sectors import (
    DIP_MAYBE, DIP_NONE, DIP_SURE, dip_state, fast_increasing, fast_path_turns_back,
    path_increasing)


@numba.njit
def _certify(ws, ok, flags, args, dips):
    """flags[i] = -1 (not a candidate), 0 / 1 (certificate); args[i] =
    the fast-path scalars of g_i (NaN when the fast path is off); dips[i]
    = dip_state off the fast path where the certificate fails (else -1)."""
    zmask = np.int64(0)
    for i in range(flags.shape[0]):
        if ws.sec.kind[i] == KIND_SPONT:
            zmask |= np.int64(1) << i
    for i in range(flags.shape[0]):
        flags[i] = -1
        dips[i] = -1
        args[i, :] = np.nan
        if ok and ws.sec.kind[i] == KIND_CAND:
            x1 = binary_log_wage(ws, zmask | (np.int64(1) << i))
            flags[i] = 1 if path_increasing(ws, i, x1) else 0
            if ws.pt.fast:
                a = fast_path_args(ws, i)
                for k in range(7):
                    args[i, k] = a[k]
            elif flags[i] == 0:
                dips[i] = dip_state(ws, i, x1)
    return ok


def _certified(pt):
    x = api._one_point(api._params(api.solve_point, (), pt))
    n = x.price.shape[1]
    flags, dips = np.empty(n, np.int64), np.empty(n, np.int64)
    args = np.empty((n, 7))
    ws, ok = api.point_workspace(x)
    assert _certify(ws, ok, flags, args, dips)
    return flags, args, dips


def certify(pt):
    return _certified(pt)[:2]


def dip_states(pt):
    return _certified(pt)[2]


def eta0_point(rng, n, alpha_lo, alpha_hi, theta_hi):
    alpha = rng.uniform(alpha_lo, alpha_hi)
    pt = dict(labor=float(np.exp(rng.uniform(-1, 1))), labor_share=alpha,
              price=np.exp(rng.uniform(-1, 1, n)), productivity=np.exp(rng.uniform(-1, 1, n)),
              externality=rng.uniform(0.0, theta_hi, n), cost=np.exp(rng.uniform(-5, 1, n)),
              subsidy=np.where(rng.random(n) < 0.3, rng.uniform(-0.5, 1.0, n), 0.0),
              cost_subsidy=np.where(rng.random(n) < 0.3, rng.uniform(0.0, 0.9, n), 0.0))
    pt["cost"][rng.random(n) < 0.1] = 0.0  # spontaneous sectors shift X0
    return pt


def test_certificate_implies_increasing_path_dense_reference():
    """Whenever the certificate holds, the reference g_i rises on 801
    shares of [0, 1]; the certificate is not vacuous (it holds for many
    sectors above alpha = 1/2) and it is not always true."""
    rng = np.random.default_rng(91)
    s = np.linspace(0.0, 1.0, 801)
    held = failed = held_high = 0
    for k in range(240):
        n = int(rng.integers(1, 5))
        pt = eta0_point(rng, n, 0.3, 0.97, (2.0, 8.0, 20.0)[k % 3])
        flags, _ = certify(pt)
        for i in np.flatnonzero(flags >= 0):
            if flags[i] == 0:
                failed += 1
                continue
            held += 1
            held_high += pt["labor_share"] > 0.5
            g = reference_g(**pt, sector=i, s=s)
            scale = np.abs(g).max()
            assert np.all(np.diff(g) > -1e-12 * scale), (pt, i)
    assert held > 150 and held_high > 50 and failed > 10, (held, held_high, failed)


def test_certificate_fails_on_a_path_that_turns_down():
    """MODEL.md: alpha = 0.82, theta = 12.7: g_i rises, falls, rises."""
    pt = dict(labor=1.0, labor_share=0.82, price=[1.0], productivity=[1.0],
              externality=[12.7], cost=[2.4])
    g = reference_g(**pt, sector=0, s=np.linspace(0, 1, 401))
    assert np.any(np.diff(g) < 0)  # the reference path does turn down
    flags, _ = certify(pt)
    assert flags[0] == 0


def test_certificate_threshold_by_hand():
    """One sector alone: X0 = u, xb - xa = u ((1 + theta)^eps - 1), so the
    certificate is 1 > (2 alpha - 1) ((1 + theta)^eps - 1)."""
    for alpha, theta in [(0.45, 50.0), (0.6, 0.5), (0.6, 3.0), (0.75, 0.2), (0.75, 1.0)]:
        eps = 1.0 / (1.0 - alpha)
        expect = alpha <= 0.5 or 1.0 > (2 * alpha - 1) * ((1 + theta) ** eps - 1) * (1 + 1e-9)
        pt = dict(labor=1.0, labor_share=alpha, price=[1.0], productivity=[1.0],
                  externality=[theta], cost=[0.1])
        assert certify(pt)[0][0] == int(expect), (alpha, theta)


def dense_shape(pt, i, n=4001):
    """(turns back, increasing): whether the reference's g_i, on n shares of
    [0, 1], rises, falls and rises again, and whether it only rises (steps
    within 1e-11 of its size: neither)."""
    g = reference_g(**pt, sector=i, s=np.linspace(0.0, 1.0, n))
    d = np.diff(g)
    sign = np.sign(np.where(np.abs(d) <= 1e-11 * np.abs(g).max(), 0.0, d))
    sign = sign[sign != 0]
    return bool(np.count_nonzero(np.diff(sign)) >= 2), bool(np.all(sign > 0))


def dense_turns_back(pt, i, n=4001):
    return dense_shape(pt, i, n)[0]


#: a path that rises, dips by 1e-5 of its range between s = 0.177 and
#: 0.188 and rises to s = 1: no two of the 8 shape samples see the dip
EARLY_DIP = dict(labor=1.8270724737281132, labor_share=0.7840791127659785,
                 price=[1.9997045424277973, 0.7154554195215284],
                 productivity=[1.3059465866409743, 1.8218007930882378],
                 externality=[15.346278857873061, 0.5092935071703666],
                 cost=[0.026548227987435287, 1.1253027279743921],
                 subsidy=[0.0, 0.3678302621654288])


#: with eta_1 > 0: sector 0 (eta_0 = 0) rises, dips between s = 0.125
#: and 0.25 and rises to s = 1; its 9 shape samples rise throughout
HIDDEN_DIP_ETA = dict(labor=1.348604045362792, labor_share=0.7872577508626076,
                      price=[1.9504349445094251, 0.6178404553847269],
                      productivity=[1.2602512441295444, 0.781019943693127],
                      externality=[17.063694626021572, 11.462288943340695],
                      cost=[0.16950031158861859, 0.32334886080524233],
                      scale=[0.0, 0.023263878748424602])


def test_exact_shape_test_against_the_dense_reference():
    """fast_path_turns_back says whether g_i rises, falls and rises again,
    and fast_increasing whether it only rises, exactly as 4001 samples of
    the reference's g_i do, on the sectors the cheap certificate leaves
    (high labour shares, large theta, where such paths are common); the
    cases are not vacuous: every answer occurs, and among the paths that
    turn back many show it to none of the 8 shape samples."""
    rng = np.random.default_rng(2027)
    turns = plain = unseen = rising = 0
    for k in range(120):
        n = int(rng.integers(1, 4))
        pt = eta0_point(rng, n, 0.6, 0.92, (8.0, 20.0, 40.0)[k % 3])
        flags, args = certify(pt)
        for i in np.flatnonzero(flags == 0):
            if np.isnan(args[i, 0]):
                continue
            exact = fast_path_turns_back(*args[i])
            xa0, u, _, theta, eps, alpha, _ = args[i]
            up = fast_increasing(xa0, u, theta, eps, alpha, (1.0 + theta) ** -eps,
                                 np.nan, np.nan)[0]
            assert (exact, up) == dense_shape(pt, i), (pt, i)
            turns += exact
            rising += up
            plain += not exact
            if exact:
                g8 = reference_g(**pt, sector=i, s=np.linspace(0.0, 1.0, 9))
                sign = np.sign(np.diff(g8))
                unseen += np.count_nonzero(np.diff(sign[sign != 0])) < 2
    assert turns >= 10 and rising >= 10 and plain - rising >= 10 and unseen >= 3, \
        (turns, rising, plain, unseen)


@pytest.mark.parametrize("pt", [EARLY_DIP, HIDDEN_DIP_ETA], ids=["eta0", "eta"])
def test_path_shape_status_where_the_dip_is_between_samples(kern, pt):
    """MODEL.md: a point whose g_i rises, falls and rises again carries the
    path_shape bit, also when the dip lies between the shape samples
    (every eta = 0: the exact test; some eta > 0: dip_state's screen),
    with every GE-path variant and in a block as on its own; its critical
    mass is still the reference's first crossing."""
    assert dense_turns_back(pt, 0) and not dense_turns_back(pt, 1)
    g8 = reference_g(**pt, sector=0, s=np.linspace(0.0, 1.0, 9))
    assert np.all(np.diff(g8) > 0)  # the samples alone see a rising path
    ref = reference_solve(**pt)
    for path in ("lockstep", "brent", "newton", "bisect"):
        one = kern.solve_point(**pt, solver=f"path={path}")
        assert int(one["status"]) & codes.PATH_SHAPE, path
        np.testing.assert_allclose(one["critical_mass"], ref["critical_mass"], rtol=1e-8,
                                   equal_nan=True)
    block = {k: np.repeat(np.atleast_1d(np.asarray(v, float))[None], 3, axis=0)
             if np.ndim(v) else np.full(3, v) for k, v in pt.items()}
    out = kern.solve(**block)
    assert np.all(out["status"].astype(int) & codes.PATH_SHAPE)
    np.testing.assert_allclose(out["critical_mass"], np.repeat(
        np.asarray(ref["critical_mass"])[None], 3, axis=0), rtol=1e-8, equal_nan=True)


def test_path_shape_status_with_eta_where_the_path_rises_at_one():
    """With some eta_i > 0 (no exact test): a path whose samples rise and
    fall but which rises again at s = 1 (its dip after the last sample but
    one) carries the bit; the reference shows the turn."""
    pt = dict(labor=0.678217889162189, labor_share=0.815779914068441,
              price=[1.2195035629407538, 1.7456584501821522],
              productivity=[1.0391739156807842, 1.580958888146057],
              externality=[0.39318398032000496, 4.527838625480533],
              cost=[0.035778557008030024, 7.522789794518287],
              scale=[0.11575616682767707, 0.03202046133116234],
              subsidy=[0.44342373636559673, 0.15915166902813294])
    assert dense_turns_back(pt, 1)
    one = api.solve_point(**pt)
    assert int(one["status"]) & codes.PATH_SHAPE


def test_dip_screen_against_the_dense_reference():
    """dip_state, on the paths with some eta_j > 0 that the certificate
    leaves (high labour shares, large theta: where such paths turn back),
    against 2001 samples of the reference's g_i: a path it rules out never
    rises, falls and rises again, one it is sure of always does; every
    answer occurs, and some paths it is sure of show no turn to the 8
    shape samples."""
    assert dip_states(HIDDEN_DIP_ETA)[0] == DIP_SURE
    rng = np.random.default_rng(2029)
    seen = {DIP_NONE: 0, DIP_SURE: 0, DIP_MAYBE: 0}
    unseen = 0
    k = 0
    while min(seen.values()) < 8 or k < 60:
        k += 1
        assert k < 400, seen
        pt = random_point(rng, 2, high_alpha=True)
        pt["externality"] = rng.uniform(2.0, 20.0, 2)
        pt["scale"][rng.integers(2)] = rng.uniform(0.05, 0.5) * (1.0 - pt["labor_share"])
        for i, state in enumerate(dip_states(pt)):
            if state < 0:
                continue
            turns = dense_turns_back(pt, i, 2001)
            assert turns == (state == DIP_SURE) or state == DIP_MAYBE, (pt, i, state)
            seen[int(state)] += 1
            if state == DIP_SURE:  # (the 9 shape samples of g_i, s = 0 included)
                unseen += not dense_turns_back(pt, i, 9)
    assert unseen >= 1, (seen, unseen)


def test_fast_g_and_slope_against_reference_and_differences():
    rng = np.random.default_rng(7)
    s = np.linspace(0.01, 1.0, 23)
    checked = 0
    for _ in range(40):
        pt = eta0_point(rng, 3, 0.2, 0.9, 3.0)
        _, args = certify(pt)
        for i in range(3):
            if np.isnan(args[i, 0]):
                continue
            a = tuple(args[i])
            g = np.array([fast_g(v, *a) for v in s])
            ref = reference_g(**pt, sector=i, s=s)
            scale = np.abs(ref).max()
            np.testing.assert_allclose(g, ref, rtol=0, atol=1e-9 * scale)
            for v in s:
                gv, dg = fast_g_slope(v, *a)
                assert gv == fast_g(v, *a)
                h = 1e-6 * max(v, 1e-3)
                fd = (fast_g(v + h, *a) - fast_g(v - h, *a)) / (2 * h)
                assert abs(dg - fd) <= 1e-5 * max(abs(dg), scale), (pt, i, v)
            checked += 1
    assert checked > 60


@numba.njit
def _sq(x, c, calls):
    calls[0] += 1
    return x * x - c, 2.0 * x


@numba.njit
def _cubic(x, calls):
    calls[0] += 1
    return (x - 0.3) ** 3, 3.0 * (x - 0.3) ** 2  # flat at its root


@numba.njit
def _atan(x, calls):
    calls[0] += 1
    return math.atan(x - 0.7), 1.0 / (1.0 + (x - 0.7) ** 2)  # Newton diverges far out


@numba.njit
def _step(x, calls):
    calls[0] += 1
    return (-1.0 if x < 0.25 else 1.0), 0.0  # no root, zero slope


@numba.njit
def _cubic_value(x, calls):
    return _cubic(x, calls)[0]


newton_sq = make_newton_root(_sq)
newton_cubic = make_newton_root(_cubic)
newton_atan = make_newton_root(_atan)
newton_step = make_newton_root(_step)
brent_cubic = make_brent_root(_cubic_value)


def _run(solver, f, a, b, *args):
    calls = np.zeros(1, np.int64)
    fa = f.py_func(a, *args, calls)[0]
    fb = f.py_func(b, *args, calls)[0]
    calls[0] = 0
    return solver(a, b, fa, fb, (*args, calls)), calls[0]


def test_newton_known_roots():
    r, calls = _run(newton_sq, _sq, 0.0, 3.0, 2.0)
    assert r.converged and abs(r.root - math.sqrt(2.0)) <= 4e-16 * math.sqrt(2.0)
    assert calls < 12
    r, _ = _run(newton_sq, _sq, 1.0, 3.0, 4.0)
    assert r.converged and abs(r.root - 2.0) <= 1e-15
    r, _ = _run(newton_cubic, _cubic, 0.0, 1.0)
    assert r.converged and abs(r.root - 0.3) < 1e-5  # flat root: |f| tiny there
    r, _ = _run(newton_atan, _atan, -50.0, 60.0)  # safeguard: bisection when out
    assert r.converged and abs(r.root - 0.7) <= 1e-15
    r, _ = _run(newton_step, _step, 0.0, 1.0)
    assert r.converged and abs(r.root - 0.25) < 1e-15  # bisection to the jump
    r = newton_sq(0.0, 3.0, -2.0, 0.0, (2.0, np.zeros(1, np.int64)))
    assert r.converged and r.root == 3.0 and r.iterations == 0
    r = newton_sq(0.0, 3.0, -2.0, 7.0, (2.0, np.zeros(1, np.int64)), 1e-16, 8.9e-16, 2)
    assert not r.converged


def test_newton_matches_brent_where_both_converge():
    rb, _ = _run(brent_cubic, _cubic, 0.0, 1.0)
    rn, _ = _run(newton_cubic, _cubic, 0.0, 1.0)
    assert rb.converged and rn.converged
    assert abs(rb.root - 0.3) < 1e-5 and abs(rn.root - 0.3) < 1e-5


@pytest.mark.parametrize("n", [1, 3, 5])
def test_path_newton_agrees_with_brent(kern, n):
    """path=newton against the default on random points (all regimes,
    eta = 0 and > 0, high labour shares): same discrete outputs, floats
    within 1e-10."""
    block = random_block(40 + n, n, 80)
    block_hi = random_block(50 + n, n, 30, high_alpha=True)
    for b in (block, block_hi):
        assert_agree(kern.solve(**b), kern.solve(**b, solver="path=newton"), "path=newton")


def test_path_newton_critical_mass_against_reference(kern):
    rng = np.random.default_rng(12)
    found = 0
    for _ in range(40):
        pt = random_point(rng, 2)
        pt = {k: v for k, v in pt.items() if v is not None}
        ref = reference_solve(**pt)
        out = kern.solve_point(**pt, solver="path=newton")
        for i in range(2):
            if ref["regime"][i] in (2, 3):
                found += 1
                assert out["regime"][i] == ref["regime"][i]
                assert abs(out["critical_mass"][i] - ref["critical_mass"][i]) <= 1e-9
    assert found > 10
