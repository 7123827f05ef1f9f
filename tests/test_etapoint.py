"""Points with some eta_i > 0 and a profile table (kernels/etapoint.py):
their transcendental values taken beforehand in SIMD lanes, then the
block kernel's per-point work without scalar exps.

- the certificate flag it stores is the scalar certificate's
  (sectors.eta_path_increasing through tests/test_path_certificate.py);
- every output agrees with the general per-point path
  (``solve_point_into``, which ``path=brent`` takes on the same table):
  discrete outputs identical, floats other than the GE paths' roots and
  gains at them to a few ulps, those within the contract's tolerance
  (CONTRACT.md "Solver variants"); with inert,
  spontaneous and subsidised sectors, high labour shares (paths the
  certificate does not cover) and every regime.
"""
import numpy as np

from test_etapath import eta_block
from test_path_certificate import certify
from test_solvers import DISCRETE, assert_agree


def _block(seed, n, npts):
    block = eta_block(seed, n, npts, alpha=(0.3, 0.93))
    rng = np.random.default_rng(seed + 1)
    block["externality"][rng.random((npts, n)) < 0.08] = 0.0  # inert sectors
    return block


def _point(block, p):
    return {k: (v[p] if v.ndim == 1 else v[p].copy()) for k, v in block.items()}


def test_certificate_flag_is_the_scalar_certificate(kern):
    from coordsweep.kernels import api
    from coordsweep.kernels.economy import KIND_CAND
    from coordsweep.kernels.etapoint import E_CERT
    from coordsweep.kernels.point import allocate_prepared
    from coordsweep.kernels.prepare import prepare_block
    block = _block(3, 3, 200)
    x = api.make_inputs(block)
    prep = allocate_prepared(*x.price.shape)
    prepare_block(x, prep, 0)
    held = failed = 0
    for p in range(200):
        assert prep.valid[p] and prep.pt["table"][p]
        flags, _ = certify(_point(block, p))
        for i in range(3):
            if prep.sec[p, i]["kind"] != KIND_CAND:
                continue
            assert prep.tmp[E_CERT, p, i] == flags[i], (p, i)
            held += flags[i] == 1
            failed += flags[i] == 0
    assert held > 100 and failed > 20, (held, failed)


def test_agrees_with_the_general_path(kern):
    for n, seed in ((1, 5), (3, 6), (5, 7)):
        block = _block(seed, n, 300)
        a = kern.solve(**block)
        b = kern.solve(**block, solver="path=brent")  # solve_point_into, same table
        assert_agree(b, a, f"N={n}")
        for k in DISCRETE:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        # a few ulps (NumPy's vector exp against libm's), on the contract's
        # scales: welfare differences on welfare_nc's, subsidies on 1;
        # gain_coordinate of a partial coordination is welfare at a GE
        # path's root (a sampled path's wages here, libm's there): the
        # contract's rule for solver variants (CONTRACT.md "Solver
        # variants": within 1e-10 of |welfare_nc|)
        for k in ("wage_nc", "welfare_nc", "fiscal_cost_nc", "wage_best_eq", "welfare_fb",
                  "subsidy_needed", "threshold_wage", "gain_coordinate"):
            scale = np.maximum(np.abs(a[k]), np.abs(b[k]))
            tol = 1e-14
            if k == "gain_coordinate":
                scale = np.maximum(scale, np.abs(a["welfare_nc"])[:, None])
                tol = 1e-10
            elif k == "subsidy_needed":
                scale = np.maximum(scale, 1.0)
            m = np.isfinite(a[k])
            np.testing.assert_array_equal(m, np.isfinite(b[k]), err_msg=k)
            assert (np.abs(a[k][m] - b[k][m]) <= tol * scale[m]).all(), k
        regimes = set(np.unique(a["regime"]))
        assert {0, 1, 2, 4}.issubset(regimes) or n == 1, regimes
