"""Adjustment dynamics (MODEL.md "Adjustment dynamics"): the kernel
(kernels/dynamics.py) against a slow explicit-Euler reference written here
from MODEL.md's formulas, the hand checks, the conventions, and bits across
block splits."""
import math
import warnings

import numba
import numpy as np
import pytest

from coordsweep.kernels import api
from coordsweep.kernels.codes import PATH_NOT_CONVERGED
from coordsweep.kernels.dynamics import (
    DYNAMICS_NAMES, HELD, allocate_dyn, dynamics_block, gradient, point_setup, state_at)
from coordsweep.kernels.economy import KIND_CAND
from coordsweep.kernels.outputs import Outputs
from coordsweep.kernels.point import allocate_prepared, allocate_scratch, workspace_at
from coordsweep.kernels.prepare import prepare_block

from tests.reference import random_point, reference_solve, stack, tune_partial

H = 1.0 / 1024.0
T_MAX = 40.0


def kernel_dynamics(points, k, seed=0):
    """The six outputs and the status of a block of same-N points."""
    params = stack(points)
    x = api.make_inputs(params)
    npts, n = x.price.shape
    out = Outputs(**api.solve(**params))
    prep = allocate_prepared(npts, n)
    prepare_block(x, prep)
    dyn, bits = dynamics_block(x, prep, out, {}, k, seed)
    return dyn, out


def sobol(d, k, seed):
    from scipy.stats import qmc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return qmc.Sobol(d=d, scramble=True, seed=seed).random(k)


# --- the reference: MODEL.md's formulas, explicit Euler --------------------

class Economy:
    """One point, vectorised over profiles s of shape (M, N)."""

    def __init__(self, pt):
        self.L = float(pt["labor"])
        self.alpha = a = float(pt["labor_share"])
        self.eps = 1.0 / (1.0 - a)
        n = len(pt["price"])
        get = lambda k, d: np.asarray(pt.get(k) if pt.get(k) is not None else [d] * n, float)
        self.p = get("price", 1.0)
        self.a = get("productivity", 1.0)
        self.theta = get("externality", 0.0)
        self.c = get("cost", 0.0)
        self.eta = get("scale", 0.0)
        self.tau = get("subsidy", 0.0)
        self.sigma = get("cost_subsidy", 0.0)
        self.q = self.p * (1.0 + self.tau)
        self.net = (1.0 - self.sigma) * self.c
        self.inert = self.theta == 0.0
        self.spont = (~self.inert) & (self.net == 0.0)
        self.active = ~(self.inert | self.spont)

    def labour(self, logw, s):
        """log L_i (M, N) at log wages logw (M,)."""
        e = self.eps
        m = (1.0 - s) + s * (1.0 + self.theta * s) ** e
        base = e * (np.log(self.alpha * self.q * self.a) - logw[:, None]) + np.log(m)
        return base / (1.0 - e * self.eta)

    def logwage(self, s, x=None):
        """The clearing log wage: Newton on log sum L_i = log L from x (or
        bisection-safe start), to 1e-14."""
        m = s.shape[0]
        if x is None:
            lo, hi = np.full(m, -60.0), np.full(m, 60.0)
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                f = np.log(np.exp(self.labour(mid, s)).sum(axis=1)) - np.log(self.L)
                lo = np.where(f > 0, mid, lo)
                hi = np.where(f > 0, hi, mid)
            return 0.5 * (lo + hi)
        for _ in range(60):
            ll = np.exp(self.labour(x, s))
            tot = ll.sum(axis=1)
            f = np.log(tot) - np.log(self.L)
            k = self.eps / (1.0 - self.eps * self.eta)
            df = -(ll * k).sum(axis=1) / tot
            step = f / df
            x = x - step
            if np.all(np.abs(step) < 1e-14):
                break
        return x

    def delta(self, s, logw):
        """Delta_i(s_i, w(s)) (M, N): R_i [(1 + theta s)^eps - 1] - net."""
        e = self.eps
        li = np.exp(self.labour(logw, s))
        an = self.a * li ** self.eta
        r = (1.0 - self.alpha) * (self.q * an) ** e * np.exp(-self.alpha * e * (logw[:, None] - np.log(self.alpha)))
        return r * ((1.0 + self.theta * s) ** e - 1.0) - self.net

    def welfare(self, s):
        """W (M,) from the firm-level definitions."""
        e, al = self.eps, self.alpha
        logw = self.logwage(s)
        w = np.exp(logw)[:, None]
        li = np.exp(self.labour(logw, s))
        an = self.a * li ** self.eta
        ac = an * (1.0 + self.theta * s)
        ln = (al * self.q * an / w) ** e
        lc = (al * self.q * ac / w) ** e
        v = self.p * ((1.0 - s) * an * ln ** al + s * ac * lc ** al)
        return v.sum(axis=1) - (s * self.c).sum(axis=1)


