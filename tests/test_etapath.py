"""GE paths where some eta_j > 0 (kernels/sectors.py eta_path_increasing,
kernels/etapath.py):

- the monotonicity certificate: wherever it holds, the pure-Python
  reference's g_i (tests/reference.py) rises on a dense grid; it holds
  often and fails sometimes; with one sector it is the eta = 0 formula
  (lambda = 1 makes the bound alpha whatever eta);
- the labour gap F whose root is the critical mass has g_i's sign, and its
  analytic slope matches finite differences;
- the default (lock-step searches and samples) against the reference's
  critical masses and regimes, and against path=brent and wage=brent
  point by point (all regimes, high labour shares: uncertified paths);
- results bit for bit independent of the block;
- a search cut off before it converges flags its point, and keeps the
  roots that had converged.
"""
import numpy as np
import pytest

from reference import reference_g, reference_solve
from test_path_certificate import certify
from test_solvers import assert_agree, check_blockings, random_block


def eta_point(rng, n, alpha_lo, alpha_hi, theta_hi):
    """A random point with every eta_i > 0 (up to 0.8 of its bound)."""
    alpha = rng.uniform(alpha_lo, alpha_hi)
    return dict(labor=float(np.exp(rng.uniform(-1, 1))), labor_share=alpha,
                price=np.exp(rng.uniform(-1, 1, n)), productivity=np.exp(rng.uniform(-1, 1, n)),
                externality=rng.uniform(0.0, theta_hi, n), cost=np.exp(rng.uniform(-5, 1, n)),
                scale=rng.uniform(0.01, 0.8, n) * (1 - alpha),
                subsidy=np.where(rng.random(n) < 0.3, rng.uniform(-0.5, 1.0, n), 0.0),
                cost_subsidy=np.where(rng.random(n) < 0.3, rng.uniform(0.0, 0.9, n), 0.0))


def eta_block(seed, n, npts, alpha=(0.3, 0.85)):
    rng = np.random.default_rng(seed)
    pts = [eta_point(rng, n, *alpha, 2.0) for _ in range(npts)]
    block = {k: np.array([p[k] for p in pts], dtype=float) for k in pts[0]}
    block["cost"][rng.random((npts, n)) < 0.1] = 0.0  # spontaneous sectors
    return block


def test_certificate_implies_increasing_path_dense_reference():
    rng = np.random.default_rng(5)
    s = np.linspace(0.0, 1.0, 301)
    held = failed = held_high = 0
    for k in range(90):
        n = int(rng.integers(1, 4))
        pt = eta_point(rng, n, 0.3, 0.95, (2.0, 6.0, 15.0)[k % 3])
        flags, _ = certify(pt)
        for i in np.flatnonzero(flags >= 0):
            if flags[i] == 0:
                failed += 1
                continue
            held += 1
            held_high += pt["labor_share"] > 0.5
            g = reference_g(**pt, sector=i, s=s)
            assert np.all(np.diff(g) > -1e-12 * np.abs(g).max()), (pt, i)
    assert held > 50 and held_high > 20 and failed > 10, (held, held_high, failed)


def _pieces_hold(alpha, theta, bound):
    """kernels/sectors.py's second test, from its formulas in plain Python:
    on each piece [s_k, s_k+1], s_k = (k / 16)^(1/3), bound h^2 / h' at
    s_k+1 below 1 + (1 - bound) s h at s_k (with the kernels' margin of 1e-9)."""
    eps = 1.0 / (1.0 - alpha)
    s = [(k / 16) ** (1 / 3) for k in range(17)]

    def h(v):
        return (1 + theta * v) ** eps - 1
    for a, b in zip(s[:-1], s[1:]):
        dh = eps * theta * (1 + theta * b) ** (eps - 1)
        if not bound * h(b) ** 2 / dh * (1 + 1e-9) < 1 + (1 - bound) * a * h(a):
            return False
    return True


