"""kernels.solve against the independent reference (tests/reference.py) on
random points drawn from MODEL.md's domains, one block call per N."""
import math

import numpy as np
import pytest

from reference import (SECTOR_PARAMS, draw_blocks, reference_equilibria, reference_g,
                       reference_solve, stack)

RTOL = 1e-9
ATOL = 1e-12
SEED = 20_240_611
#: points per number of sectors (>= 500 in all)
COUNTS = {1: 80, 2: 90, 3: 90, 4: 90, 5: 80, 6: 80}


def mismatch(got, want, rtol=RTOL, atol=ATOL):
    got, want = float(got), float(want)
    if math.isnan(want) or math.isnan(got):
        return not (math.isnan(want) and math.isnan(got))
    if math.isinf(want) or math.isinf(got):
        return got != want
    return not abs(got - want) <= rtol * abs(want) + atol


@pytest.fixture(scope="module")
def blocks():
    return draw_blocks(SEED, COUNTS)


@pytest.fixture(scope="module")
def ref(blocks):
    return {n: [reference_solve(**p) for p in pts] for n, pts in blocks.items()}


@pytest.fixture(scope="module")
def got(kern, blocks):
    return {n: kern.solve(**stack(pts)) for n, pts in blocks.items()}


def test_draws_cover_the_domains(blocks):
    pts = [p for pts in blocks.values() for p in pts]
    assert len(pts) >= 500
    assert sorted(blocks) == [1, 2, 3, 4, 5, 6]
    cat = {k: np.concatenate([np.asarray(p[k]) for p in pts]) for k in SECTOR_PARAMS}
    alpha = np.array([p["labor_share"] for p in pts])
    assert np.any(cat["scale"] > 0) and np.any(cat["scale"] == 0)
    assert np.any((cat["subsidy"] < 0) & (cat["subsidy"] > -1)) and np.any(cat["subsidy"] > 0)
    assert np.any(cat["cost_subsidy"] == 1) and np.any((cat["cost_subsidy"] > 0)
                                                       & (cat["cost_subsidy"] < 1))
    assert np.any(cat["cost"] == 0) and np.any(cat["externality"] == 0)
    assert alpha.max() > 0.88 and alpha.min() < 0.2
    assert cat["price"].min() < 0.4 and cat["price"].max() > 2.5
    assert cat["productivity"].min() < 0.4 and cat["productivity"].max() > 2.5
    assert cat["externality"].max() > 1.9


def test_every_regime_occurs(ref):
    regimes = np.concatenate([r["regime"] for rs in ref.values() for r in rs])
    counts = np.bincount(regimes, minlength=6)
    assert np.all(counts[:6] > 0), counts
    flat = [r for rs in ref.values() for r in rs]
    assert any(r["has_partial"] for r in flat)
    assert any(r["n_equilibria"] > 1 and r["coordination_gap"] > 0 for r in flat)
    assert any(r["provision_gap"] > 0 for r in flat)
    assert any(r["target_best"] != r["target_ca"] for r in flat)


def test_output_table_shapes_and_dtypes(kern, blocks, got):
    from coordsweep.kernels.outputs import OUTPUTS
    for n, out in got.items():
        P = len(blocks[n])
        assert set(out) >= {o.name for o in OUTPUTS}
        for o in OUTPUTS:
            arr = np.asarray(out[o.name])
            assert arr.shape == ((P,) if o.per == "point" else (P, n)), o.name
            assert arr.dtype == np.dtype(o.dtype), (o.name, arr.dtype)


def test_regime_codes_match_reference(kern):
    import reference as R
    from coordsweep.kernels import codes as C
    assert (C.INERT, C.SPONTANEOUS, C.COORDINATION_FAILURE, C.PARTIAL_COORDINATION,
            C.NEEDS_SUBSIDY, C.NOT_WORTH) == (R.INERT, R.SPONTANEOUS, R.COORDINATION_FAILURE,
                                              R.PARTIAL_COORDINATION, R.NEEDS_SUBSIDY,
                                              R.NOT_WORTH) == (0, 1, 2, 3, 4, 5)


def _output_names():
    # read lazily so that collecting this module does not need the kernels
    import os
    import re
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "kernels", "outputs.py")
    with open(path) as fh:
        return re.findall(r'^\s*\("(\w+)", "(?:point|sector)"', fh.read(), re.M)


@pytest.mark.parametrize("name", _output_names())
def test_output_agrees_with_reference(blocks, ref, got, name):
    bad = []
    for n, pts in blocks.items():
        arr = np.asarray(got[n][name])
        for j, want_pt in enumerate(ref[n]):
            want = want_pt[name]
            g = arr[j]
            exact = arr.dtype.kind in "biu"
            if np.ndim(want) == 0:
                pairs = [(g, want, None)]
            else:
                pairs = [(gi, wi, i) for i, (gi, wi) in enumerate(zip(g, want))]
            for gv, wv, i in pairs:
                wrong = (int(gv) != int(wv)) if exact else mismatch(gv, wv)
                if wrong:
                    bad.append((n, j, i, gv, wv))
    if bad:
        n, j, i, gv, wv = bad[0]
        p = blocks[n][j]
        msg = (f"{len(bad)} mismatches in {name}; first: N={n} point {j} sector {i}: "
               f"kernel {gv!r} vs reference {wv!r}\nparams = {p!r}\n"
               f"kernel regime {got[n]['regime'][j]!r} reference {ref[n][j]['regime']!r}")
        pytest.fail(msg)


