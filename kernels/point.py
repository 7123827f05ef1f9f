"""One parameter point, and a block of them: every output of MODEL.md.

``solve_point_into`` solves point p of an Inputs block and writes row p of
the Outputs; it calls one function per part of MODEL.md (no-coordination
equilibrium, equilibrium set and first best in kernels.equilibria, the
per-sector regimes in kernels.sectors, then targets and flags here).
``solve_block`` loops it over a block (serial, ``nogil``: dask supplies the
parallelism). A block goes through these passes (kernels/api.py ``_run``):
kernels/prepare.py's ``prepare_block`` (each point's constants and its
profile table, kernels/table.py, the transcendental functions in SIMD
lanes over the whole block), kernels/etapath.py's ``sample_eta_paths``
(samples of the GE paths with some eta_i > 0 that the monotonicity
certificate does not cover), ``solve_block``, and kernels/lockstep.py's
``finish_block``, :func:`finish_sampled` (kernels/samplepath.py) and
kernels/etapath.py's ``finish_eta_paths`` (the critical masses the block
deferred). Outputs at a point depend on
that point's inputs only, so results do not depend on how points are
blocked.
"""
import math
from collections import namedtuple

import numpy as np

from coordsweep.kernels import codes
from coordsweep.kernels.economy import (
    KIND_CAND, KIND_INERT, KIND_SPONT, POINT_DTYPE, SECTOR_DTYPE, SOLVER_PATH, Point,
    Workspace, allocate_workspace, binary_welfare, fast_path_args)
from coordsweep.kernels.equilibria import (
    TIE_RTOL, classify, classify_kinds, no_coordination, tabled_equilibria)
from coordsweep.kernels.etapoint import eta_tabled, solve_eta_point
from coordsweep.kernels.jit import jit
from coordsweep.kernels.lockstep import (
    QUEUE_ARGS, QUEUE_ROWS, Q_START, _write as write_roots, staggered_rows)
from coordsweep.kernels.samplepath import ROOT_SHAPE, sampled_roots
from coordsweep.kernels.sectors import (
    DEFER_SLOT, DEFERRED, DEFERRED_SAMPLED, PATH_LOCKSTEP, PRE_SLOT, PRESAMPLES,
    SAMPLES_SCRATCH, analyse_sector, fast_path_increasing, sampled_candidate)
from coordsweep.kernels.prepare import N_PTMP, N_TMP
from coordsweep.kernels.table import table_size
from coordsweep.kernels.variants import equilibria_and_first_best, tabled_solver

#: per-block scratch: the profile and status of the workspace, the candidates and non-inert
#: sectors (index lists), V_i at S0, samples of a GE path (from
#: sectors.DEFER_SLOT a deferred search's start and bracket, from
#: sectors.PRE_SLOT the path's lock-step samples), and room for the
#: masks of the equilibria (length 0 in the block kernel: not recorded),
#: the depth-first search's stack (stack: positions and masks, stackx:
#: the bounds), and the queue of critical masses left to the block's
#: lock-step search (kernels/lockstep.py: qidx p * N + i, qargs the
#: arguments of economy.fast_g after s, one row per argument, and the
#: search's start where the block kernel knows g_i(1) + c' (NaN: not),
#: lockstep.QUEUE_ROWS, qlen[0] their number) and those of paths with some eta_j > 0
#: (kernels/etapath.py: gidx p * N + i, gstart the search's start and
#: bracket, one row each, glen[0] their number), and the fast paths the
#: certificate does not cover (kernels/samplepath.py: sidx, sargs as qidx,
#: qargs; slen[0] their number)
Scratch = namedtuple("Scratch", "prof status cand active value_nc samples record "
                                "stack stackx qidx qargs qlen gidx gstart glen "
                                "sidx sargs slen")
