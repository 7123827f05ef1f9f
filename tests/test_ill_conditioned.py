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


def test_a_store_flags_and_counts_the_points(tmp_path):
    """Through a run into a store: the status attributes list the bit
    (CF flag_masks/flag_meanings), exactly the points with eta_i = 1 - alpha
    up to rounding carry it, and inspect counts them by name."""
    import json

    from engine_helpers import main_inprocess

    import coordsweep
    from coordsweep.engine.analysis.flags import flags
    text = """name = "edge of the domain"
[model]
labor = 1.0
labor_share = 0.85
[[model.sectors]]
name = "a"
price = 1.0
productivity = 1.0
externality = 0.5
cost = 0.05
scale = 0.015
[[model.sectors]]
name = "b"
price = 1.0
productivity = 1.1
externality = 0.8
cost = 0.08
[[model.sectors]]
name = "c"
price = 1.0
productivity = 0.9
externality = 0.3
cost = 0.02
[axes."scale.b"]
values = [0.0, 0.1, 0.1499, 0.15]
[axes.cost_scale]
values = [0.5, 1.0]
"""
    store = str(tmp_path / "edge.zarr")
    ds = coordsweep.run(coordsweep.parse_spec(text), store=store, scheduler="synchronous",
                        progress=False)
    kind, meanings = flags(ds.status)
    assert kind == "bitfield" and meanings[codes.ILL_CONDITIONED] == "ill_conditioned"
    bit = (ds.status.values & codes.ILL_CONDITIONED) != 0
    eta = np.broadcast_to(ds["scale.b"].values[:, None], bit.shape)
    np.testing.assert_array_equal(bit, eta == 0.15)
    code, out, err = main_inprocess("inspect", store, "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["status_bits"]["ill_conditioned"] == 2 and info["ok_points"] <= 6, out


def test_a_point_outside_the_domains_is_only_invalid():
    for eta in (0.4, 0.41, 0.5):  # eta_i >= 1 - alpha = 0.4: outside
        assert int(kernels.solve_point(**point(0.6, eta))["status"]) == codes.INVALID_INPUT