def test_equilibrium_masks_agree(kern, blocks):
    bad = []
    for n, pts in blocks.items():
        for j, p in enumerate(pts):
            want = reference_equilibria(**p)
            g = [int(m) for m in kern.equilibrium_masks(**p)]
            if g != want:
                bad.append((n, j, g, want))
    assert not bad, bad[:3]


def test_ge_path_agrees(kern, blocks, ref):
    """kernels.ge_path against reference_g for the sectors MODEL.md defines
    g_i for (neither inert nor spontaneous), on every 4th point."""
    s = np.linspace(0.0, 1.0, 33)
    bad = []
    for n, pts in blocks.items():
        for j, p in enumerate(pts[::4]):
            for i in range(n):
                reg = ref[n][4 * j]["regime"][i]
                if reg in (0, 1):
                    continue
                want = reference_g(**p, sector=i, s=s)
                pc = (1 - p["cost_subsidy"][i]) * p["cost"][i]
                scale = np.abs(want + pc) + pc  # size of the two terms of g
                g = np.asarray(kern.ge_path(**p, sector=i, s=s), dtype=float)
                if not np.all(np.abs(g - want) <= RTOL * scale + ATOL):
                    bad.append((n, 4 * j, i, np.max(np.abs(g - want) / (scale + 1e-300))))
    assert not bad, bad[:5]


# --------------------------------------------------------------------------
# one sector in regime partial_coordination, by hand
# --------------------------------------------------------------------------
# alpha = 0.8 (eps = 5), theta = 1, c = 0.39, p = a = L = 1 (u = (pa)^eps = 1).
# MODEL.md, eta = tau = 0: w(s) = alpha (X(s)/L)^(1-alpha), X(s) = u m(s),
# R(w) = (1-alpha) u (alpha/w)^(alpha eps); (alpha/w)^(alpha eps) =
# (L/X)^((1-alpha) alpha eps) = (L/X)^alpha, hence
#   g(s) = (1-alpha) u (L/X(s))^alpha ((1+theta s)^eps - 1) - c
#        = 0.2 m(s)^-0.8 ((1+s)^5 - 1) - 0.39,   m(s) = 1 - s + s (1+s)^5.
# g(0) = -0.39; g(1) = 0.2 * 32^-0.8 * 31 - 0.39 = 0.2 * 31/16 - 0.39 = -0.0025 < 0;
# g(1/2) = 0.2 * (0.5 + 0.5 * 1.5^5)^-0.8 * (1.5^5 - 1) - 0.39 > 0 -> regime 3.
# W(s) = L^alpha X(s)^(1-alpha) - s c = m(s)^0.2 - 0.39 s, W(0) = 1.
ALPHA, THETA, COST = 0.8, 1.0, 0.39


def _g_hand(s):
    m = 1 - s + s * (1 + s) ** 5
    return 0.2 * m ** -0.8 * ((1 + s) ** 5 - 1) - 0.39


def _bisect(f, neg, pos):
    while True:
        mid = 0.5 * (neg + pos)
        if mid in (neg, pos):
            return pos
        if f(mid) >= 0:
            pos = mid
        else:
            neg = mid


def _hand_partial():
    assert _g_hand(1.0) == pytest.approx(-0.0025, abs=1e-15)
    assert _g_hand(0.5) > 0
    grid = np.linspace(0.0, 1.0, 10001)
    vals = np.array([_g_hand(s) for s in grid])
    pos = np.nonzero(vals >= 0)[0]
    # single-peaked on the grid: the non-negative samples are contiguous
    assert np.all(np.diff(pos) == 1)
    cm = _bisect(_g_hand, grid[pos[0] - 1], grid[pos[0]])
    ps = _bisect(_g_hand, grid[pos[-1] + 1], grid[pos[-1]])
    m = 1 - ps + ps * (1 + ps) ** 5
    gain = m ** 0.2 - 0.39 * ps - 1.0
    return cm, ps, gain


@pytest.mark.parametrize("which", ["kernels", "reference"])
def test_one_sector_partial_coordination_by_hand(request, which):
    cm, ps, gain = _hand_partial()
    assert 0 < cm < ps < 1
    params = dict(labor=1.0, labor_share=ALPHA, price=[1.0], productivity=[1.0],
                  externality=[THETA], cost=[COST])
    if which == "kernels":
        out = request.getfixturevalue("kern").solve_point(**params)
    else:
        out = reference_solve(**params)
    assert int(out["regime"][0]) == 3
    assert bool(out["has_partial"])
    assert float(out["critical_mass"][0]) == pytest.approx(cm, rel=1e-10)
    assert float(out["partial_share"][0]) == pytest.approx(ps, rel=1e-10)
    assert float(out["gain_coordinate"][0]) == pytest.approx(gain, rel=1e-9)
    # S0 = {} is the only full-cooperation equilibrium ({0} fails: g(1) < 0)
    assert int(out["n_equilibria"]) == 1


def test_larger_n_agrees(kern):
    """A few points with more sectors (enumeration and pruning at N = 9, 12)."""
    blocks = draw_blocks(SEED + 1, {9: 6, 12: 2})
    bad = []
    for n, pts in blocks.items():
        out = kern.solve(**stack(pts))
        for j, p in enumerate(pts):
            want = reference_solve(**p)
            assert [int(m) for m in kern.equilibrium_masks(**p)] == reference_equilibria(**p)
            for name, wv in want.items():
                g = np.asarray(out[name])[j]
                exact = g.dtype.kind in "biu"
                for gv, w1 in zip(np.ravel(g), np.ravel(wv)):
                    if (int(gv) != int(w1)) if exact else mismatch(gv, w1):
                        bad.append((n, j, name, gv, w1))
    assert not bad, bad[:5]