def euler_ends(eco, s):
    """Explicit Euler (h = 1/1024, signs tested at every step) from the
    profiles s (M, N) until no profile moves by more than 4h in a time
    unit and every profile within 0.01 of a corner heads to a corner that
    is a rest point (near a corner the shares move slowly, and Delta may
    still change sign before it); returns the end profiles (partial
    shares at the Euler iterate)."""
    s = s.copy()
    act = eco.active
    x = eco.logwage(s)
    then = s.copy()
    steps = int(T_MAX / H)
    for k in range(1, steps + 1):
        x = eco.logwage(s, x)
        up = eco.delta(s, x) > 0.0
        s = np.where(act, np.where(up, s + H * (1.0 - s), s - H * s), s)
        if k % 1024 == 0:
            if np.abs(s - then).max() < 4 * H and corners_at_rest(eco, s):
                break
            then = s.copy()
    return s


def rest_corners(eco, s):
    """(near, rest, agree) of profiles s (M, N): within 0.01 of a corner;
    that corner a rest point; per sector, its sign at that corner agreeing
    with its side (Delta_i > 0 exactly where s_i is near 1)."""
    near = np.all((s < 0.01) | (s > 0.99) | ~eco.active, axis=1)
    corner = np.where(eco.active, (s > 0.5).astype(float), s)
    up = eco.delta(corner, eco.logwage(corner)) > 0.0
    agree = (up == (corner > 0.5)) | ~eco.active
    return near, near & agree.all(axis=1), agree


def corners_at_rest(eco, s):
    """Every profile of s within 0.01 of a corner: that corner is a rest
    point."""
    near, rest, _ = rest_corners(eco, s)
    return bool(np.all(rest | ~near))


def refine_partial(eco, s, which):
    """Shares of end profiles s at the exact zero of Delta_i (the others
    held) for the sectors in which (M, N), by bisection around the Euler
    iterate."""
    s = s.copy()
    for r in range(s.shape[0]):
        for _ in range(3):
            for i in np.flatnonzero(which[r]):
                lo, hi = max(s[r, i] - 0.02, 0.0), min(s[r, i] + 0.02, 1.0)
                for _ in range(60):
                    mid = 0.5 * (lo + hi)
                    t = s[r:r + 1].copy()
                    t[0, i] = mid
                    d = eco.delta(t, eco.logwage(t))[0, i]
                    lo, hi = (mid, hi) if d > 0 else (lo, mid)
                s[r, i] = 0.5 * (lo + hi)
    return s


def classify(eco, s):
    """(mask or -1 for a partial end, W) of end profiles: a corner where
    that corner is a rest point, else a partial end whose sectors off an
    agreeing corner sit at the zeros of their Delta_i (a partial share may
    lie within 0.01 of 1)."""
    near, rest, agree = rest_corners(eco, s)
    bits = (1 << np.arange(s.shape[1]))
    masks = np.where(rest, ((s > 0.5) * bits).sum(axis=1), -1)
    edge = (s < 0.01) | (s > 0.99)
    snap = np.where(s < 0.01, 0.0, np.where(s > 0.99, 1.0, s))
    which = eco.active & ~rest[:, None] & ~(edge & agree)
    s = refine_partial(eco, np.where(which, s, snap), which)
    return masks, eco.welfare(s)