#: a block's points prepared by kernels/prepare.py: inside the domains
#: (valid), their Points (economy.POINT_DTYPE records), their sectors'
#: constants (economy.SECTOR_DTYPE, P x N), the profile table
#: (kernels/table.py: P x 2^N, or P x 0 beyond table.TABLE_MAX_SECTORS),
#: room for the arguments of the transcendental passes (tmp: K x P x N,
#: ptmp: K x P), and the GE-path samples found in lock-step where some
#: eta_j > 0 (kernels/etapath.py; P x N x sectors.PRESAMPLES; gs[p, i, 0] NaN: none,
#: set by kernels/prepare.py at the points with some eta_j > 0 only); and,
#: at the points with every eta_i = 0 and a table (pt.fast, pt.table), the
#: table's wages w(S) = exp(log w(S)) (te, P x 2^N) and each candidate
#: sector's (g_i(1) + c') / c_i at S0 (gc, P x N; kernels/prepare.py
#: ``_stage4``), taken in SIMD lanes for the block kernel
Prepared = namedtuple("Prepared", "valid pt sec tx tw tc tmp ptmp gs te gc")


def allocate_scratch(n, record=0, solver=(0, 0, 0), queue=0):
    """Scratch for points of n sectors (record: how many equilibrium masks
    solve_point_into may write; solver: the variants' codes,
    kernels/solvers.py; queue: room for that many deferred critical
    masses, e.g. P * N for a block of P points; 0: none deferred)."""
    prof, status = allocate_workspace(n, solver)
    return Scratch(prof=prof, status=status,
                   cand=np.empty(n, np.int64), active=np.empty(n, np.int64),
                   value_nc=np.empty(n), samples=np.empty(SAMPLES_SCRATCH),
                   record=np.empty(record, np.int64),
                   stack=np.empty((2, n + 1), np.int64), stackx=np.empty(n + 1),
                   qidx=np.empty(queue, np.int64),
                   qargs=staggered_rows(len(QUEUE_ROWS), queue),
                   qlen=np.zeros(1, np.int64),
                   gidx=np.empty(queue, np.int64), gstart=np.empty((3, queue)),
                   glen=np.zeros(1, np.int64),
                   sidx=np.empty(queue, np.int64),
                   sargs=staggered_rows(len(QUEUE_ARGS), queue),
                   slen=np.zeros(1, np.int64))


def allocate_prepared(npts, nsec):
    """Room for a block of npts points of nsec sectors, prepared."""
    t = table_size(nsec)
    # the arrays a pass reads and writes together start at staggered cache
    # sets (lockstep.staggered_rows: arrays of the same length from the
    # heap start at the same offset in a page, and the passes touch their
    # p-th elements together)
    tab = staggered_rows(4, npts * t)
    return Prepared(valid=np.empty(npts, np.bool_), pt=np.empty(npts, POINT_DTYPE),
                    sec=np.empty((npts, nsec), SECTOR_DTYPE),
                    tx=tab[0].reshape(npts, t), tw=tab[1].reshape(npts, t),
                    tc=tab[2].reshape(npts, t),
                    tmp=staggered_rows(N_TMP, npts * nsec).reshape(N_TMP, npts, nsec),
                    ptmp=staggered_rows(N_PTMP, npts),
                    gs=np.empty((npts, nsec, PRESAMPLES)),
                    te=tab[3].reshape(npts, t), gc=np.empty((npts, nsec)))


def prepared_head(prep, npts):
    """The first npts points of a Prepared (views)."""
    return Prepared(*(a[:, :npts] if name in ("tmp", "ptmp") else a[:npts]
                      for name, a in zip(Prepared._fields, prep)))


@jit(inline="always", _nrt=True)  # (returns arrays: kernels/jit.py)
def workspace_of(prep, p, scr):
    """The workspace of point p of a prepared block (status as it is)."""
    r = prep.pt
    pt = Point(alpha=r.alpha[p], eps=r.eps[p], labor=r.labor[p], logl=r.logl[p],
               logcoef=r.logcoef[p], c0=r.c0[p], eta0=r.eta0[p], fast=r.fast[p],
               logxa0=r.logxa0[p], xa0=r.xa0[p], logalpha=r.logalpha[p],
               table=r.table[p], wagefail=r.wagefail[p])
    return Workspace(pt, prep.sec[p], scr.prof, scr.status, prep.tx[p], prep.tw[p])


