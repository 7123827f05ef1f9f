"""The paper's questions (sweeps/paper_*.toml) give the answers MODEL.md
derives by hand.

Each sweep runs in-process (synchronous scheduler) into a temporary store;
the checks read the store like a user would (xarray.open_zarr).
"""
import math
from pathlib import Path

import numpy as np

import coordsweep
from coordsweep.engine.spec.model import load_spec
from coordsweep.kernels.codes import COORDINATION_FAILURE, SPONTANEOUS

SWEEPS = Path(__file__).resolve().parent.parent / "sweeps"


def _run(name, tmp_path):
    spec = load_spec(SWEEPS / name)
    ds = coordsweep.run(spec, store=str(tmp_path / "s.zarr"), scheduler="synchronous", progress=False)
    assert ds.attrs["complete"] == 1
    return spec, ds


def test_targeting_frontier_matches_hand_derivation(tmp_path):
    """Two sectors, eta = tau = sigma = 0, equal costs c, p = 1, base a = 1.
    With ca_spread v: a_ca = e^{v/2}, a_cl = e^{-v/2}, so z_i^eps = a_i^eps.
    Coordinating sector i alone (from S0 = {}) gives
        W(S0+{i}) - W(S0) = L^alpha [(X0 + D_i)^{1-alpha} - X0^{1-alpha}] - c,
    D_i = z_i^eps ((1+theta_i)^eps - 1): with equal c the larger D_i wins.
    D_cl = D_ca  <=>  e^{-eps v/2} ((1+t)^eps - 1) = e^{eps v/2} ((1.4)^eps - 1)
    <=>  t*(v) = (1 + e^{eps v} (1.4^eps - 1))^{1/eps} - 1,  eps = 1/(1-0.6) = 2.5.
    Below t* target_best is "ca" (0), above it "cluster" (1)."""
    spec, ds = _run("paper_2_targeting.toml", tmp_path)
    eps = 1.0 / (1.0 - spec.labor_share)
    theta_ca = float(spec.sectors["externality"][0])
    assert theta_ca == 0.4 and eps == 2.5
    v = ds["ca_spread"].values
    theta = ds["externality.cluster"].values
    step = theta[1] - theta[0]
    tb = ds["target_best"].values  # (v, theta)
    assert (ds["target_ca"].values[v > 0] == 0).all()       # "ca" has the CA
    assert (ds["target_cluster"].values[:, theta > theta_ca] == 1).all()
    checked = 0
    for k, vk in enumerate(v):
        t_star = (1 + math.exp(eps * vk) * ((1 + theta_ca) ** eps - 1)) ** (1 / eps) - 1
        below = theta < t_star - 1e-9
        above = theta > t_star + 1e-9
        # theta_cluster = 0 is inert (gain 0 < gain_ca): the CA sector is best
        assert (tb[k, below] == 0).all(), (vk, t_star, tb[k])
        assert (tb[k, above] == 1).all(), (vk, t_star, tb[k])
        if below.any() and above.any():
            # the switch is observed within one grid step of t*
            switch = theta[np.argmax(tb[k] == 1)]
            assert abs(switch - t_star) <= step * (1 + 1e-9)
            checked += 1
    assert checked > 50  # the frontier crosses most of the map


def test_coordination_failures_map(tmp_path):
    """Sweep 1: coordination failures (several equilibria, S0 worse than the
    best one) occupy a region of the (theta, c) plane; theta = 0 is inert,
    c = 0 with theta > 0 spontaneous (one equilibrium, no gap)."""
    spec, ds = _run("paper_1_coordination_failures.toml", tmp_path)
    neq = ds.n_equilibria.values
    gap = ds.coordination_gap.values
    failure = (neq > 1) & (gap > 0)
    assert 0.3 < failure.mean() < 0.95
    assert (ds.regime.values == COORDINATION_FAILURE).any(axis=(0, 1)).all()
    assert (neq[:, 0][1:] == 1).all() and (gap[:, 0] == 0).all()   # cost_scale = 0
    assert (ds.regime.values[1:, 0, :] == SPONTANEOUS).all()
    assert (ds.status.values == 0).all()
    # more clustering gain -> more equilibria, at a fixed positive cost
    col = neq[:, 50]
    assert col[-1] > col[5]