def reference_dynamics(pt, k, seed=0, push=False):
    eco = Economy(pt)
    ref = reference_solve(**pt)
    n = len(eco.p)
    s0 = np.where(eco.spont, 1.0, 0.0)
    z = int((eco.spont * (1 << np.arange(n))).sum())
    best = int((np.asarray(ref["coop_best_eq"]) * (1 << np.arange(n))).sum())
    wbest = ref["welfare_best_eq"]
    na = int(eco.active.sum())
    if na == 0:
        return None, ref
    starts = np.tile(s0, (k, 1))
    starts[:, eco.active] = sobol(na, k, seed)
    masks, W = classify(eco, euler_ends(eco, starts))
    out = dict(basin_nc=np.mean(masks == z), basin_best=np.mean(masks == best),
               p_stuck=np.mean(W < wbest - 1e-12 * abs(wbest)),
               welfare_expected=W.mean(), W=W, best=best, z=z)
    if push and best != z:
        grid = np.arange(1, 257) / 256.0
        st = np.tile(s0, (256, 1))
        cols = eco.active & ((best >> np.arange(n)) & 1 == 1)
        st[:, cols] = grid[:, None]
        m, _ = classify(eco, euler_ends(eco, st))
        tips = m == best
        out["big_push"] = grid[np.argmax(tips)] if tips.any() else 1.0
    return out, ref


# --- agreement with the reference --------------------------------------------

def draw(seed, n, eta, partial=False):
    """A random point with several equilibria or a partial regime (with
    partial: a sector in regime partial_coordination)."""
    rng = np.random.default_rng(seed)
    while True:
        pt = random_point(rng, n, high_alpha=partial or rng.random() < 0.3)
        if (partial or rng.random() < 0.3) and not tune_partial(pt, rng):
            continue
        if not eta:
            pt["scale"] = np.zeros(n)
        pt["labor_share"] = min(pt["labor_share"], 0.85)
        sol = api.solve_point(**pt)
        if sol["status"] == 0 and (sol["has_partial"] if partial else
                                   sol["n_equilibria"] >= 2 or sol["has_partial"]):
            return pt


CASES = ([(n, eta, seed, False) for n in (1, 2, 3, 4) for eta in (False, True)
          for seed in (1, 2)]
         + [(n, eta, 3, True) for n in (2, 3, 4) for eta in (False, True)])


@pytest.mark.parametrize("n,eta,seed,partial", CASES)
def test_agrees_with_euler(n, eta, seed, partial):
    k = 32
    pt = draw(1000 * n + 10 * seed + eta, n, eta, partial)
    ref, sol = reference_dynamics(pt, k, push=seed == 1)
    dyn, out = kernel_dynamics([pt], k)
    assert out.status[0] & PATH_NOT_CONVERGED == 0
    # at most one start ends elsewhere (MODEL.md excuses a start within
    # about an Euler step of a basin boundary)
    for name in ("basin_nc", "basin_best", "p_stuck"):
        assert abs(dyn[name][0] - ref[name]) <= 1.0 / k, (name, dyn[name][0], ref[name])
    spread = ref["W"].max() - ref["W"].min()
    assert abs(dyn["welfare_expected"][0] - ref["welfare_expected"]) <= (
        1.0 / k * spread + 1e-9 * abs(ref["welfare_expected"]))
    assert dyn["selection_gap"][0] == pytest.approx(
        out.welfare_best_eq[0] - dyn["welfare_expected"][0], abs=1e-12)
    if "big_push" in ref:
        assert abs(dyn["big_push"][0] - ref["big_push"]) <= 2.0 / 256 + 2.0 ** -12