def test_certificate_one_sector_is_the_eta0_formula():
    """One sector alone: lambda = 1, so the bound B is alpha, and the
    certificate is the eta = 0 formula or, where that fails, the pieces'
    test with B = alpha."""
    second = 0
    for alpha, theta, eta in [(0.45, 50.0, 0.3), (0.6, 0.5, 0.2), (0.6, 3.0, 0.1),
                              (0.75, 0.2, 0.2), (0.75, 1.0, 0.05), (0.7, 2.0, 0.1),
                              (0.85, 3.0, 0.1), (0.9, 8.0, 0.05)]:
        eps = 1.0 / (1.0 - alpha)
        first = alpha <= 0.5 or 1.0 > (2 * alpha - 1) * ((1 + theta) ** eps - 1) * (1 + 1e-8)
        expect = first or _pieces_hold(alpha, theta, alpha)
        second += expect and not first
        pt = dict(labor=1.0, labor_share=alpha, price=[1.0], productivity=[1.0],
                  externality=[theta], cost=[0.1], scale=[eta * (1 - alpha)])
        assert certify(pt)[0][0] == int(expect), (alpha, theta)
    assert 0 < second < 5, second  # the second test certifies some, not all


def test_pieces_imply_the_exact_condition():
    """Where the pieces' test holds, h' (1 + (1 - B) s h) > B h^2 at every
    share of a dense grid of (0, 1] (the condition the test stands for:
    d/ds log(g + c') > 0 with B(s) <= B), for random theta, alpha and B;
    it holds for many of them and fails for some."""
    from coordsweep.kernels.sectors import CERT_PIECES, CERT_SHARES, piece_certified
    rng = np.random.default_rng(17)
    s = np.linspace(0.0, 1.0, 20001)[1:]
    held = failed = 0
    for _ in range(400):
        alpha = rng.uniform(0.5, 0.95)
        eps = 1 / (1 - alpha)
        theta = np.exp(rng.uniform(np.log(0.05), np.log(20.0)))
        bound = rng.uniform(0.5, alpha)
        hk = np.expm1(eps * np.log1p(theta * CERT_SHARES))
        ok = all(piece_certified(theta, eps, bound, CERT_SHARES[k], hk[k], CERT_SHARES[k + 1],
                                 hk[k + 1]) for k in range(CERT_PIECES))
        assert ok == _pieces_hold(alpha, theta, bound), (alpha, theta, bound)
        if not ok:
            failed += 1
            continue
        held += 1
        h = np.expm1(eps * np.log1p(theta * s))
        dh = eps * theta * (1 + theta * s) ** (eps - 1)
        assert np.all(dh * (1 + (1 - bound) * s * h) > bound * h * h), (alpha, theta, bound)
    assert held > 100 and failed > 50, (held, failed)


def _labour_gap(pt, i, s):
    """F(s) and F'(s) of kernels/etapath.py, in NumPy from MODEL.md's
    primitives (S0 = the spontaneous sectors)."""
    alpha = pt["labor_share"]
    eps = 1 / (1 - alpha)
    eta = np.asarray(pt["scale"])
    q = np.asarray(pt["price"]) * (1 + np.asarray(pt["subsidy"]))
    e = 1 / (1 - eps * eta)
    k = eps * e
    b = eps * (np.log(alpha) + np.log(q * np.asarray(pt["productivity"]))) * e
    theta = np.asarray(pt["externality"])
    netc = (1 - np.asarray(pt["cost_subsidy"])) * np.asarray(pt["cost"])
    spont = (theta > 0) & (netc == 0)
    b = b + np.where(spont, eps * np.log1p(theta) * e, 0.0)
    A = np.log(netc[i]) - np.log((1 - alpha) / alpha) - b[i]

    def F(v):
        h = np.expm1(eps * np.log1p(theta[i] * v))
        logm = np.log1p(v * h)
        xg = (A - (e[i] - 1) * logm - np.log(h)) / (1 - k[i])
        bb = b.copy()
        bb[i] += e[i] * logm
        return np.log(np.exp(bb - k * xg).sum()) - np.log(pt["labor"])
    return np.array([F(v) for v in s])


