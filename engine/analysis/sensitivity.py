"""Sensitivity indices of an output over a store (``coordsweep sensitivity``):
the numerics (SALib). Rendering is engine/analysis/sensitivity_text.py
(JSON, text), charts and the report section engine/viz/sensitivity_plot.py.

``indices(ds, var, sector=None, category=None, method=None)`` returns an
xarray Dataset over ``param``:

- ``sobol`` (a sobol design only: Saltelli's points): ``S1``, ``S1_conf``,
  ``ST``, ``ST_conf`` (and ``S2``, ``S2_conf`` over ``param`` x
  ``param_2`` with ``second_order``), SALib's ``sobol.analyze`` with
  bootstrap confidence intervals, one analysis per value of the sweep
  axes (dims: the axes, then ``param``);
- ``morris`` (a morris design only: its trajectories): ``mu``,
  ``mu_star``, ``mu_star_conf``, ``sigma`` (SALib's ``morris.analyze``);
- given-data methods, on any store (``lhs``, ``random``, ``sobol``,
  ``morris`` designs and grids; the parameters are the axes of more than
  one value and the design's parameters, log-spaced ones in log): SALib's
  ``delta`` (Borgonovo's moment-independent delta as SALib 1.6 gives it:
  ``delta_raw``, ``delta_balanced``, ``delta_step``, each with ``_conf``,
  and ``S1``, ``S1_conf``; slow, see ``DELTA_COST``), ``pawn`` (``minimum``, ``mean``,
  ``median``,
  ``maximum``, ``CV``, ``stdev`` of the KS statistics over the
  conditioning slices), ``rbd_fast`` (``S1``, ``S1_conf``), ``hdmr``
  (first-order terms: ``S``, ``S_conf``, ``Sa``, ``Sa_conf``, ``Sb``,
  ``Sb_conf``, ``ST``, ``ST_conf``) and ``discrepancy``
  (``s_discrepancy``), each called as ``analyze(problem, X, Y, seed=...)``
  with SALib's defaults otherwise (and numpy's global generator seeded
  with the same seed for the call: SALib 1.6's ``hdmr`` draws from it
  whatever its ``seed``). Their cost grows with the number of points
  (``delta`` and ``discrepancy`` above all), so a store with more than
  ``GIVEN_DATA_MAX[method]`` points is analysed on a uniform random sample
  of that many (seeded; ``points`` and ``used`` say so); ``max_points``
  sets another limit.
  Other SALib analyses (``fast``, ``dgsm``, ``ff``...) need their own
  sampling designs, which the engine does not generate.

Outputs that are not continuous numbers:

- categorical outputs (``regime``, ``target_*``) need ``category``: the
  analysis is of the indicator "the output is that category" (a regime
  name, a sector name); ``n_equilibria`` takes ``category = "multiple"``
  (n_equilibria > 1) or a count; booleans are analysed as 0/1 (or, with
  ``category`` true or false, as the indicator of that value); ``eq_*``
  outputs take ``equilibrium``, a rank in the list
  (engine/analysis/target.py);
- an output that is NaN or infinite anywhere in the analysed points
  (e.g. ``critical_mass`` outside regimes 1-3) is refused (``UsageError``)
  with the share of such points and what to analyse instead: the
  estimators cannot skip points, and an imputed value would be an
  invented one (the trap of SALib issue #273);
- points with a non-zero ``status`` are counted, by bit, in the result
  (``status_nonzero``, ``status_bits``) and by the command line;
- an output constant over a design (no variance: its spread within
  CONSTANT_RTOL of its size, rounding) gets NaN indices and
  ``constant = True``; constant everywhere is refused.
"""
import warnings

import numpy as np

from coordsweep.engine.analysis.results import status_counts
from coordsweep.engine.analysis.space import (check_complete, check_refined, equilibria,
                                              parameters, sample_points, store_spec,
                                              store_vars)
from coordsweep.engine.analysis.target import Target
from coordsweep.engine.errors import UsageError

DESIGN_METHODS = {"sobol": ("S1", "S1_conf", "ST", "ST_conf"),
                  "morris": ("mu", "mu_star", "mu_star_conf", "sigma")}
