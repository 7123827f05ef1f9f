"""Points whose labour exponent e_i = 1 / (1 - eps eta_i) is so large that
the roots lose their meaning carry the status bit ill_conditioned: at the
bound (1e6) and on the point where eta_i sits within rounding of 1 - alpha
(alpha = 0.85, eta_i = 0.15: 1 - alpha = 0.15000000000000002, e_i ~ 4.5e15,
where the solver variants disagree on the number of equilibria)."""
import numpy as np
import pytest

from coordsweep import kernels
from coordsweep.kernels import codes


def point(alpha, eta):
    return dict(labor=1.0, labor_share=alpha, price=[1.0, 1.0, 1.0],
                productivity=[1.0, 1.1, 0.9], externality=[0.5, 0.8, 0.3],
                cost=[0.05, 0.08, 0.02], scale=[0.1 * (1 - alpha), eta, 0.0])


def exponent(alpha, eta):
    return 1.0 / (1.0 - eta / (1.0 - alpha))


@pytest.mark.parametrize("alpha", [0.3, 0.6, 0.85])
def test_bit_set_exactly_beyond_the_bound(alpha):
    bound = codes.ILL_CONDITIONED_EXPONENT
    below = (1 - alpha) * (1 - 2.0 / bound)    # e ~ bound / 2
    above = (1 - alpha) * (1 - 0.5 / bound)    # e ~ 2 bound
    assert exponent(alpha, below) < bound < exponent(alpha, above)
    assert kernels.solve_point(**point(alpha, below))["status"] & codes.ILL_CONDITIONED == 0
    assert kernels.solve_point(**point(alpha, above))["status"] & codes.ILL_CONDITIONED


def test_the_point_at_the_edge_of_the_domain():
    alpha, eta = 0.85, 0.15
    assert eta < 1 - alpha and exponent(alpha, eta) > 1e15
    status = {}
    for solver in ("wage=newton", "wage=brent", "wage=bisect,equilibria=brute"):
        status[solver] = int(kernels.solve_point(**point(alpha, eta), solver=solver)["status"])
    assert all(s & codes.ILL_CONDITIONED for s in status.values()), status


def test_ordinary_points_are_not_flagged():
    rng = np.random.default_rng(3)
    from coordsweep.engine.run.benchvariants import draw
    out = kernels.solve(**draw(rng, 500, 4, True))
    assert not (out["status"] & codes.ILL_CONDITIONED).any()


def test_the_store_documents_the_bit():
    from coordsweep.engine.store.conventions import output_attrs
    attrs = output_attrs("status", np.int8, "", "status", ["a", "b"])
    assert "ill_conditioned" in attrs["flag_meanings"].split()
    assert codes.ILL_CONDITIONED in list(attrs["flag_masks"])
