"""Unit tests of the root finders in kernels/rootfind.py, in the style of
QuantEcon.py's tests of its ``brentq``: known functions with known roots
and peaks, brackets given either way round, roots at the ends, iteration
caps and the converged flag, function-call counts."""
import math

import numba
import numpy as np
import pytest

from coordsweep.kernels.rootfind import (
    MAXITER, PEAK_XTOL, PeakResults, RootResults, make_brent_root, make_golden_peak)


@numba.njit
def _poly(x, c, calls):
    calls[0] += 1
    return x * x - c


@numba.njit
def _cos_minus_x(x, calls):
    calls[0] += 1
    return math.cos(x) - x


@numba.njit
def _cubic(x, calls):
    calls[0] += 1
    return (x - 0.3) ** 3  # flat at its root: a hard case for interpolation


@numba.njit
def _hump(x, top, calls):
    calls[0] += 1
    return -(x - top) ** 2 + 1.0


@numba.njit
def _tent(x, top, calls):
    calls[0] += 1
    return 1.0 - abs(x - top)  # a kink: not flat near the peak


@numba.njit
def _step(x, calls):
    calls[0] += 1
    return -1.0 if x < 0.25 else 1.0  # sign change, no root: a discontinuity


brent_poly = make_brent_root(_poly)
brent_cos = make_brent_root(_cos_minus_x)
brent_cubic = make_brent_root(_cubic)
brent_step = make_brent_root(_step)
golden_hump = make_golden_peak(_hump)
golden_tent = make_golden_peak(_tent)


def _brent(solver, f, a, b, *args, **kw):
    calls = np.zeros(1, np.int64)
    fa, fb = f(a, *args, calls), f(b, *args, calls)
    calls[0] = 0
    r = solver(a, b, fa, fb, (*args, calls), **kw)
    return r, int(calls[0])


@pytest.mark.parametrize("c", [2.0, 0.5, 1e-6, 3.0])
def test_brent_square_root(c):
    r, calls = _brent(brent_poly, _poly, 0.0, 2.0, c)
    assert isinstance(r, RootResults)
    assert r.converged
    assert r.root == pytest.approx(math.sqrt(c), rel=4e-15, abs=1e-16)
    assert 0.0 <= r.root <= 2.0
    assert r.function_calls == calls <= MAXITER


def test_brent_bracket_either_way_round():
    up, _ = _brent(brent_poly, _poly, 0.0, 2.0, 2.0)
    down, _ = _brent(brent_poly, _poly, 2.0, 0.0, 2.0)
    assert up.converged and down.converged
    assert up.root == pytest.approx(down.root, rel=1e-15)


def test_brent_known_transcendental_root():
    r, _ = _brent(brent_cos, _cos_minus_x, 0.0, 1.0)
    assert r.converged
    assert r.root == pytest.approx(0.7390851332151607, rel=1e-15)


def test_brent_flat_root_converges_within_tolerance():
    r, calls = _brent(brent_cubic, _cubic, 0.0, 1.0)
    assert r.converged
    assert abs(r.root - 0.3) < 1e-5  # (x - 0.3)^3 is ~1e-16 within 5e-6 of it
    assert calls < MAXITER


@pytest.mark.parametrize("a, b, expect", [(0.0, 2.0, 0.0), (-1.0, 0.0, 0.0)])
def test_brent_root_at_an_end_needs_no_call(a, b, expect):
    # f(0) = 0 - 0 = 0 for c = 0: the end of the bracket is the root
    r, calls = _brent(brent_poly, _poly, a, b, 0.0)
    assert r.converged and r.root == expect
    assert calls == 0 and r.function_calls == 0


def test_brent_discontinuity_brackets_the_jump():
    """A sign change without a root: Brent shrinks the bracket onto the jump."""
    r, _ = _brent(brent_step, _step, 0.0, 1.0)
    assert r.converged
    assert r.root == pytest.approx(0.25, abs=1e-15)


@pytest.mark.parametrize("maxiter", [1, 2, 3])
def test_brent_iteration_cap_reports_not_converged(maxiter):
    r, calls = _brent(brent_cubic, _cubic, 0.0, 1.0, maxiter=maxiter)
    assert not r.converged
    assert r.iterations == maxiter and r.function_calls == maxiter == calls
    assert 0.0 <= r.root <= 1.0  # never outside the bracket


def test_brent_tolerance_is_honoured():
    loose, n_loose = _brent(brent_cos, _cos_minus_x, 0.0, 1.0, xtol=1e-3, rtol=0.0)
    tight, n_tight = _brent(brent_cos, _cos_minus_x, 0.0, 1.0)
    assert loose.converged and abs(loose.root - 0.7390851332151607) < 1e-3
    assert n_loose < n_tight


@pytest.mark.parametrize("top", [0.3, 0.5, 0.9, 0.0, 1.0])
def test_golden_peak_of_a_tent(top):
    calls = np.zeros(1, np.int64)
    r = golden_tent(0.0, 1.0, (top, calls))
    assert isinstance(r, PeakResults)
    assert r.converged
    assert abs(r.x - top) <= PEAK_XTOL
    assert r.fx == pytest.approx(1.0, abs=PEAK_XTOL)
    assert 0.0 <= r.x <= 1.0
    assert r.function_calls == calls[0] == r.iterations + 2


@pytest.mark.parametrize("top", [0.3, 0.77])
def test_golden_peak_of_a_parabola(top):
    """A smooth peak is flat to rounding within sqrt(eps) of its top, so the
    maximiser is found to ~1e-8 (the value to the last bit)."""
    calls = np.zeros(1, np.int64)
    r = golden_hump(0.0, 1.0, (top, calls))
    assert r.converged
    assert abs(r.x - top) < 3e-8
    assert r.fx == 1.0


def test_golden_peak_iteration_cap_reports_not_converged():
    calls = np.zeros(1, np.int64)
    r = golden_tent(0.0, 1.0, (0.3, calls), maxiter=5)
    assert not r.converged and r.iterations == 5
    assert r.function_calls == calls[0] == 7
    # five golden steps shrink [0, 1] to 0.618^5 ~ 0.09 around the peak
    assert abs(r.x - 0.3) < 0.618 ** 5


def test_golden_peak_on_a_narrow_bracket_needs_no_step():
    calls = np.zeros(1, np.int64)
    r = golden_tent(0.3, 0.3 + PEAK_XTOL / 2, (0.3, calls))
    assert r.converged and r.iterations == 0 and calls[0] == 2
