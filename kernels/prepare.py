"""The first pass over a block: every point's workspace constants
(kernels/economy.py: the Point scalars and the sectors' records), with
every transcendental function evaluated for the whole block at once.

A point's constants cost some 10 log/exp per sector; called point by
point from numba that is a scalar libm call each (no vector math library
in numba's LLVM here). Instead four numba loops over the block do the
arithmetic (``_stage1`` .. ``_stage4``) and, between them, NumPy takes the
logs and exps of whole arrays of arguments in SIMD lanes: ``_stage1``
writes the arguments, NumPy replaces them in place by their logs, the next
stage reads them, and so on. The formulas are MODEL.md's, in the order
the workspace's docs give (economy.SECTOR_FIELDS).

Every transcendental call is made in place (out = in), which keeps NumPy
on one vector loop whatever the length and alignment of the block, so a
point's constants do not depend on the block it is solved in
(kernels/lockstep.py explains why). No I/O; NumPy and numba only.
"""
import numpy as np

from coordsweep.kernels.domain import block_in_domain
from coordsweep.kernels.economy import (
    FAST_RANGE, KIND_CAND, KIND_INERT, KIND_SPONT)
from coordsweep.kernels.etatable import finish_eta_table
from coordsweep.kernels.jit import jit
from coordsweep.kernels.table import welfare_rows, fill_sums

#: the per-sector arguments (rows of Prepared.tmp) and per-point ones
#: (rows of Prepared.ptmp) that NumPy transforms between the stages
T_PQ, T_PROD, T_COST, T_NETC, T_THETA, T_XA, T_XB, T_EM1, T_EM1BIG, T_WBAR = range(10)
P_COEF, P_ALPHA, P_LABOR, P_1MA, P_XA0 = range(5)
N_TMP = 10
N_PTMP = 5
#: log(exp(a) - 1) is log(expm1(a)) up to here, a + log1p(-exp(-a)) above
#: (economy.log_expm1)
EXPM1_SWITCH = 30.0


@jit
def _stage1(x, T, P):
    """The arguments of the first logs: p_i (1 + tau_i), A_i, theta_i,
    (1 - sigma_i) c_i, c_i; (1 - alpha) / alpha, alpha, L, 1 - alpha.
    Returns the number of sectors with sigma_i != 0 (none: the row of
    (1 - sigma_i) c_i is the row of c_i, and its logs are those of c_i)."""
    nsigma = 0
    for p in range(x.labor.shape[0]):
        alpha = x.labor_share[p]
        P[P_COEF, p] = (1.0 - alpha) / alpha
        P[P_ALPHA, p] = alpha
        P[P_LABOR, p] = x.labor[p]
        P[P_1MA, p] = 1.0 - alpha
        for i in range(x.price.shape[1]):
            T[T_PQ, p, i] = x.price[p, i] * (1.0 + x.subsidy[p, i])
            T[T_PROD, p, i] = x.productivity[p, i]
            T[T_THETA, p, i] = x.externality[p, i]
            T[T_NETC, p, i] = (1.0 - x.cost_subsidy[p, i]) * x.cost[p, i]
            T[T_COST, p, i] = x.cost[p, i]
            nsigma += x.cost_subsidy[p, i] != 0.0
    return nsigma


