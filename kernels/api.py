"""Python entry points of the kernels: check and name the inputs, allocate
the outputs, call the block kernel.

Every entry point takes the parameters of kernels.params by name (or in
the table's order), with the table's defaults for the trailing ones
(``scale``, ``subsidy``, ``cost_subsidy``); inside, they travel as an
:data:`~kernels.params.Inputs` namedtuple and the results as an
:data:`~kernels.outputs.Outputs` one, never by position.

The optional outputs (CONTRACT.md ``[outputs]``; ``solve(...,
equilibria=K, dynamics=K, dynamics_seed=S)``) are computed after the block
kernel, on the same prepared sub-block, by two more passes; a call that
asks for neither runs exactly the passes it ran without them:

- ``equilibria = K``: kernels/eqlist.py ``list_block`` (the K best stable
  equilibria);
- ``dynamics = K``: kernels/dynamics.py ``dynamics_block(x, prep, out, dyn,
  k, seed)``, a Python-level function: x the sub-block's Inputs, prep its
  Prepared (kernels/point.py), out its Outputs after the block kernel
  and the lock-step pass (read: welfare_nc, welfare_best_eq,
  coop_best_eq, ...; it may add bits to out.status), dyn {name: (P,)
  float64 array} of kernels/outputs.py's DYNAMICS_OUTPUTS to fill, k the
  number of starts, seed ``dynamics_seed``. Results at a point depend on
  that point's inputs, k and seed only.
"""
import inspect
import threading

import numpy as np

from coordsweep.kernels import solvers
from coordsweep.kernels.economy import path_g
from coordsweep.kernels.jit import jit
from coordsweep.kernels.etapath import finish_eta_paths, sample_eta_paths
from coordsweep.kernels.lockstep import finish_block
from coordsweep.kernels.outputs import (
    MAX_DYNAMICS, MAX_EQUILIBRIA, Outputs, allocate_optional, allocate_outputs as _allocate)
from coordsweep.kernels.params import DEFAULTS, MAX_SECTORS, PARAMS, Inputs
from coordsweep.kernels.point import (
    allocate_prepared, allocate_scratch, finish_sampled, prepared_head, solve_block,
    solve_point_into,
    workspace_at)
from coordsweep.kernels.prepare import prepare_block
from coordsweep.kernels.table import TABLE_ENTRIES, table_size

#: the block kernel runs on sub-blocks of at most this many point-sectors
#: (P N), and of at most TABLE_ENTRIES profile-table entries (2^N a point):
#: the per-thread buffers (kernels/point.py Prepared: ~250 bytes per
#: point-sector with the GE-path samples, and the queues of deferred
#: critical masses, kernels/lockstep.py, kernels/samplepath.py and
#: kernels/etapath.py, 160) stay within ~14 MB, so that what one pass writes
#: is still in the caches when the next reads it, and a sub-block is large
#: enough (~11,000 points at N = 3) for the fixed cost of its passes (some
#: 60 NumPy and numba calls, and the lock-step searches' steps) to be small
#: a point. On random points at N = 3 with every eta_i = 0 (the passes of
#: benchmarks/eta_passes.py, sizes alternated in one process) 2^15 took
#: 1-5% less time a point than 2^14, 2^16 more than either (the prepare
#: pass's arrays leave the caches); with some eta_i > 0 they were within 2%.
#: From N = 6 on the table's bound is the smaller one.
QUEUE_ENTRIES = 1 << 15
_WAGE_NEWTON = solvers.code("wage", "newton")
_PATH_LOCKSTEP = solvers.code("path", "lockstep")


def _trailing_defaults():
    """Parameters that may be left out: those with a default after which
    every parameter has one (so positional calls keep the table's order)."""
    names = set()
    for p in reversed(PARAMS):
        if p.default is None:
            break
        names.add(p.name)
    return names


_OPTIONAL = _trailing_defaults()
_SIGNATURE = inspect.Signature([
    inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                      default=None if p.name in _OPTIONAL else inspect.Parameter.empty)
    for p in PARAMS])


def _params(func, args, kwargs):
    """{name: value} of the parameters passed to func(*args, **kwargs)."""
    try:
        return _SIGNATURE.bind(*args, **kwargs).arguments
    except TypeError as e:
        raise TypeError(f"{func.__name__}(): {e}") from None


def _signed(**extra):
    """Show the table's parameters (then the keyword-only extra ones) as
    the signature of an entry point func(*args, <extra>, **kwargs)."""
    def sign(func):
        func.__signature__ = _SIGNATURE.replace(parameters=[
            *_SIGNATURE.parameters.values(),
            *(inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v)
              for k, v in extra.items())])
        return func
    return sign