@jit(inline="always", _nrt=True)  # (returns arrays: kernels/jit.py)
def workspace_at(prep, p, scr):
    """The workspace of point p of a prepared block (status reset)."""
    r = prep.pt
    scr.status[0] = 0 if prep.valid[p] else codes.INVALID_INPUT
    if r.wagefail[p]:  # (kernels/etatable.py)
        scr.status[0] |= codes.WAGE_NOT_CONVERGED
    sec = prep.sec[p]
    for i in range(sec.eta.shape[0]):  # e_i = 1 / (1 - eps eta_i) beyond its bound
        if prep.valid[p] and \
                (1.0 - r.eps[p] * sec.eta[i]) * codes.ILL_CONDITIONED_EXPONENT < 1.0:
            scr.status[0] |= codes.ILL_CONDITIONED  # (a point outside the domains: not)
    return workspace_of(prep, p, scr)


@jit(inline="always")
def write_invalid(out, p, status):
    """Row p of a point outside the domains: NaN, -1, False."""
    out.wage_nc[p] = out.welfare_nc[p] = out.welfare_best_eq[p] = np.nan
    out.wage_best_eq[p] = out.welfare_fb[p] = out.coordination_gap[p] = np.nan
    out.provision_gap[p] = out.gain_ca[p] = out.gain_cluster[p] = np.nan
    out.gain_best[p] = out.fiscal_cost_nc[p] = np.nan
    out.n_equilibria[p] = 0
    out.has_partial[p] = False
    out.target_ca[p] = out.target_cluster[p] = out.target_best[p] = codes.NO_CATEGORY
    out.status[p] = status
    for i in range(out.regime.shape[1]):
        out.regime[p, i] = codes.NO_CATEGORY
        out.critical_mass[p, i] = out.partial_share[p, i] = np.nan
        out.gain_coordinate[p, i] = out.threshold_wage[p, i] = np.nan
        out.subsidy_needed[p, i] = np.nan
        out.coop_best_eq[p, i] = out.coop_fb[p, i] = False


@jit(inline="always")
def queue_path(idx, args, k, pi, xa0, sec, i, eps, alpha, cost):
    """Entry k of a lock-step queue (Scratch.qidx/qargs or sidx/sargs):
    point-sector p N + i and economy.fast_g's arguments after s
    (lockstep.QUEUE_ARGS)."""
    idx[k] = pi
    args[0, k] = xa0
    args[1, k] = sec.xa[i]
    args[2, k] = sec.logk[i]
    args[3, k] = sec.theta[i]
    args[4, k] = eps
    args[5, k] = alpha
    args[6, k] = (1.0 - sec.sigma[i]) * cost


@jit(inline="always")
def write_sector(out, p, i, regime, cm, ps, gain, wbar, sub):
    """Row (p, i) of the per-sector conditions (MODEL.md): regime,
    critical_mass, partial_share, gain_coordinate, threshold_wage,
    subsidy_needed."""
    out.regime[p, i] = regime
    out.critical_mass[p, i] = cm
    out.partial_share[p, i] = ps
    out.gain_coordinate[p, i] = gain
    out.threshold_wage[p, i] = wbar
    out.subsidy_needed[p, i] = sub


@jit(inline="always")
def argmax_first(values, rtol, scale):
    """Index of the largest value; ties (within rtol of the larger of the
    two values and `scale`) go to the lower index."""
    best = 0
    for i in range(1, values.shape[0]):
        tol = rtol * max(abs(values[i]), abs(values[best]), scale)
        if values[i] > values[best] + tol:
            best = i
    return best


@jit(inline="always")
def targets(value_nc, theta, gain, W_nc):
    """MODEL.md "Targeting": (target_ca, target_cluster, target_best), the
    sectors with the largest V_i at S0 (comparative advantage), the highest
    theta_i (cluster) and the highest gain_coordinate_i (best)."""
    tca = argmax_first(value_nc, TIE_RTOL, 0.0)
    tcl = argmax_first(theta, 0.0, 0.0)
    # gains are welfare differences: compare them on the welfare scale
    tbe = argmax_first(gain, TIE_RTOL, abs(W_nc))
    return tca, tcl, tbe