#: given-data methods: the indices kept (per parameter)
GIVEN_DATA = {"delta": ("delta_raw", "delta_raw_conf", "delta_balanced", "delta_balanced_conf",
                        "delta_step", "delta_step_conf", "S1", "S1_conf"),
              "pawn": ("minimum", "mean", "median", "maximum", "CV", "stdev"),
              "rbd_fast": ("S1", "S1_conf"),
              "hdmr": ("S", "S_conf", "Sa", "Sa_conf", "Sb", "Sb_conf", "ST", "ST_conf"),
              "discrepancy": ("s_discrepancy",)}
#: SALib 1.6's delta is linear in the points, not quadratic, but slow: per
#: parameter, 3 variants x (num_resamples + 1) estimates, each a Gaussian KDE
#: of all the points and one per class of points (up to 48), evaluated on 100
#: values of Y. Measured (3 parameters, 2 shared cores, noisy): 1,000 points
#: 19-28 s at 100 resamples, 2.8 s at 10; 16,000 points at 10 resamples 59 s.
DELTA_COST = "points x parameters x (resamples + 1) kernel density estimates"
#: at most this many points per given-data analysis (a random sample beyond)
GIVEN_DATA_MAX = {"delta": 1_000, "pawn": 200_000, "rbd_fast": 200_000, "hdmr": 10_000,
                  "discrepancy": 5_000}
#: the harmonics SALib's rbd_fast sums (its default M)
RBD_HARMONICS = 10
#: at least this many points per given-data analysis: SALib 1.6's hdmr
#: refuses fewer; rbd_fast corrects its estimate's bias by 2M / n, which
#: divides by zero at n = 2M and has the wrong sign below, and its
#: bootstrap intervals take half the points: n / 2 > 2M
GIVEN_DATA_MIN = {"hdmr": 300, "rbd_fast": 2 * (2 * RBD_HARMONICS + 1)}
METHOD_INDICES = {**DESIGN_METHODS, **GIVEN_DATA}
METHODS = tuple(METHOD_INDICES)
#: an output whose spread is within this share of its size is constant: the
#: kernels' floats are good to about 1e-13 relative, and an output that
#: does not depend on the design's parameters may still differ in its last
#: bits from point to point (the same value reached by other operations);
#: indices of that rounding noise would mean nothing
CONSTANT_RTOL = 1e-12


def _constant(y):
    """Whether the finite values y are one number up to rounding."""
    return bool(np.ptp(y) <= CONSTANT_RTOL * np.max(np.abs(y)))


def _given_list():
    return "|".join(GIVEN_DATA)


def design_spec(ds, method=None):
    """(the Spec a store was written from, the method to use): ``method``
    or the store's sobol/morris design's; UsageError when it does not fit
    the store."""
    spec = store_spec(ds)
    if method is not None and method not in METHOD_INDICES:
        raise UsageError(f"--method {method!r}: not a sensitivity method "
                         f"({', '.join(METHODS)})")
    design = spec.design.method if spec.design is not None else None
    if method is None:
        if design in DESIGN_METHODS:
            return spec, design
        what = ("a grid without a [design]" if design is None
                else f"a {design!r} design")
        raise UsageError(f"the store holds {what}: pass --method {_given_list()} (given-data "
                         "indices); sobol and morris indices need their own designs "
                         "(CONTRACT.md \"Sampling designs\")")
    if method in DESIGN_METHODS and method != design:
        what = "a grid without a [design]" if design is None else f"a {design!r} design"
        raise UsageError(f"--method {method}: {method} indices are tied to a {method} design "
                         f"({'Saltelli' if method == 'sobol' else 'Morris'}'s points), the store "
                         f"holds {what}; on this store use --method {_given_list()}")
    return spec, method


def select_output(ds, spec, var, sector=None, category=None, equilibrium=None):
    """(DataArray over the axes and ``sample`` as float64, a label);
    equilibrium: the rank in the list (``eq_*`` outputs)."""
    target = Target.parse(var, sector, category, spec.sector_names,
                          store_vars=store_vars(ds), equilibria=equilibria(ds),
                          equilibrium=equilibrium)
    return target.of_store(ds), target.label


def _status_counts(status):
    """(points with a non-zero status, {bit name: points} of the bits set)."""
    c = status_counts(status)
    return c.computed - c.ok, {name: n for name, n in c.bits.items() if n}