def make_inputs(params):
    """An Inputs block from {name: values}: per-point parameters as (P,),
    per-sector ones as (P, N), C-contiguous float64; None or a missing
    parameter with a default takes the table's default."""
    point = {}
    for p in PARAMS:
        if p.per == "point":
            v = np.ascontiguousarray(params[p.name], dtype=np.float64)
            if v.ndim != 1:
                raise ValueError(f"{p.name} must be a 1-D array, got shape {v.shape}")
            point[p.name] = v
    npts = len(next(iter(point.values())))
    if any(v.shape != (npts,) for v in point.values()):
        raise ValueError(f"{', '.join(point)} must be 1-D arrays of equal length")
    shape = None
    sector = {}
    for p in PARAMS:
        if p.per != "sector" or params.get(p.name) is None:
            continue
        v = np.ascontiguousarray(params[p.name], dtype=np.float64)
        if v.ndim != 2 or v.shape[0] != npts:
            raise ValueError(f"{p.name} must have shape (P, N) with P = {npts}, got {v.shape}")
        if shape is None:
            shape = v.shape
        elif v.shape != shape:
            raise ValueError(f"{p.name} has shape {v.shape}, expected {shape}")
        sector[p.name] = v
    for p in PARAMS:
        if p.per == "sector" and p.name not in sector and p.default is None:
            raise ValueError(f"missing sector parameter {p.name!r}")
    if not 1 <= shape[1] <= MAX_SECTORS:
        raise ValueError(f"number of sectors must be in 1..{MAX_SECTORS}, got {shape[1]}")
    for p in PARAMS:
        if p.per == "sector" and p.name not in sector:
            sector[p.name] = np.full(shape, DEFAULTS[p.name])
    return Inputs(**point, **sector)


def _one_point(params):
    """Inputs block of one point: scalars and length-N sequences."""
    row = {}
    for p in PARAMS:
        v = params.get(p.name)
        if v is None:
            row[p.name] = None
        elif p.per == "point":
            row[p.name] = [v]
        else:
            row[p.name] = np.atleast_1d(np.asarray(v, np.float64))[None, :]
    return make_inputs(row)


def allocate_outputs(npts, nsec):
    """Empty output arrays for a block, keyed by output name."""
    return _allocate(npts, nsec)._asdict()


def _block_kernel(solver):
    """(solve_block, codes) for a solver (kernels/solvers.py): the cached
    block kernel for the built-in variants; for a user's wage function, a
    relinked build with it in the wage slot (kernels/relink.py)."""
    parsed = solvers.parse(solver)
    codes = solvers.codes(parsed)
    if not solvers.is_user(parsed.wage):
        return solve_block, codes
    from coordsweep.kernels import relink, wages
    fn = solvers.load_user(parsed.wage)
    return relink.build({wages.user_wage: fn})["solve_block"], codes