@jit(inline="always")
def all_finite(out, p, kind):
    """Never a silent NaN: False when an output MODEL.md defines as a
    number at this point is not finite."""
    finite = (math.isfinite(out.wage_nc[p]) and math.isfinite(out.welfare_nc[p])
              and math.isfinite(out.welfare_best_eq[p])
              and math.isfinite(out.wage_best_eq[p])
              and math.isfinite(out.welfare_fb[p])
              and math.isfinite(out.fiscal_cost_nc[p]))
    for i in range(kind.shape[0]):
        if not math.isfinite(out.gain_coordinate[p, i]):
            finite = False
        if kind[i] == KIND_CAND:
            if not (math.isfinite(out.threshold_wage[p, i])
                    and math.isfinite(out.subsidy_needed[p, i])):
                finite = False
            r = out.regime[p, i]
            if (r == codes.COORDINATION_FAILURE or r == codes.PARTIAL_COORDINATION) \
                    and math.isnan(out.critical_mass[p, i]):
                finite = False
    return finite


@jit(inline="always")
def queue_sampled(ws, scr, k, j, i):
    """Entry k of the queue of kernels/samplepath.py: sector i of a point
    (j = p N + i) and its path's scalars (economy.fast_path_args)."""
    scr.sidx[k] = j
    args = fast_path_args(ws, i)
    for r in range(len(args)):
        scr.sargs[r, k] = args[r]


@jit(inline="always")
def solve_point_into(x, p, prep, scr, out):
    """Solve point p of the Inputs block x (prep: the block prepared by
    kernels/prepare.py) and write row p of
    the Outputs out (scr: an allocate_scratch). Returns the number of
    equilibrium masks written into scr.record."""
    ws = workspace_at(prep, p, scr)
    if not prep.valid[p]:
        write_invalid(out, p, ws.status[0])
        return 0
    n = ws.sec.kind.shape[0]
    zmask, ncand, nactive = classify(ws, scr.cand, scr.active)

    # --- no-coordination equilibrium S0 = Z ------------------------------
    x_nc, W_nc, fiscal = no_coordination(ws, zmask, scr.value_nc)
    out.wage_nc[p] = math.exp(x_nc)
    out.welfare_nc[p] = W_nc
    out.fiscal_cost_nc[p] = fiscal

    # --- stable equilibria and the best one ------------------------------
    # (and the first best; by the solver's equilibrium variant)
    count, best_mask, best_W, best_x, nrec, fb_mask, fb_W = equilibria_and_first_best(
        ws, zmask, scr.cand, ncand, scr.active, nactive, scr.record, scr.stack, scr.stackx)
    out.n_equilibria[p] = count
    out.welfare_best_eq[p] = best_W
    out.wage_best_eq[p] = math.exp(best_x)
    out.coordination_gap[p] = max(0.0, best_W - W_nc)

    # --- first best -------------------------------------------------------
    out.welfare_fb[p] = fb_W
    out.provision_gap[p] = max(0.0, fb_W - best_W)  # < 0 only within a tie
    for i in range(n):
        out.coop_best_eq[p, i] = (best_mask >> i) & 1 == 1
        out.coop_fb[p, i] = (fb_mask >> i) & 1 == 1

    # --- per-sector coordination-failure conditions ----------------------
    partial_any = False
    # critical masses may be left to the block's lock-step search
    # (kernels/lockstep.py) when there is room in the queue for all of them
    q = scr.qlen[0]
    g = scr.glen[0]
    sq = scr.slen[0]
    defer = (ws.status[SOLVER_PATH] == PATH_LOCKSTEP and q + n <= scr.qidx.shape[0]
             and g + n <= scr.gidx.shape[0] and sq + n <= scr.sidx.shape[0])
    for i in range(n):
        # the path's samples found in lock-step, if any (kernels/etapath.py;
        # only where some eta_j > 0)
        v = np.nan if ws.pt.eta0 else prep.gs[p, i, 0]
        scr.samples[PRE_SLOT] = v
        if not math.isnan(v):
            for k in range(1, PRESAMPLES):
                scr.samples[PRE_SLOT + k] = prep.gs[p, i, k]
        r, cm, ps, gain, wbar, sub = analyse_sector(ws, i, W_nc, zmask, scr.samples, defer)
        if cm == DEFERRED:
            if ws.pt.fast:
                scr.qidx[q] = p * n + i
                args = fast_path_args(ws, i)
                for k in range(len(args)):
                    scr.qargs[k, q] = args[k]
                scr.qargs[Q_START, q] = np.nan  # (the lock-step pass finds it)
                q += 1
            else:  # some eta_j > 0 (kernels/etapath.py)
                scr.gidx[g] = p * n + i
                for k in range(3):  # start, bracket
                    scr.gstart[k, g] = scr.samples[DEFER_SLOT + k]
                g += 1
            cm = 1.0  # a finite placeholder until the lock-step search
        elif cm == DEFERRED_SAMPLED:  # (kernels/samplepath.py)
            queue_sampled(ws, scr, sq, p * n + i, i)
            sq += 1
            cm = 1.0
        write_sector(out, p, i, r, cm, ps, gain, wbar, sub)
        if r == codes.PARTIAL_COORDINATION:
            partial_any = True
    out.has_partial[p] = partial_any
    scr.qlen[0] = q
    scr.glen[0] = g
    scr.slen[0] = sq

    # --- targeting, never a silent NaN, the status ------------------------
    finish_row(x, p, scr.value_nc, out, W_nc, ws.status[0], ws.sec.kind)
    return nrec