def test_labour_gap_has_the_sign_of_minus_g():
    rng = np.random.default_rng(8)
    s = np.linspace(0.02, 1.0, 25)
    both = 0
    for _ in range(30):
        pt = eta_point(rng, 3, 0.3, 0.8, 2.0)
        for i in range(3):
            if pt["externality"][i] == 0:
                continue
            g = reference_g(**pt, sector=i, s=s)
            F = _labour_gap(pt, i, s)
            clear = np.abs(g) > 1e-9 * np.abs(g).max()
            assert np.all(np.sign(F[clear]) == -np.sign(g[clear])), (pt, i)
            both += (g > 0).any() and (g < 0).any()
    assert both > 10


@pytest.mark.parametrize("n", [1, 3, 5])
def test_default_agrees_with_point_by_point_variants(kern, n):
    """The default (lock-step samples and roots) against path=brent and
    wage=brent (every GE-path root by Brent on g_i, wage roots point by
    point): same discrete outputs, floats within test_solvers' tolerance;
    many coordination failures among them, certified or not."""
    block = eta_block(20 + n, n, 300)
    hi = random_block(30 + n, n, 60, high_alpha=True)
    a = kern.solve(**block)
    assert (a["regime"] == 2).sum() > 60
    for b in (block, hi):
        a = kern.solve(**b)
        for s in ("path=brent", "wage=brent", "path=bisect"):
            assert_agree(kern.solve(**b, solver=s), a, f"{s}, N={n}")


def test_critical_masses_against_the_reference(kern):
    rng = np.random.default_rng(3)
    found = uncertified = 0
    for k in range(50):
        pt = eta_point(rng, 2, 0.4, 0.85, (1.5, 6.0)[k % 2])
        ref = reference_solve(**pt)
        out = kern.solve_point(**pt)
        flags, _ = certify(pt)
        np.testing.assert_array_equal(out["regime"], ref["regime"])
        for i in range(2):
            if ref["regime"][i] in (2, 3):
                found += 1
                uncertified += flags[i] == 0
                assert abs(out["critical_mass"][i] - ref["critical_mass"][i]) <= 1e-9
    assert found > 20 and uncertified > 3, (found, uncertified)


@pytest.mark.parametrize("n", [2, 4])
def test_results_do_not_depend_on_the_block(kern, monkeypatch, n):
    from coordsweep.kernels import api
    block = eta_block(40 + n, n, 50)
    hi = random_block(80 + n, n, 30, high_alpha=True)
    block = {k: np.concatenate([block[k], hi[k]]) for k in block}
    same = check_blockings(kern, block)
    monkeypatch.setattr(api, "QUEUE_ENTRIES", 5 * n)
    same(kern.solve(**block), "sub-blocks of 5 points")


def test_root_not_converged_is_flagged(kern, monkeypatch):
    from coordsweep.kernels import codes, etapath
    block = eta_block(9, 3, 200)
    ok = kern.solve(**block)
    monkeypatch.setattr(etapath, "MAXITER", 1)
    cut = kern.solve(**block)
    failure = (ok["regime"] == codes.COORDINATION_FAILURE).any(axis=1)
    flagged = (cut["status"] & codes.PATH_NOT_CONVERGED) != 0
    assert flagged.sum() > 20
    assert not flagged[~failure].any()
    np.testing.assert_array_equal(cut["regime"], ok["regime"])
    assert not (ok["status"] & codes.PATH_NOT_CONVERGED).any()


def test_search_cut_off_keeps_the_roots_that_converged(kern, monkeypatch):
    """Cut off after three steps, when many roots have converged and the
    others still step beside them, the search keeps the converged roots bit
    for bit (those of the full search) and flags only the points of the
    others."""
    from coordsweep.kernels import codes, etapath
    block = eta_block(19, 3, 400)
    ok = kern.solve(**block)
    monkeypatch.setattr(etapath, "MAXITER", 3)
    cut = kern.solve(**block)
    flagged = (cut["status"] & codes.PATH_NOT_CONVERGED) != 0
    failure = ok["regime"] == codes.COORDINATION_FAILURE
    assert flagged.sum() >= 5, flagged.sum()
    kept = failure & ~flagged[:, None]
    assert kept.sum() >= 50, kept.sum()
    np.testing.assert_array_equal(cut["critical_mass"][kept], ok["critical_mass"][kept])
    np.testing.assert_array_equal(cut["regime"], ok["regime"])