@jit
def _stage2(x, T, P, sec, pt, gs):
    """From the logs (and log1p theta_i): lqa, log m_i(1), k_i, b0_i, the
    scaling c0, the sectors' kinds, log u_i, log K_i; the arguments of the exps;
    no GE-path samples yet at the points with some eta_i > 0 (gs NaN:
    kernels/etapath.py fills them; the others' are never read). Returns
    the number of sectors with log m_i(1) > EXPM1_SWITCH."""
    big = 0
    for p in range(x.labor.shape[0]):
        alpha = x.labor_share[p]
        eps = 1.0 / (1.0 - alpha)
        logalpha = P[P_ALPHA, p]
        s = sec[p]
        eta0 = True
        c0 = -np.inf
        for i in range(x.price.shape[1]):
            eta = x.scale[p, i]
            lqa = T[T_PQ, p, i] + T[T_PROD, p, i]
            s.lqa[i] = lqa
            s.eta[i] = eta
            s.tau[i] = x.subsidy[p, i]
            s.sigma[i] = x.cost_subsidy[p, i]
            s.cost[i] = x.cost[p, i]
            theta = x.externality[p, i]
            s.theta[i] = theta
            logm1 = eps * T[T_THETA, p, i]
            s.logm1[i] = logm1
            if eta == 0.0:  # (the same values: x / 1.0 is x)
                s.k[i] = eps
                s.b0[i] = eps * (logalpha + lqa)
            else:
                denom = 1.0 - eps * eta
                s.k[i] = eps / denom
                s.b0[i] = eps * (logalpha + lqa) / denom
            if eta != 0.0:
                eta0 = False
            if eps * lqa + logm1 > c0:
                c0 = eps * lqa + logm1
            if theta == 0.0:
                kind = KIND_INERT
            elif (1.0 - x.cost_subsidy[p, i]) * x.cost[p, i] == 0.0:
                kind = KIND_SPONT
            else:
                kind = KIND_CAND
            s.kind[i] = kind
            s.s0[i] = 1.0 if kind == KIND_SPONT else 0.0
        fast = eta0
        if not eta0:
            for i in range(x.price.shape[1]):
                gs[p, i, 0] = np.nan
        logl = P[P_LABOR, p]
        log1ma = P[P_1MA, p]
        for i in range(x.price.shape[1]):
            logu = eps * s.lqa[i] - c0
            s.logu[i] = logu
            s.logk[i] = log1ma + logu + alpha * logl + (1.0 - alpha) * c0
            if logu < -FAST_RANGE:
                fast = False
            T[T_XA, p, i] = logu
            T[T_XB, p, i] = logu + s.logm1[i]
            a = s.logm1[i]
            T[T_EM1, p, i] = a if a <= EXPM1_SWITCH else 0.0
            T[T_EM1BIG, p, i] = -a if a > EXPM1_SWITCH else 0.0
            if a > EXPM1_SWITCH:
                big += 1
        pt.alpha[p] = alpha
        pt.eps[p] = eps
        pt.labor[p] = x.labor[p]
        pt.logcoef[p] = P[P_COEF, p]
        pt.logalpha[p] = logalpha
        pt.c0[p] = c0
        pt.eta0[p] = eta0
        pt.fast[p] = fast
    return big


@jit
def _stage3(x, T, P, knet, valid, sec, pt, tx, tw, tc):
    """From the exps: the scaled terms xa_i, xb_i, ya_i, yb_i, X^ at S0,
    log(exp(log m_i(1)) - 1) and the threshold wages (their exps next);
    which points use the profile table, and its sums (kernels/table.py;
    their logs next). knet: the row of T holding log((1 - sigma_i) c_i)."""
    ntab = tx.shape[1]
    for p in range(x.labor.shape[0]):
        alpha = pt.alpha[p]
        eps = pt.eps[p]
        logcoef = pt.logcoef[p]
        s = sec[p]
        xa0 = 0.0
        for i in range(x.price.shape[1]):
            xa = T[T_XA, p, i]
            xb = T[T_XB, p, i]
            tau = s.tau[i]
            s.xa[i] = xa
            s.xb[i] = xb
            if tau == 0.0:  # (the same values: x / 1.0 is x)
                s.ya[i] = xa
                s.yb[i] = xb
            else:
                s.ya[i] = xa / (1.0 + tau)
                s.yb[i] = xb / (1.0 + tau)
            xa0 += xb if s.s0[i] == 1.0 else xa
            logm1 = s.logm1[i]
            lem1 = T[T_EM1, p, i] if logm1 <= EXPM1_SWITCH else logm1 + T[T_EM1BIG, p, i]
            s.lem1[i] = lem1
            s.logc[i] = T[T_COST, p, i]
            # threshold wages: at s_i = 1, log R_i(x) = log((1-a)/a) + x
            # + log L_i(x) - log m_i(1) is affine in x, so Delta_i(1, x) = 0
            # is closed form for every eta_i (MODEL.md's formula when eta_i = 0)
            kind = s.kind[i]
            if kind == KIND_INERT:
                xbar = np.nan
            elif kind == KIND_SPONT:
                xbar = np.inf
            else:
                eta = s.eta[i]
                # log R_i(x) = coef + b + (1 - k) x - logm1, and
                # 1 - k = -eps (alpha + eta_i) / (1 - eps eta_i) (no cancellation)
                if eta == 0.0:  # (the same values: x / 1.0 is x)
                    b = s.b0[i] + logm1
                    one_minus_k = -eps * alpha
                else:
                    denom = 1.0 - eps * eta
                    b = s.b0[i] + logm1 / denom
                    one_minus_k = -eps * (alpha + eta) / denom
                target = T[knet, p, i] - lem1
                xbar = (target - logcoef - b + logm1) / one_minus_k
            s.xbar[i] = xbar
            T[T_WBAR, p, i] = xbar
        pt.xa0[p] = xa0
        P[P_XA0, p] = xa0
        table = valid[p] and pt.fast[p] and ntab == (np.int64(1) << x.price.shape[1])
        pt.table[p] = table
        pt.wagefail[p] = False
        if table:
            fill_sums(s, tx[p], tw[p], tc[p])
        else:
            tx[p, :] = 1.0
            tw[p, :] = 0.0
            tc[p, :] = 0.0