def test_import_substitution_costs_welfare(tmp_path):
    """Sweep 3: a production subsidy on manu distorts production away from
    world prices, so welfare at S0 falls as tau rises while its fiscal cost
    rises (at each theta_agro)."""
    spec, ds = _run("paper_3_import_substitution.toml", tmp_path)
    w = ds.welfare_nc.values      # (tau, theta_agro)
    f = ds.fiscal_cost_nc.values
    assert (np.diff(w, axis=0) < 0).all()
    assert (np.diff(f, axis=0) > 0).all()
    assert (f[0] == 0).all()


def test_uniform_cost_subsidy_keeps_no_coordination_equilibrium(tmp_path):
    """Sweep 4: with a uniform cost subsidy sigma < 1, S0 stays an
    equilibrium without any cooperation (no sector spontaneous, fiscal cost
    at S0 zero); at sigma = 1 every sector with theta > 0 cooperates
    spontaneously, S0 is the only equilibrium and costs sum(c)."""
    spec, ds = _run("paper_4_uniform_cost_subsidy.toml", tmp_path)
    sigma = ds.cost_subsidy.values
    scale = ds.externality_scale.values
    reg = ds.regime.values              # (sigma, scale, sector)
    f = ds.fiscal_cost_nc.values
    assert sigma[-1] == 1.0
    assert (reg[:-1] != SPONTANEOUS).all()
    assert (f[:-1] == 0).all()
    assert (reg[-1, scale > 0] == SPONTANEOUS).all()
    assert (ds.n_equilibria.values[-1, scale > 0] == 1).all()
    np.testing.assert_allclose(f[-1, scale > 0], spec.sectors["cost"].sum(), rtol=1e-12)
    # below sigma = 1, coordination failures persist: several equilibria remain
    assert (ds.n_equilibria.values[:-1, scale > 0.5] > 1).all()


def test_selection_sweep_basins(tmp_path):
    """Sweep 5 (paper-1 grid, every equilibrium, dynamics = 64): no sector is
    ever in a partial regime on this grid, so every path ends at a stable
    equilibrium (MODEL.md), whose W lies between W(S0) and the best one.
    Where S0 is the only equilibrium every start ends there and there is
    no push to make; elsewhere the starts that end below the best
    equilibrium include those that end at S0 (worse by the coordination
    gap), and the push is a multiple of 2^-12 in (0, 1]."""
    spec, ds = _run("paper_5_selection.toml", tmp_path)
    assert spec.outputs["dynamics"] == 64
    assert (ds.status.values == 0).all() and not ds.has_partial.values.any()
    get = {v: ds[v].values for v in ("n_equilibria", "basin_nc", "basin_best", "p_stuck",
                                     "welfare_expected", "selection_gap", "big_push",
                                     "welfare_nc", "welfare_best_eq", "coordination_gap")}
    one = get["n_equilibria"] == 1
    assert one.any() and (~one).mean() > 0.5
    assert (get["basin_nc"][one] == 1).all() and (get["basin_best"][one] == 1).all()
    assert (get["p_stuck"][one] == 0).all() and (get["selection_gap"][one] == 0).all()
    assert np.isnan(get["big_push"][one]).all()
    tol = 1e-12 * np.abs(get["welfare_best_eq"])
    assert (get["selection_gap"] >= -tol).all()
    assert (get["welfare_expected"] >= get["welfare_nc"] - tol).all()
    shares = get["basin_nc"], get["basin_best"], get["p_stuck"]
    for s in shares:
        assert ((s * 64) == np.round(s * 64)).all() and (s >= 0).all() and (s <= 1).all()
    assert (get["p_stuck"] <= 1 - get["basin_best"] + 1e-12).all()
    gap = get["coordination_gap"] > 0
    assert (get["p_stuck"][gap] >= get["basin_nc"][gap]).all()
    push = get["big_push"][gap & ~one]
    assert np.isfinite(push).all() and (push > 0).all() and (push <= 1).all()
    assert (push * 4096 == np.round(push * 4096)).all()
    # some starts do reach the best equilibrium, and some get stuck
    assert (get["basin_best"][~one] > 0).mean() > 0.5 and (get["p_stuck"][~one] > 0).mean() > 0.5