def _optional(npts, equilibria, dynamics, dynamics_seed, out=None):
    """The optional outputs' arrays ({name: array}, allocated unless in
    out) and their parameters, or None when none is asked for."""
    for name, k, top in (("equilibria", equilibria, MAX_EQUILIBRIA),
                         ("dynamics", dynamics, MAX_DYNAMICS)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= top:
            raise ValueError(f"{name} must be an integer in 0..{top}, got {k!r}")
    if not equilibria and not dynamics:
        return None
    arrays = allocate_optional(npts, int(equilibria), int(dynamics))
    if out is not None:
        arrays = {name: out.get(name, a) for name, a in arrays.items()}
    return {"equilibria": int(equilibria), "dynamics": int(dynamics),
            "seed": int(dynamics_seed), "arrays": arrays}


@_signed(out=None, solver=None, equilibria=0, dynamics=0, dynamics_seed=0)
def solve(*args, out=None, solver=None, equilibria=0, dynamics=0, dynamics_seed=0,
          **kwargs):
    """Solve a block of P points. labor, labor_share: shape (P,); sector
    parameters: shape (P, N) (None: the default). out: {output name:
    array} to fill (else allocated). solver: the solver variants
    (kernels/solvers.py: None for the defaults, "wage=brent,...", a dict).
    equilibria, dynamics, dynamics_seed: the optional outputs
    (CONTRACT.md ``[outputs]``; 0: none). Returns {output name: array}."""
    x = make_inputs(_params(solve, args, kwargs))
    npts, nsec = x.price.shape
    opt = _optional(npts, equilibria, dynamics, dynamics_seed, out)
    res = _allocate(npts, nsec) if out is None else Outputs(
        **{name: out[name] for name in Outputs._fields})
    kernel, codes = _block_kernel(solver)
    _run(kernel, codes, x, res, opt)
    if out is not None:
        if opt is not None:
            out.update(opt["arrays"])
        return out
    return res._asdict() if opt is None else {**res._asdict(), **opt["arrays"]}


_POOL = threading.local()


def _buffers(nsec, step, codes):
    """Scratch and prepared-block arrays for sub-blocks of `step` points,
    kept per thread and reused by the next block of the same shape (fresh
    arrays of tens of MB per block cost page faults: ~5% of the time)."""
    key = (nsec, step, tuple(codes))
    pool = getattr(_POOL, "buffers", None)
    if pool is None or pool[0] != key:
        pool = (key, allocate_scratch(nsec, solver=codes, queue=step * nsec),
                allocate_prepared(step, nsec))
        _POOL.buffers = pool
    return pool[1], pool[2]


def _run(solve_block, codes, x, res, opt=None):
    """The block kernel on x into res, by sub-blocks (kernels/point.py:
    prepare, sample in lock-step the GE paths with some eta_i > 0 that
    need samples (kernels/etapath.py; default wage and path variants),
    solve, then the lock-step searches of the critical masses the block
    deferred), then the optional outputs' passes (opt: from _optional, or
    None)."""
    npts, nsec = x.price.shape
    step = max(1, min(QUEUE_ENTRIES // nsec, TABLE_ENTRIES // max(1, table_size(nsec))))
    step = min(step, npts)
    scr, prep = _buffers(nsec, step, codes)
    for start in range(0, npts, step):
        stop = min(start + step, npts)
        if start == 0 and stop == npts:
            xs, rs, ps = x, res, prep
        else:
            xs = Inputs(*(a[start:stop] for a in x))
            rs = Outputs(*(a[start:stop] for a in res))
            ps = prepared_head(prep, stop - start)
        prepare_block(xs, ps, codes[0])
        if codes[0] == _WAGE_NEWTON and codes[2] == _PATH_LOCKSTEP:
            sample_eta_paths(ps, scr)
        scr.qlen[0] = 0  # (a pooled scratch: nothing left from an aborted block)
        scr.glen[0] = 0
        scr.slen[0] = 0
        solve_block(xs, scr, rs, ps)
        finish_block(scr, rs)
        finish_sampled(scr, rs, ps)
        finish_eta_paths(scr, rs, ps)
        if opt is not None:
            _run_optional(xs, ps, scr, rs, opt, slice(start, stop))


def _run_optional(xs, ps, scr, rs, opt, rows):
    """The optional outputs of one prepared sub-block (rows: its points)."""
    a = opt["arrays"]
    if opt["equilibria"]:
        from coordsweep.kernels.eqlist import LIST_AUTO, list_block
        list_block(ps, scr, a["eq_mask"][rows], a["eq_welfare"][rows], a["eq_wage"][rows],
                   a["eq_listed"][rows], rs.status, LIST_AUTO)
    if opt["dynamics"]:
        from coordsweep.kernels.dynamics import dynamics_block
        from coordsweep.kernels.outputs import DYNAMICS_OUTPUTS
        dynamics_block(xs, ps, rs, {o.name: a[o.name][rows] for o in DYNAMICS_OUTPUTS},
                       opt["dynamics"], opt["seed"])


@_signed(solver=None)
def solve_point(*args, solver=None, **kwargs):
    """Solve one point (sector parameters as length-N sequences).
    Returns point outputs as numpy scalars, sector outputs as (N,) arrays."""
    x = _one_point(_params(solve_point, args, kwargs))
    out = _allocate(1, x.price.shape[1])
    kernel, codes = _block_kernel(solver)
    _run(kernel, codes, x, out)
    return {name: (v[0] if v.ndim == 1 else v[0].copy())
            for name, v in out._asdict().items()}


@_signed(limit=1 << 20)
def equilibrium_masks(*args, limit=1 << 20, **kwargs):
    """Sorted bitmasks (bit i = sector i) of every stable equilibrium."""
    x = _one_point(_params(equilibrium_masks, args, kwargs))
    nsec = x.price.shape[1]
    out = _allocate(1, nsec)
    scr = allocate_scratch(nsec, record=limit)
    nrec = solve_point_into(x, 0, _prepared_point(x), scr, out)
    if out.n_equilibria[0] > limit:
        raise ValueError(f"{out.n_equilibria[0]} equilibria exceed limit={limit}")
    return np.sort(scr.record[:nrec])


@_signed(k=16, method="auto")
def equilibrium_list(*args, k=16, method="auto", **kwargs):
    """The k best stable equilibria of one point, best first (MODEL.md
    "Every equilibrium"): (masks int64, W, w), arrays of length
    min(n_equilibria, k). method: "auto", "dfs" or "bb" (kernels/eqlist.py;
    every method gives the same list)."""
    from coordsweep.kernels import eqlist
    codes = {"auto": eqlist.LIST_AUTO, "dfs": eqlist.LIST_DFS, "bb": eqlist.LIST_BB}
    if method not in codes:
        raise ValueError(f"method must be one of {', '.join(codes)}, got {method!r}")
    x = _one_point(_params(equilibrium_list, args, kwargs))
    opt = _optional(1, k, 0, 0)["arrays"]
    status = np.zeros(1, np.int8)
    eqlist.list_block(_prepared_point(x), allocate_scratch(x.price.shape[1]), opt["eq_mask"],
                      opt["eq_welfare"], opt["eq_wage"], opt["eq_listed"], status,
                      codes[method])
    n = int(opt["eq_listed"][0])
    return (opt["eq_mask"][0, :n].astype(np.int64), opt["eq_welfare"][0, :n].copy(),
            opt["eq_wage"][0, :n].copy())


def _prepared_point(x):
    """The one point of the Inputs block x, prepared (kernels/prepare.py)."""
    prep = allocate_prepared(1, x.price.shape[1])
    prepare_block(x, prep)
    return prep


def point_workspace(x):
    """The workspace of the one point of the Inputs block x (for the
    diagnostic entry points and the tests), and whether the point is
    inside MODEL.md's domains."""
    prep = _prepared_point(x)
    scr = allocate_scratch(x.price.shape[1])
    return workspace_at(prep, 0, scr), bool(prep.valid[0])


@jit
def _ge_path(ws, i, s, g):
    for k in range(s.shape[0]):
        g[k] = path_g(s[k], ws, i)


@_signed(sector=inspect.Parameter.empty, s=inspect.Parameter.empty)
def ge_path(*args, sector, s, **kwargs):
    """g_i(s) = Delta_i(s, w_i(s)) for sector i at shares s (others at S0)."""
    x = _one_point(_params(ge_path, args, kwargs))
    s = np.ascontiguousarray(s, dtype=np.float64)
    g = np.empty_like(s)
    ws, valid = point_workspace(x)
    if not valid:
        raise ValueError("parameters outside MODEL.md's domains")
    _ge_path(ws, int(sector), s, g)
    return g


def _inside(p):
    """A value inside parameter p's domain (kernels.params): its default,
    else the middle of a bounded domain, else one above its lower end."""
    if p.default is not None:
        return p.default
    return (p.low + p.high) / 2 if np.isfinite(p.high) else p.low + 1.0


#: the warm-up's block: points drawn like the benchmarks' (kernels/params.py
#: varied_points), with every eta_i = 0 and with some eta_i > 0
WARM_POINTS = 256
WARM_SEED = 20261205


def warm_block(nsec=3, solver=None, points=WARM_POINTS, **outputs):
    """Solve a small block of varied points once, with every eta_i = 0
    and with eta_i > 0 (`points` each, a fixed seed; outputs: the optional
    outputs, as ``solve`` takes them), so that the passes only some points
    need (the lock-step searches of kernels/lockstep.py, samplepath.py and
    etapath.py, the certificate's pieces) are compiled or loaded from
    numba's cache now rather than in the first block that needs them."""
    from coordsweep.kernels.params import varied_points
    rng = np.random.default_rng([WARM_SEED, nsec])
    for eta in (False, True):
        solve(**varied_points(rng, points, nsec, eta), solver=solver, **outputs)


def warmup(nsec=2):
    """Compile the entry points' machine code (or load it from numba's
    cache): the block kernel (every built-in solver variant, any N, eta
    and block size: one specialisation) with every pass a block may run
    (:func:`warm_block` by the default solver and by one that solves
    every point on its own, ``equilibria=brute``; the optional outputs'
    passes), ``equilibrium_masks``' point kernel and ``ge_path``. Run it
    once, in ONE process, before many processes start (numba's cache is
    not safe against processes compiling the same function at once).
    Returns {entry point: seconds}."""
    import time
    one = {p.name: _inside(p) if p.per == "point" else [_inside(p)] * nsec for p in PARAMS}
    # and a point with eta > 0: its profile table's passes (kernels/etatable.py)
    eta = dict(one, scale=[0.25 * (1.0 - one["labor_share"])] * nsec)
    seconds = {}
    for name, call in (("solve", lambda: (solve_point(**one), solve_point(**eta))),
                       ("block", lambda: (warm_block(nsec), warm_block(nsec, "equilibria=brute"),
                                          warm_block(nsec, points=16, equilibria=2,
                                                     dynamics=2))),
                       ("equilibrium_masks", lambda: equilibrium_masks(**one)),
                       ("ge_path", lambda: ge_path(**one, sector=0, s=np.array([0.5])))):
        t = time.perf_counter()
        call()
        seconds[name] = time.perf_counter() - t
    return seconds


def cache_dir():
    """Where numba keeps the kernels' cache (None when caching is off)."""
    return getattr(getattr(solve_block, "_cache", None), "_cache_path", None)