@jit(inline="always")
def solve_tabled_point(x, p, prep, scr, out):
    """:func:`solve_point_into` for a point inside the domains with every
    eta_i = 0, linear-scale sums and a profile table (pt.fast, pt.table),
    solved by the default variants with room in the lock-step queue
    (:func:`tabled_solver`): the same operations on the same values, in the
    same order, with nothing of the eta > 0 paths, the other variants or
    the general wage in between (every wage and welfare is read from the
    table, the wages and each candidate's (g_i(1) + c') / c_i from prep.te
    and prep.gc: NumPy's SIMD exp, which may differ from libm's in the last
    bit, so within a few ulps of solve_point_into's). The paths the certificate does
    not cover go through kernels/sectors.py ``sampled_candidate`` as in
    ``analyse_candidate``.
    (Over 80 lines: solve_point_into's sections, inlined, in its order.)"""
    r = prep.pt
    sec = prep.sec[p]
    tx = prep.tx[p]
    tw = prep.tw[p]
    n = sec.shape[0]
    alpha = r.alpha[p]
    xa0 = r.xa0[p]
    scr.status[0] = 0  # (valid; eta = 0: no ill-conditioned exponent, no wage root)
    kind = sec.kind
    cand = scr.cand
    active = scr.active
    zmask, ncand, nactive = classify_kinds(kind, cand, active)

    # --- no-coordination equilibrium S0 = Z (equilibria.no_coordination) --
    te = prep.te[p]
    w_nc = te[zmask]
    wl = w_nc * r.labor[p]
    fiscal = 0.0
    value = scr.value_nc
    for i in range(n):
        xi = sec.xb[i] if sec.s0[i] == 1.0 else sec.xa[i]
        value[i] = wl * (xi / xa0) / (alpha * (1.0 + sec.tau[i]))
        fiscal += sec.tau[i] * value[i] + sec.sigma[i] * sec.s0[i] * sec.cost[i]
    W_nc = tw[zmask]
    out.wage_nc[p] = w_nc
    out.welfare_nc[p] = W_nc
    out.fiscal_cost_nc[p] = fiscal

    # --- stable equilibria, the best one and the first best --------------
    count, best_mask, best_W, fb_mask, fb_W = tabled_equilibria(
        tx, tw, sec.xbar, zmask, cand, ncand, active, nactive, scr.stack, scr.stackx)
    out.n_equilibria[p] = count
    out.welfare_best_eq[p] = best_W
    out.wage_best_eq[p] = te[best_mask]
    out.coordination_gap[p] = max(0.0, best_W - W_nc)
    out.welfare_fb[p] = fb_W
    out.provision_gap[p] = max(0.0, fb_W - best_W)  # < 0 only within a tie
    for i in range(n):
        out.coop_best_eq[p, i] = (best_mask >> i) & 1 == 1
        out.coop_fb[p, i] = (fb_mask >> i) & 1 == 1

    # --- per-sector conditions (sectors.analyse_sector, deferring) -------
    partial_any = False
    q = scr.qlen[0]
    sq = scr.slen[0]
    eps = r.eps[p]
    peak_n = peak_d = np.nan  # (sectors.path_turns' peak of m, once per point)
    for i in range(n):
        kd = kind[i]
        if kd == KIND_INERT:
            reg, cm, ps, gain, wbar, sub = codes.INERT, np.nan, np.nan, 0.0, np.nan, np.nan
        elif kd == KIND_SPONT:
            reg, cm, ps, gain, wbar, sub = codes.SPONTANEOUS, 0.0, np.nan, 0.0, sec.wbar[i], 0.0
        else:
            wbar = sec.wbar[i]
            mask1 = zmask | (np.int64(1) << i)
            x1 = tx[mask1]
            W1 = tw[mask1]
            cost = sec.cost[i]
            # (g_i(1) + c') / c = exp(log R_i + lem1 - logc) (kernels/prepare.py
            # _stage4): the subsidy, and the start of the lock-step search
            # c' / (g_i(1) + c')
            gc1c = prep.gc[p, i]
            sub = max(0.0, 1.0 - gc1c)
            g0 = -(1.0 - sec.sigma[i]) * cost
            gain = W1 - W_nc
            increasing, peak_n, peak_d = fast_path_increasing(
                xa0, sec.xa[i], sec.xb[i], sec.theta[i], eps, alpha, peak_n, peak_d)
            if increasing:
                # sectors.path_increasing's certificate, or the exact test (fast path)
                ps = np.nan
                if x1 <= sec.xbar[i]:
                    reg = codes.COORDINATION_FAILURE
                    cm = 1.0  # a finite placeholder until the lock-step search
                    queue_path(scr.qidx, scr.qargs, q, p * n + i, xa0, sec, i, eps, alpha, cost)
                    scr.qargs[Q_START, q] = (1.0 - sec.sigma[i]) / gc1c
                    q += 1
                else:
                    reg = codes.NEEDS_SUBSIDY if gain > 0.0 else codes.NOT_WORTH
                    cm = np.nan
            elif x1 <= sec.xbar[i]:
                # sectors.sampled_candidate, deferring: kernels/samplepath.py
                reg = codes.COORDINATION_FAILURE
                cm = 1.0  # a finite placeholder until the lock-step search
                ps = np.nan
                queue_path(scr.sidx, scr.sargs, sq, p * n + i, xa0, sec, i, eps, alpha, cost)
                sq += 1
            else:
                gs = scr.samples
                # no lock-step samples: kernels/etapath.py samples only
                # paths with some eta_j > 0 (prep.gs stays NaN here, and is
                # not read: a cache miss each time)
                gs[PRE_SLOT] = np.nan
                reg, cm, ps, gain, sub = sampled_candidate(
                    workspace_of(prep, p, scr), i, W_nc, x1, W1, sub, g0, gs, True)
        write_sector(out, p, i, reg, cm, ps, gain, wbar, sub)
        if reg == codes.PARTIAL_COORDINATION:
            partial_any = True
    out.has_partial[p] = partial_any
    scr.qlen[0] = q
    scr.slen[0] = sq

    # --- targeting, never a silent NaN, the status ------------------------
    finish_row(x, p, value, out, W_nc, scr.status[0], kind)