# Points where Delta_i of a sector on its way down turns positive for a
# short stretch and back: Euler switches that sector there, so some starts
# end at a partial rest point or a higher corner instead of S0, far from
# any basin boundary. At the first (eta > 0) the adaptive samples see the
# stretch; at the others it lies between two samples and only the search
# between them (hidden_switch) finds it (the fourth: one active sector, its
# partial share 0.998; the last with eta > 0).
SHORT_STRETCHES = [
    (dict(labor=1.0, labor_share=0.8375158155273196,  # eta > 0
          price=[0.7024364675051556, 1.0961833795735418],
          productivity=[0.7991863843810791, 0.7952875002964672],
          externality=[2.7652299558050433, 2.818171996826414],
          cost=[0.3629398530444685, 0.12202050472637523],
          scale=[0.06101298966653358, 0.04500139369317484],
          subsidy=[0.0, 0.0], cost_subsidy=[0.0, 0.0]), 64, 16),
    (dict(labor=1.0, labor_share=0.8219288660231194,  # eta = 0
          price=[1.2419894598210863, 0.7316890684878627],
          productivity=[0.8567839815737834, 0.8742416572514117],
          externality=[1.15569687464367, 1.6827609561502075],
          cost=[0.44969650512214393, 0.40147137241477815],
          scale=[0.0, 0.0], subsidy=[0.0, 0.0], cost_subsidy=[0.0, 0.0]), 4, 60),
    (dict(labor=1.8753348136703465, labor_share=0.8986197277477695,
          price=[0.9055210105584537, 0.30137319992845624],
          productivity=[0.8065646059244658, 1.127960750335359],
          externality=[1.0596115453084236, 0.8016636310031515],
          cost=[0.3638895355328655, 0.05659911888996987],
          scale=[0.0, 0.0], subsidy=[0.0, 0.9961067056316276],
          cost_subsidy=[0.0, 0.0]), 64, 184),
    (dict(labor=1.9244707451455516, labor_share=0.7423719086467415,
          price=[1.5733554023315897, 2.721873356798766],
          productivity=[2.349489631800445, 0.4062793887187138],
          externality=[0.7676005056440629, 0.0],
          cost=[1.7987289116261194, 0.00341548621549147],
          scale=[0.0, 0.0], subsidy=[-0.25818183879758416, 0.2094911449873914],
          cost_subsidy=[0.0, 0.9498435171957915]), 64, 379),
    (dict(labor=0.8828610606192174, labor_share=0.7827259703861493,  # eta_2 > 0
          price=[0.39597598207389123, 1.0917120596412329, 0.7426730457668617],
          productivity=[0.4987896981955042, 1.3767205251583317, 1.7707365028702058],
          externality=[1.4732769159180183, 1.1815280510023105, 1.299998789228978],
          cost=[0.0006955357729459779, 0.6601029551637199, 1.170840547193567],
          scale=[0.0, 0.0, 0.13316891967048952], subsidy=[0.0, 0.0, 0.0],
          cost_subsidy=[0.0, 0.0, 0.06202103725506325]), 64, 193),
]


@pytest.mark.parametrize("pt,k,seed", SHORT_STRETCHES)
def test_short_sign_stretches_between_samples(pt, k, seed):
    """Every start ends where Euler's path ends: the counts are equal."""
    pt = {key: np.asarray(v, float) if isinstance(v, list) else v for key, v in pt.items()}
    ref, _ = reference_dynamics(pt, k, seed)
    dyn, out = kernel_dynamics([pt], k, seed)
    assert out.status[0] & PATH_NOT_CONVERGED == 0
    for name in ("basin_nc", "basin_best", "p_stuck"):
        assert dyn[name][0] == ref[name], name
    assert dyn["welfare_expected"][0] == pytest.approx(ref["welfare_expected"], rel=1e-9)


@numba.njit
def gradient_and_differences(prep, scr, dy, s0, modes, v, dv, out):
    """The follower's dD_j/dv at v on the segment from s0 with the modes,
    and central differences of D_j (held shares solved at v +- dv) into
    out[0] and out[1]; False where a held zero is not found."""
    ws = workspace_at(prep, 0, scr)
    na, _ = point_setup(ws, dy)
    nheld = 0
    for j in range(na):
        dy.s0[j] = dy.s[j] = s0[j]
        dy.mode[j] = modes[j]
        nheld += modes[j] == HELD
    for r in range(3):
        if not state_at(ws, dy, na, nheld, 1.0 - (v, v + dv, v - dv)[r]):
            return False
        if r == 0:
            gradient(ws, dy, na, nheld, dy.Gs)  # (the buffer the search uses)
            for j in range(na):
                out[0, j] = dy.Gs[j]
                dy.s[j] = dy.sp[j]  # (Newton's start for the neighbours)
        for j in range(na):
            out[1, j] += (0.0, 1.0, -1.0)[r] * dy.D[j] / (2.0 * dv)
    return True