@jit
def _stage4(T, P, sec, pt, tx, ew, gc):
    """The rest: w-bar_i, log X^0; at the points with a table, log w of
    every profile (tx: log X^ on entry; ew: the same, its exp next) and,
    with every eta_i = 0 (those the block kernel solves by kernels/point.py
    ``solve_tabled_point``), each candidate sector's
    log((g_i(1) + c') / c_i) = log R_i + lem1_i - log c_i at
    x1 = log w(S0 u {i}) (economy.log_rent_full with eta_i = 0, in
    solve_tabled_point's order; its exp next); 0 elsewhere."""
    ntab = tx.shape[1]
    for p in range(pt.shape[0]):
        s = sec[p]
        n = s.shape[0]
        for i in range(n):
            s.wbar[i] = T[T_WBAR, p, i]
        fast = pt.fast[p]
        pt.logl[p] = P[P_LABOR, p]
        pt.logxa0[p] = P[P_XA0, p] if fast else np.nan
        if not fast:
            pt.xa0[p] = np.nan
        if not pt.table[p]:
            for m in range(ntab):
                ew[p, m] = tx[p, m]
            for i in range(n):
                gc[p, i] = 0.0
            continue
        # log w = log alpha + (1 - alpha)(log X^ + c0 - log L)
        a = pt.logalpha[p]
        b = 1.0 - pt.alpha[p]
        c0 = pt.c0[p]
        logl = pt.logl[p]
        for m in range(ntab):
            v = a + b * (tx[p, m] + c0 - logl)
            tx[p, m] = v
            ew[p, m] = v
        zmask = np.int64(0)
        for i in range(n):
            if s.kind[i] == KIND_SPONT:
                zmask |= np.int64(1) << i
        logcoef = pt.logcoef[p]
        for i in range(n):
            if s.kind[i] != KIND_CAND:
                gc[p, i] = 0.0
                continue
            x1 = tx[p, zmask | (np.int64(1) << i)]
            logm1 = s.logm1[i]
            logl = s.b0[i] + logm1 - s.k[i] * x1
            logrent = logcoef + x1 + logl - logm1
            gc[p, i] = logrent + s.lem1[i] - s.logc[i]


def _inplace(f, a):
    f(a, out=a)


def prepare_block(x, prep, wage=0):
    """Fill prep (kernels/point.py Prepared) for the Inputs block x: which
    points are inside MODEL.md's domains, their constants, their profile
    tables (wage: the run's wage variant code, kernels/solvers.py; the
    points with some eta_i > 0 get a table only with the default, 0,
    kernels/etatable.py; None: never)."""
    T, P = prep.tmp, prep.ptmp
    block_in_domain(x, prep.valid)
    with np.errstate(all="ignore"):  # points outside the domains: NaN, inf
        nsigma = _stage1(x, T, P)
        _inplace(np.log, T[T_PQ:T_NETC + 1] if nsigma else T[T_PQ:T_COST + 1])
        _inplace(np.log1p, T[T_THETA])
        _inplace(np.log, P[P_COEF:P_1MA + 1])
        big = _stage2(x, T, P, prep.sec, prep.pt, prep.gs)
        _inplace(np.exp, T[T_XA:T_XB + 1])
        _inplace(np.expm1, T[T_EM1])
        _inplace(np.log, T[T_EM1])
        if big:  # (read by _stage3 only where log m_i(1) > EXPM1_SWITCH)
            _inplace(np.exp, T[T_EM1BIG])
            _inplace(np.negative, T[T_EM1BIG])
            _inplace(np.log1p, T[T_EM1BIG])
        _stage3(x, T, P, T_NETC if nsigma else T_COST, prep.valid, prep.sec, prep.pt,
                prep.tx, prep.tw, prep.tc)
        _inplace(np.log, P[P_XA0])
        _inplace(np.exp, T[T_WBAR])
        # the table's passes where some point has one (a block of points
        # with eta_i > 0 has none here: kernels/etatable.py fills theirs)
        tabled = prep.tx.shape[1] > 0 and prep.pt["table"].any()
        if tabled:
            _inplace(np.log, prep.tx)
        _stage4(T, P, prep.sec, prep.pt, prep.tx, prep.te, prep.gc)
        if tabled:
            _inplace(np.exp, prep.te)
            welfare_rows(prep.pt, prep.te, prep.tw, prep.tc)
            _inplace(np.exp, prep.gc)
    if wage is not None:
        finish_eta_table(prep, wage)