@jit(inline="always")
def finish_row(x, p, value_nc, out, W_nc, status, kind):
    """The last sections of every per-point solver (targeting, never a
    silent NaN, the status) for a point whose other outputs are written."""
    gain = out.gain_coordinate[p]
    tca, tcl, tbe = targets(value_nc, x.externality[p], gain, W_nc)
    out.target_ca[p] = tca
    out.target_cluster[p] = tcl
    out.target_best[p] = tbe
    out.gain_ca[p] = gain[tca]
    out.gain_cluster[p] = gain[tcl]
    out.gain_best[p] = gain[tbe]
    if not all_finite(out, p, kind):
        status |= codes.NON_FINITE
    out.status[p] = status


@jit
def solve_block(x, scr, out, prep):
    """Solve every point of the Inputs block x, prepared in prep (see
    solve_point_into), into the Outputs out (scr: an allocate_scratch for
    x's number of sectors). Points with every eta_i = 0 and a profile
    table go through :func:`solve_tabled_point` where the solver allows,
    those with some eta_i > 0 and a table through kernels/etapoint.py's
    ``solve_eta_point`` (with the default wage and GE-path variants)."""
    n = prep.sec.shape[1]
    tabled = tabled_solver(scr, n)
    for p in range(prep.valid.shape[0]):
        if (tabled and prep.valid[p] and prep.pt.fast[p] and prep.pt.table[p]
                and not prep.pt.wagefail[p]
                and scr.qlen[0] + n <= scr.qidx.shape[0]
                and scr.glen[0] + n <= scr.gidx.shape[0]
                and scr.slen[0] + n <= scr.sidx.shape[0]):
            solve_tabled_point(x, p, prep, scr, out)
        elif (eta_tabled(prep, scr, p) and scr.qlen[0] + n <= scr.qidx.shape[0]
                and scr.glen[0] + n <= scr.gidx.shape[0]):
            W_nc, status = solve_eta_point(x, p, prep, scr, out)
            finish_row(x, p, scr.value_nc, out, W_nc, status, prep.sec[p].kind)
        else:
            solve_point_into(x, p, prep, scr, out)