@pytest.mark.parametrize("eta", [False, True])
def test_gradient_along_a_segment(eta):
    """dD_j/dv from the analytic pieces (the wage's response and held
    sectors' zeros included) against central differences."""
    rng = np.random.default_rng(21 + eta)
    checked = {0: 0, 1: 0}
    for trial in range(400):
        n = int(rng.integers(2, 5))
        held = trial % 2 == 0
        pt = random_point(rng, n, high_alpha=held or trial % 4 == 1)
        if not eta:
            pt["scale"] = np.zeros(n)
        if held and not tune_partial(pt, rng, sector=0):
            continue  # (sector 0 held at the zero of its partial share)
        x = api.make_inputs(stack([pt]))
        prep = allocate_prepared(1, n)
        prepare_block(x, prep)
        if not prep.valid[0] or bool(prep.pt["fast"][0]) == eta:
            continue
        na = int((prep.sec["kind"][0] == KIND_CAND).sum())
        if na < 2:
            continue
        modes = rng.integers(0, 2, na)
        s0 = rng.uniform(0.05, 0.95, na)
        if held:
            if prep.sec["kind"][0, 0] != KIND_CAND:
                continue
            sol = api.solve_point(**pt)
            if sol["regime"][0] != 3:
                continue
            modes[0] = HELD
            s0[0] = sol["partial_share"][0]
            s0[1:] = rng.uniform(0.0, 0.2, na - 1)
        out = np.zeros((2, n))
        if not gradient_and_differences(prep, allocate_scratch(n), allocate_dyn(n), s0,
                                        modes, rng.uniform(0.1, 0.9), 1e-5, out):
            continue
        free = modes != HELD
        g, fd = out[0, :na][free], out[1, :na][free]
        assert np.all(np.isfinite(g))
        assert np.abs(g - fd).max() <= 1e-5 * max(np.abs(fd).max(), 1e-3), (trial, g, fd)
        checked[held] += 1
    assert checked[0] >= 20 and checked[1] >= 10, checked


# --- hand checks ---------------------------------------------------------------

def one_active_point(theta=1.0, cost=None, alpha=0.5):
    """Sector 0 active in regime coordination_failure; sector 1 inert,
    sector 2 spontaneous."""
    pt = dict(labor=1.0, labor_share=alpha, price=np.array([1.0, 1.2, 0.8]),
              productivity=np.array([1.0, 1.0, 1.1]), externality=np.array([theta, 0.0, 0.5]),
              cost=np.array([0.0, 0.3, 0.0]), scale=np.zeros(3), subsidy=np.zeros(3),
              cost_subsidy=np.zeros(3))
    if cost is None:  # half way between g(0) = -c and the gain at s = 1
        trial = dict(pt)
        trial["cost"] = np.array([1e-9, 0.3, 0.0])
        g1 = api.ge_path(**trial, sector=0, s=np.array([1.0]))[0] + 1e-9
        cost = 0.5 * g1
    pt["cost"] = np.array([cost, 0.3, 0.0])
    return pt


@pytest.mark.parametrize("k,seed", [(64, 0), (50, 7)])
def test_one_active_sector(k, seed):
    pt = one_active_point()
    dyn, out = kernel_dynamics([pt], k, seed)
    sol = api.solve_point(**pt)
    assert sol["regime"][0] == 2
    cm = sol["critical_mass"][0]
    starts = sobol(1, k, seed)[:, 0]
    assert dyn["basin_nc"][0] == np.mean(starts < cm)
    assert dyn["basin_best"][0] == np.mean(starts > cm)
    assert dyn["big_push"][0] == math.ceil(cm * 4096) / 4096
    # the ends are the two equilibria S0 and B: W averages them
    w_nc, w_b = out.welfare_nc[0], out.welfare_best_eq[0]
    share = np.mean(starts > cm)
    assert dyn["welfare_expected"][0] == pytest.approx(share * w_b + (1 - share) * w_nc, rel=1e-12)
    assert dyn["p_stuck"][0] == (np.mean(starts < cm) if w_b > w_nc else 0.0)