def _refuse_nonfinite(y, label, var, sector, spec, where):
    bad = ~np.isfinite(y)
    if not bad.any():
        return
    n_nan, n_inf = int(np.isnan(y).sum()), int(np.isinf(y).sum())
    what = " and ".join(t for t in (f"NaN at {n_nan:,}" if n_nan else "",
                                    f"infinite at {n_inf:,}" if n_inf else "") if t)
    hint = (f"--var regime --sector {sector} --category coordination_failure"
            if sector is not None else "--var n_equilibria --category multiple")
    raise UsageError(
        f"{label} is {what} of {y.size:,} design points{where} ({100 * bad.mean():.1f}%): "
        "MODEL.md leaves it undefined there (e.g. outside the regimes where it exists), and "
        "the estimators cannot skip points, so nothing is imputed. Analyse an "
        f"indicator instead (e.g. {hint}), or a conditional analysis: a design whose "
        "bounds keep the output defined")


def indices(ds, var, sector=None, category=None, *, method=None, conf_level=0.95,
            num_resamples=100, seed=1, max_points=None, equilibrium=None):
    """Sensitivity indices of ``var`` over a store: an xarray Dataset
    (see the module doc). ``ds`` is an opened store or its path. ``seed``
    (>= 1: SALib ignores a seed of 0 and draws from numpy's global state)
    makes the bootstrap intervals (and a given-data sample) reproducible."""
    if int(seed) < 1:
        raise ValueError("seed must be >= 1 (SALib ignores seed = 0)")
    import xarray as xr
    if not isinstance(ds, xr.Dataset):
        from coordsweep.engine.analysis.export import open_results
        ds = open_results(ds)
    spec, method = design_spec(ds, method)
    if max_points is not None:
        if method not in GIVEN_DATA:
            raise UsageError(f"--max-points: {method} analyses every point of its design; "
                             f"only the given-data methods ({', '.join(GIVEN_DATA)}) sample")
        if max_points < 10:
            raise UsageError(f"--max-points {max_points}: must be >= 10")
    if num_resamples < 2:
        raise UsageError(f"--resamples {num_resamples}: must be >= 2 (an interval needs a "
                         "spread)")
    check_complete(ds)
    da, label = select_output(ds, spec, var, sector, category, equilibrium)
    check_refined(ds, var, sector)
    if method in GIVEN_DATA:
        return _given_data(ds, spec, da, label, var, sector, category, method,
                           conf_level=conf_level, num_resamples=num_resamples, seed=seed,
                           max_points=max_points or GIVEN_DATA_MAX[method])
    return _design_indices(ds, spec, da, label, var, sector, category,
                           conf_level=conf_level, num_resamples=num_resamples, seed=seed)


def _design_indices(ds, spec, da, label, var, sector, category, *, conf_level,
                    num_resamples, seed):
    import xarray as xr
    from SALib.analyze import morris as salib_morris
    from SALib.analyze import sobol as salib_sobol
    design = spec.design
    axes = [a.name for a in spec.axes]
    da = da.transpose(*axes, "sample")
    y_all = np.asarray(da.values)
    n_status, status_bits = _status_counts(ds["status"].values)
    problem = design.problem()
    x = None
    if design.method == "morris":
        x = design.to_sampling_space(np.stack(
            [np.asarray(ds[n].values, dtype=np.float64) for n in design.names], axis=1))

    ax_shape = y_all.shape[:-1]
    names = DESIGN_METHODS[design.method]
    if design.method == "sobol" and design.second_order:
        names = names + ("S2", "S2_conf")
    out = {k: np.full(ax_shape + ((design.n_params,) * (2 if k.startswith("S2") else 1)),
                      np.nan) for k in names}
    constant = np.zeros(ax_shape, dtype=bool)
    for idx in np.ndindex(*ax_shape):
        y = np.ascontiguousarray(y_all[idx])
        where = "".join(f", {a} = {float(ds[a].values[i]):g}" for a, i in zip(axes, idx))
        _refuse_nonfinite(y, label, var, sector, spec, where and f" at{where[1:]}")
        if _constant(y):
            constant[idx] = True
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if design.method == "sobol":
                res = salib_sobol.analyze(problem, y, calc_second_order=design.second_order,
                                          num_resamples=num_resamples, conf_level=conf_level,
                                          seed=seed)
            else:
                res = salib_morris.analyze(problem, x, y, num_resamples=num_resamples,
                                           conf_level=conf_level, num_levels=design.levels,
                                           seed=seed)
        for k in names:
            out[k][idx] = np.asarray(res[k], dtype=np.float64)
    if constant.all():
        raise UsageError(f"{label} is the same ({y_all.ravel()[0]:g}) at every design point "
                         f"(within {CONSTANT_RTOL:g} relative): there is no variance to "
                         "apportion")
    coords = {a: ds[a].values for a in axes}
    coords["param"] = design.names
    dims = tuple(axes) + ("param",)
    data = {k: (dims + (("param_2",) if k.startswith("S2") else ()), v) for k, v in out.items()}
    if any(k.startswith("S2") for k in out):
        coords["param_2"] = design.names
    data["constant"] = (tuple(axes), constant)
    return xr.Dataset(data, coords=coords, attrs={
        "var": var, "sector": sector, "category": category, "label": label,
        "method": design.method, "samples": design.samples, "points": int(y_all.size),
        "used": int(y_all.size), "conf_level": conf_level, "num_resamples": num_resamples,
        "status_nonzero": n_status, "status_bits": status_bits})


