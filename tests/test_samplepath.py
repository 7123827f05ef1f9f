"""The fast GE paths the monotonicity certificate does not cover, sampled
and searched in lock-step (kernels/samplepath.py, the default
``path = "lockstep"``):

- the lock-step roots against the first crossing found independently
  (dense samples of g_i in NumPy, then scipy's brentq), the shape check
  against a dense scan, g_i(1) < 0 answered by 1 as the point-by-point code;
- the kernel against the point-by-point Brent variant on points where many
  sectors are uncertified: same discrete outputs, floats within 1e-10;
- results bit for bit independent of the block, a path that fails the
  shape check inside a block solved as on its own.
"""
import numpy as np
import pytest
from scipy.optimize import brentq

from test_solvers import assert_agree, check_blockings

from coordsweep.engine.run.benchvariants import draw


def fast_g(s, xa0, u, logk, theta, eps, alpha, net):
    e = np.expm1(eps * np.log1p(theta * s))
    return np.exp(logk - alpha * np.log(xa0 + u * s * e)) * e - net


def uncertified_args(seed, q):
    """fast_g's arguments of paths the certificate does not cover
    (X0 <= (2 alpha - 1) u h(1)), with costs around g_i's range."""
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.6, 0.9, q)
    eps = 1 / (1 - alpha)
    theta = rng.uniform(0.3, 3.0, q)
    u = 10 ** rng.uniform(-1, 1, q)
    h1 = np.expm1(eps * np.log1p(theta))
    xa0 = u + u * h1 * (2 * alpha - 1) * rng.uniform(0.0, 1.0, q)
    logk = rng.uniform(-2, 2, q)
    f = np.exp(logk - alpha * np.log(xa0 + u * np.linspace(0, 1, 65)[:, None]
                                     * np.expm1(eps * np.log1p(theta * np.linspace(0, 1, 65)[:, None]))))
    gmax = (f * np.expm1(eps * np.log1p(theta * np.linspace(0, 1, 65)[:, None]))).max(axis=0)
    net = gmax * rng.uniform(0.05, 1.2, q)
    return dict(xa0=xa0, u=u, logk=logk, theta=theta, eps=eps, alpha=alpha, net=net)


def test_sampled_roots_match_an_independent_search():
    from coordsweep.kernels.samplepath import ROOT_FOUND, ROOT_SHAPE, sampled_roots
    q = 3000
    args = uncertified_args(3, q)
    root, conv, kind = sampled_roots(np.array(list(args.values())))
    s = np.linspace(0.0, 1.0, 4097)[:, None]
    g = fast_g(s, **args)
    g1 = g[-1]
    ok = kind == ROOT_FOUND
    assert conv[ok].all()
    assert (ok & (g1 > 0)).sum() > q // 4 and (ok & (g1 < 0)).sum() > q // 20
    np.testing.assert_array_equal(root[ok & (g1 < 0)], 1.0)
    # a path that rises again beyond rounding is never left to the lock-step search
    d = np.diff(fast_g(np.linspace(0.0, 1.0, 9)[:, None], **args), axis=0)
    rises_again = ((d[1:] > 1e-9 * np.abs(g).max(axis=0))
                   & (np.minimum.accumulate(d, axis=0)[:-1] < -1e-9 * np.abs(g).max(axis=0))
                   ).any(axis=0)
    assert not (ok & rises_again).any()
    assert (kind == ROOT_SHAPE).sum() == 0 or (kind == ROOT_SHAPE).sum() < q // 2
    checked = 0
    for k in np.flatnonzero(ok & (g1 > 0)):
        a = {key: v[k] for key, v in args.items()}
        j = np.argmax(g[:, k] >= 0)  # the first non-negative dense sample
        if j == 0 or not (g[:, k] < 0)[:j].all():
            continue
        # the root in the first sign change of the eight samples, where the dense
        # samples show one crossing only
        ref = brentq(lambda x: fast_g(x, **a), s[j - 1, 0], s[j, 0], xtol=1e-300, rtol=8.9e-16)
        assert abs(root[k] - ref) <= 1e-12 * ref, (k, root[k], ref)
        checked += 1
    assert checked > q // 4


@pytest.mark.parametrize("n", [1, 3, 5])
def test_lockstep_agrees_with_brent_point_by_point_where_uncertified(kern, n):
    rng = np.random.default_rng(90 + n)
    block = draw(rng, 400, n, False)
    block["labor_share"] = rng.uniform(0.6, 0.85, 400)
    a = kern.solve(**block)
    b = kern.solve(**block, solver="path=brent")
    assert_agree(b, a, f"lockstep vs brent, N={n}")
    # many of the coordination failures are on paths the certificate does not cover
    from coordsweep.kernels.api import make_inputs
    from coordsweep.kernels.point import allocate_prepared
    from coordsweep.kernels.prepare import prepare_block
    prep = allocate_prepared(400, n)
    prepare_block(make_inputs(block), prep)
    sec, alpha = prep.sec, prep.pt["alpha"][:, None]
    uncovered = (alpha > 0.5) & (prep.pt["xa0"][:, None]
                                 <= (2 * alpha - 1) * (sec["xb"] - sec["xa"]) * (1 + 1e-9))
    assert (uncovered & (a["regime"] == 2)).sum() > 40


def shape_point():
    """tests/test_kernel_edges.py's path that rises again (PATH_SHAPE,
    a coordination failure: queued, then solved point by point)."""
    return dict(labor=1.0, labor_share=0.82, price=[1.0], productivity=[1.0],
                externality=[12.7], cost=[2.40])


def test_shape_failure_inside_a_block_as_on_its_own(kern):
    from coordsweep.kernels.codes import PATH_SHAPE
    one = kern.solve_point(**shape_point())
    assert one["status"] == PATH_SHAPE
    rng = np.random.default_rng(4)
    block = draw(rng, 70, 1, False)
    block["labor_share"] = rng.uniform(0.6, 0.85, 70)
    sp = shape_point()
    for k, v in sp.items():
        block[k][7] = v if np.ndim(v) == 0 else v[0]
    out = kern.solve(**block)
    for k, v in one.items():
        np.testing.assert_array_equal(out[k][7], v, err_msg=k)
    check_blockings(kern, block)


@pytest.mark.parametrize("n", [2, 4])
def test_results_do_not_depend_on_the_block(kern, monkeypatch, n):
    from coordsweep.kernels import api
    rng = np.random.default_rng(60 + n)
    block = draw(rng, 80, n, False)
    block["labor_share"] = rng.uniform(0.6, 0.85, 80)
    same = check_blockings(kern, block)
    monkeypatch.setattr(api, "QUEUE_ENTRIES", 5 * n)
    same(kern.solve(**block), "sub-blocks of 5 points")