@jit
def resolve_sampled(prep, scr, out, idx, kind):
    """The queued paths of kernels/samplepath.py whose samples failed the
    shape check (kind ROOT_SHAPE), point by point as before they were
    queued: sectors.sampled_candidate (the dense samples, PATH_SHAPE, the
    first crossing by the path variant) into critical_mass and status."""
    n = prep.sec.shape[1]
    for k in range(idx.shape[0]):
        if kind[k] != ROOT_SHAPE:
            continue
        p = idx[k] // n
        i = idx[k] - p * n
        ws = workspace_of(prep, p, scr)
        ws.status[0] = 0
        zmask = np.int64(0)
        for j in range(n):
            if ws.sec.kind[j] == KIND_SPONT:
                zmask |= np.int64(1) << j
        x1, W1 = binary_welfare(ws, zmask | (np.int64(1) << i))
        g0 = -(1.0 - ws.sec.sigma[i]) * ws.sec.cost[i]
        scr.samples[PRE_SLOT] = np.nan
        r, cm, ps, gain, sub = sampled_candidate(
            ws, i, out.welfare_nc[p], x1, W1, out.subsidy_needed[p, i], g0, scr.samples,
            False)
        out.critical_mass[p, i] = cm
        status = ws.status[0]
        if math.isnan(cm):
            status |= codes.NON_FINITE
        out.status[p] |= status


def finish_sampled(scr, out, prep):
    """Sample and solve the paths the block kernel queued in scr.sidx
    (kernels/samplepath.py) and write their critical masses (and status
    bits) into out. Returns their number."""
    q = int(scr.slen[0])
    if q == 0:
        return 0
    root, conv, kind = sampled_roots(scr.sargs[:, :q])
    write_roots(q, scr.sidx, root, conv, out.critical_mass, out.status)
    if (kind == ROOT_SHAPE).any():
        resolve_sampled(prep, scr, out, scr.sidx[:q], kind)
    scr.slen[0] = 0
    return q