def given_data_inputs(ds, spec, da, *, max_points, seed=1):
    """(names, problem, X (n, d) in the sampling space, Y (n,), total
    points): what a given-data method is handed (log-spaced parameters in
    log; bounds the data's range)."""
    params = parameters(ds, spec)
    y_all = np.asarray(da.values)
    flat, x = sample_points(list(da.dims), y_all.shape, params, max_points, seed)
    y = y_all.ravel() if flat is None else y_all.ravel()[flat]
    for k, (_, _, _, log) in enumerate(params):
        if log and np.all(x[:, k] > 0):
            x[:, k] = np.log(x[:, k])
    names = [p[0] for p in params]
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(x[:, k].min()), float(x[:, k].max())]
                          for k in range(len(names))]}
    return names, problem, x, np.ascontiguousarray(y, dtype=np.float64), int(y_all.size)


def run_given_data(method, problem, x, y, *, conf_level=0.95, num_resamples=100, seed=1):
    """SALib's analysis ``method`` on (x, y): {index: (d,) array}."""
    import importlib
    mod = importlib.import_module(f"SALib.analyze.{method}")
    kw = {"seed": seed}
    if method in ("delta", "rbd_fast"):
        kw.update(conf_level=conf_level, num_resamples=num_resamples)
    if method == "rbd_fast":
        kw.update(M=RBD_HARMONICS)
    state = np.random.get_state()
    try:
        # SALib 1.6's hdmr draws its bootstrap from numpy's global generator
        # whatever its seed: seeded here (and put back) so results repeat
        np.random.seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = mod.analyze(problem, x, y, **kw)
    finally:
        np.random.set_state(state)
    d = problem["num_vars"]
    return {k: np.asarray(res[k], dtype=np.float64).ravel()[:d] for k in GIVEN_DATA[method]}


def _given_data(ds, spec, da, label, var, sector, category, method, *, conf_level,
                num_resamples, seed, max_points):
    import xarray as xr
    names, problem, x, y, total = given_data_inputs(ds, spec, da, max_points=max_points,
                                                    seed=seed)
    _refuse_nonfinite(y, label, var, sector, spec, "")
    least = GIVEN_DATA_MIN.get(method, 0)
    if y.size < least:
        raise UsageError(f"--method {method} needs at least {least} points; "
                         f"{'--max-points leaves' if total > y.size else 'the store has'} "
                         f"{y.size}: use another method or a larger store")
    if _constant(y):
        raise UsageError(f"{label} is the same ({y[0]:g}) at every analysed point (within "
                         f"{CONSTANT_RTOL:g} relative): there is no variance to apportion")
    res = run_given_data(method, problem, x, y, conf_level=conf_level,
                         num_resamples=num_resamples, seed=seed)
    n_status, status_bits = _status_counts(ds["status"].values)
    data = {k: (("param",), v) for k, v in res.items()}
    data["constant"] = ((), False)
    return xr.Dataset(data, coords={"param": names}, attrs={
        "var": var, "sector": sector, "category": category, "label": label,
        "method": method, "samples": int(y.size), "points": total, "used": int(y.size),
        "conf_level": conf_level, "num_resamples": num_resamples,
        "status_nonzero": n_status, "status_bits": status_bits})