def partial_point():
    """One sector in regime partial_coordination (eta = 0, no subsidy)."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        pt = random_point(rng, 1, high_alpha=True)
        pt["scale"] = np.zeros(1)
        pt["subsidy"] = np.zeros(1)
        if tune_partial(pt, rng, sector=0):
            sol = api.solve_point(**pt)
            if sol["regime"][0] == 3:
                return pt, sol
    raise AssertionError("no partial point drawn in 200 tries")


def test_partial_rest_point_welfare():
    """A single sector in regime partial_coordination: starts above
    critical_mass end at the partial share; W there is W at the exact zero."""
    pt, sol = partial_point()
    k = 64
    dyn, out = kernel_dynamics([pt], k)
    cm, ps = sol["critical_mass"][0], sol["partial_share"][0]
    starts = sobol(1, k, 0)[:, 0]
    up = np.mean(starts > cm)
    assert dyn["basin_nc"][0] == 1 - up
    assert dyn["basin_best"][0] == 1 - up  # B = S0 here
    assert np.isnan(dyn["big_push"][0])
    eco = Economy(pt)
    w_ps = eco.welfare(np.array([[ps]]))[0]
    assert dyn["welfare_expected"][0] == pytest.approx(
        up * w_ps + (1 - up) * out.welfare_nc[0], rel=1e-9)


def test_no_active_sector():
    pt = dict(labor=1.0, labor_share=0.5, price=np.array([1.0, 2.0]),
              productivity=np.array([1.0, 1.0]), externality=np.array([0.0, 0.7]),
              cost=np.array([0.3, 0.2]), scale=np.zeros(2), subsidy=np.zeros(2),
              cost_subsidy=np.array([0.0, 1.0]))
    dyn, out = kernel_dynamics([pt], 16)
    assert dyn["basin_nc"][0] == 1.0 and dyn["basin_best"][0] == 1.0
    assert dyn["p_stuck"][0] == 0.0
    assert dyn["welfare_expected"][0] == out.welfare_nc[0]
    assert dyn["selection_gap"][0] == 0.0
    assert np.isnan(dyn["big_push"][0])
    assert out.status[0] == 0


def test_invalid_point_is_nan():
    pt = one_active_point()
    pt["labor_share"] = 1.5
    dyn, out = kernel_dynamics([pt], 8)
    assert all(np.isnan(dyn[name][0]) for name in DYNAMICS_NAMES)


def test_bits_across_block_splits():
    rng = np.random.default_rng(11)
    for n in (2, 3):
        pts = []
        for j in range(40):
            pt = random_point(rng, n, high_alpha=j % 4 == 0)
            if j % 8 == 0:
                tune_partial(pt, rng)
            pts.append(pt)
        whole, _ = kernel_dynamics(pts, 16, seed=3)
        for cut in (1, 7, 33):
            parts = [kernel_dynamics(pts[a:a + cut], 16, seed=3)[0]
                     for a in range(0, len(pts), cut)]
            for name in DYNAMICS_NAMES:
                joined = np.concatenate([p[name] for p in parts])
                assert joined.tobytes() == whole[name].tobytes(), (n, cut, name)


def test_seed_changes_starts():
    pt = one_active_point()
    a, _ = kernel_dynamics([pt], 16, seed=0)
    b, _ = kernel_dynamics([pt], 16, seed=1)
    starts_a, starts_b = sobol(1, 16, 0)[:, 0], sobol(1, 16, 1)[:, 0]
    cm = api.solve_point(**pt)["critical_mass"][0]
    assert a["basin_nc"][0] == np.mean(starts_a < cm)
    assert b["basin_nc"][0] == np.mean(starts_b < cm)


CAPPED = """
import json, sys
import numpy as np
sys.path.insert(0, {root!r})
from coordsweep.kernels import api
from coordsweep.kernels.dynamics import dynamics_block
from coordsweep.kernels.outputs import allocate_outputs
from coordsweep.kernels.point import allocate_prepared, allocate_scratch, workspace_at
from coordsweep.kernels.prepare import prepare_block
params = json.loads({params!r})
x = api.make_inputs(params)
npts, n = x.price.shape
out = allocate_outputs(npts, n)  # (the block kernel's outputs the paths do not need)
out.welfare_nc[:] = out.welfare_best_eq[:] = 0.0
out.coop_best_eq[:] = False
out.status[:] = 0
prep = allocate_prepared(npts, n)
prepare_block(x, prep)
dyn, bits = dynamics_block(x, prep, out, {{}}, 32, 0)
print(json.dumps([int(bits[0]), float(dyn["basin_nc"][0])]))
"""


def test_a_path_that_does_not_end_sets_status_bit_2():
    """A start above the partial share of a partial_coordination sector
    moves down, switches at the partial share's zero and is held there: its
    path needs two segments. With every iteration cap at 1
    (COORDSWEEP_DEBUG_MAXITER, one segment a path) it does not end, and the
    point gets PATH_NOT_CONVERGED; without the cap, none."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = str(Path(__file__).resolve().parent.parent)
    pt, sol = partial_point()
    k = 32
    assert np.any(sobol(1, k, 0)[:, 0] > sol["partial_share"][0])
    dyn, out = kernel_dynamics([pt], k)
    assert out.status[0] == 0
    params = {key: np.asarray(v).tolist() for key, v in stack([pt]).items()}
    code = CAPPED.format(root=root, params=json.dumps(params))
    env = dict(os.environ, COORDSWEEP_DEBUG_MAXITER="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr
    bits, basin = json.loads(proc.stdout.strip().splitlines()[-1])
    assert bits & PATH_NOT_CONVERGED
