"""Sensitivity indices of an output over a design store (``coordsweep sensitivity``).

``indices(ds, var, sector=None, category=None)`` returns an xarray Dataset
over ``param`` (and the sweep axes, one analysis per axis value):

- ``sobol`` design: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (and ``S2``,
  ``S2_conf`` over ``param`` x ``param_2`` with ``second_order``), SALib's
  ``sobol.analyze`` with bootstrap confidence intervals;
- ``morris`` design: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``
  (SALib's ``morris.analyze``).

Outputs that are not continuous numbers:

- categorical outputs (``regime``, ``target_*``) need ``category``: the
  analysis is of the indicator "the output is that category" (a regime
  name, a sector name); ``n_equilibria`` takes ``category = "multiple"``
  (n_equilibria > 1) or a count; booleans are analysed as 0/1;
- an output that is NaN or infinite anywhere in the analysed points
  (e.g. ``critical_mass`` outside regimes 1-3) is refused (``UsageError``)
  with the share of such points and what to analyse instead: Saltelli's
  and Morris' estimators cannot skip points, and an imputed value would
  be an invented one (the trap of SALib issue #273);
- points with a non-zero ``status`` are counted, by bit, in the result
  (``status_nonzero``, ``status_bits``) and by the command line;
- an output constant over a design (no variance) gets NaN indices and
  ``constant = True``; constant everywhere is refused.
"""
import math
import warnings

import numpy as np

from coordsweep.engine.errors import StoreError, UsageError
from coordsweep.engine.analysis.results import status_counts
from coordsweep.kernels.codes import REGIME_NAMES
from coordsweep.kernels.outputs import EQUILIBRIUM_DIM, OUTPUT

#: every output (the optional groups too, where a store holds them)
PER = {o.name: o.per for o in OUTPUT.values()}
DTYPE = {o.name: np.dtype(o.dtype) for o in OUTPUT.values()}
METHOD_INDICES = {"sobol": ("S1", "S1_conf", "ST", "ST_conf"),
                  "morris": ("mu", "mu_star", "mu_star_conf", "sigma")}


def design_spec(ds):
    """The Spec (with its Design) a store was written from; UsageError
    when the store holds no design."""
    from coordsweep.engine.spec.model import parse_spec
    spec = parse_spec(ds.attrs.get("spec", ""), source="the store's spec")
    if spec.design is None:
        raise UsageError("the store holds a grid without a [design]: sensitivity indices "
                         "need a sobol or morris design (CONTRACT.md \"Sampling designs\")")
    if spec.design.method not in METHOD_INDICES:
        raise UsageError(f"the store's design is {spec.design.method!r}: sensitivity indices "
                         "need method = \"sobol\" (S1, ST) or \"morris\" (mu_star, sigma)")
    return spec


def _check_complete(ds):
    if "chunk_done" in ds:
        done = np.asarray(ds["chunk_done"].values) == ds.attrs.get("run_token", 1)
        if not done.all():
            raise StoreError(f"the store is incomplete ({int(done.sum())}/{done.size} chunks "
                             "done): finish it with coordsweep run --resume")


def select_output(ds, spec, var, sector=None, category=None, equilibrium=None):
    """(DataArray over the axes and ``sample`` as float64, a label);
    equilibrium: the rank in the list (``eq_*`` outputs)."""
    if var not in PER:
        raise UsageError(f"--var {var!r}: not an output (outputs: {', '.join(PER)})")
    if var not in ds.data_vars:
        raise UsageError(f"--var {var}: not in this store (an optional output: the spec's "
                         "[outputs] table did not ask for it)")
    if var == "status":
        raise UsageError("--var status: a bit field, not a number; its counts are in every "
                         "sensitivity result")
    da = ds[var]
    label = var
    if PER[var] == "sector":
        if sector is None:
            raise UsageError(f"--var {var} is per sector: pass --sector "
                             f"(one of {', '.join(spec.sector_names)})")
        if sector not in spec.sector_names:
            raise UsageError(f"--sector {sector!r}: not a sector of the store "
                             f"({', '.join(spec.sector_names)})")
        da = da.sel(sector=sector)
        label = f"{var} of {sector}"
    elif sector is not None:
        raise UsageError(f"--sector: {var} is one number per point, not per sector")
    if PER[var] == EQUILIBRIUM_DIM:
        k = ds.sizes[EQUILIBRIUM_DIM]
        if equilibrium is None or not 0 <= int(equilibrium) < k:
            raise UsageError(f"--var {var} is per listed equilibrium: pass --equilibrium "
                             f"RANK (0 .. {k - 1}; 0: the best)")
        da = da.isel({EQUILIBRIUM_DIM: int(equilibrium)})
        label = f"{label} of equilibrium {int(equilibrium)}"
    elif equilibrium is not None:
        raise UsageError(f"--equilibrium: {var} is not per listed equilibrium")

    categories = None
    if var == "regime":
        categories = list(REGIME_NAMES)
    elif var.startswith("target_"):
        categories = list(spec.sector_names)
    if categories is not None:
        if category is None:
            raise UsageError(f"--var {var} is categorical: pass --category (one of "
                             f"{', '.join(categories)}) to analyse its indicator")
        if category not in categories:
            raise UsageError(f"--category {category!r}: not a category of {var} "
                             f"({', '.join(categories)})")
        da = (da == categories.index(category))
        label = f"{label} == {category}"
    elif var == "n_equilibria" and category is not None:
        if category == "multiple":
            da, label = da > 1, "n_equilibria > 1"
        elif category.isdigit():
            da, label = da == int(category), f"n_equilibria == {int(category)}"
        else:
            raise UsageError(f"--category {category!r}: n_equilibria takes 'multiple' "
                             "(more than one equilibrium) or a count")
    elif category is not None:
        raise UsageError(f"--category: {var} is not categorical")
    return da.astype(np.float64), label


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
        "Sobol/Morris estimates cannot skip points, so nothing is imputed. Analyse an "
        f"indicator instead (e.g. {hint}), or a conditional analysis: a design whose "
        "bounds keep the output defined")


def indices(ds, var, sector=None, category=None, *, conf_level=0.95, num_resamples=100,
            seed=1, equilibrium=None):
    """Sensitivity indices of ``var`` over a design store: an xarray Dataset
    (see the module doc). ``ds`` is an opened store or its path. ``seed``
    (>= 1: SALib ignores a seed of 0 and draws from numpy's global state)
    makes the bootstrap intervals reproducible."""
    if int(seed) < 1:
        raise ValueError("seed must be >= 1 (SALib ignores seed = 0)")
    import xarray as xr
    from SALib.analyze import morris as salib_morris
    from SALib.analyze import sobol as salib_sobol
    if not isinstance(ds, xr.Dataset):
        from coordsweep.engine.analysis.export import open_results
        ds = open_results(ds)
    spec = design_spec(ds)
    design = spec.design
    _check_complete(ds)
    da, label = select_output(ds, spec, var, sector, category, equilibrium)
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
    names = METHOD_INDICES[design.method]
    if design.method == "sobol" and design.second_order:
        names = names + ("S2", "S2_conf")
    out = {k: np.full(ax_shape + ((design.n_params,) * (2 if k.startswith("S2") else 1)),
                      np.nan) for k in names}
    constant = np.zeros(ax_shape, dtype=bool)
    for idx in np.ndindex(*ax_shape):
        y = np.ascontiguousarray(y_all[idx])
        where = "".join(f", {a} = {float(ds[a].values[i]):g}" for a, i in zip(axes, idx))
        _refuse_nonfinite(y, label, var, sector, spec, where and f" at{where[1:]}")
        if np.ptp(y) == 0:
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
        raise UsageError(f"{label} is the same ({y_all.ravel()[0]:g}) at every design "
                         "point: there is no variance to apportion")
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
        "conf_level": conf_level, "num_resamples": num_resamples,
        "status_nonzero": n_status, "status_bits": status_bits})


def _json(v):
    if isinstance(v, np.ndarray):
        return [_json(x) for x in v.tolist()] if v.ndim else _json(v.item())
    if isinstance(v, list):
        return [_json(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def to_json(res):
    """The JSON object of CONTRACT.md (lists in the order of ``params``;
    with sweep axes, nested lists over the axes first, as ``dims`` says)."""
    axes = [d for d in res["constant"].dims]
    obj = {"var": res.attrs["var"], "sector": res.attrs["sector"],
           "category": res.attrs["category"], "method": res.attrs["method"],
           "params": [str(p) for p in res["param"].values]}
    for k in res.data_vars:
        if k != "constant":
            obj[k] = _json(res[k].values)
    obj.update({"dims": axes + ["param"],
                "coords": {a: _json(res[a].values) for a in axes},
                "constant": _json(res["constant"].values),
                "samples": res.attrs["samples"], "points": res.attrs["points"],
                "conf_level": res.attrs["conf_level"],
                "status_nonzero": res.attrs["status_nonzero"],
                "status_bits": res.attrs["status_bits"]})
    return obj


def _slices(res):
    """(title suffix, Dataset over param) per axis value."""
    axes = list(res["constant"].dims)
    if not axes:
        return [("", res)]
    out = []
    for idx in np.ndindex(*res["constant"].shape):
        sel = {a: i for a, i in zip(axes, idx)}
        sub = res.isel(sel)
        out.append((", ".join(f"{a} = {float(sub[a]):g}" for a in axes), sub))
    return out


def format_text(res):
    method = res.attrs["method"]
    cols = (("S1", "S1_conf"), ("ST", "ST_conf")) if method == "sobol" else \
        (("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None))
    lines = [f"{method} indices of {res.attrs['label']} ({res.attrs['points']:,} points, "
             f"{res.attrs['samples']:,} "
             + ("base samples" if method == "sobol" else "trajectories")
             + f", {100 * res.attrs['conf_level']:g}% intervals)"]
    if res.attrs["status_nonzero"]:
        lines.append(f"warning: {res.attrs['status_nonzero']:,} points have a non-zero status ("
                     + ", ".join(f"{k} {v:,}" for k, v in res.attrs["status_bits"].items())
                     + "); they are included (their value is finite)")
    width = max(12, max(len(str(p)) for p in res["param"].values) + 2)
    for title, sub in _slices(res):
        if title:
            lines.append(f"\n{title}")
        if bool(sub["constant"]):
            lines.append("  output constant here: no indices")
            continue
        lines.append("  " + f"{'param':{width}s}" + "".join(f"{c:>20s}" for c, _ in cols))
        for j, p in enumerate(sub["param"].values):
            cells = []
            for c, conf in cols:
                v = float(sub[c].values[j])
                cells.append(f"{v:9.4f} ± {float(sub[conf].values[j]):7.4f}" if conf
                             else f"{v:9.4f}")
            lines.append("  " + f"{str(p):{width}s}" + "".join(f"{c:>20s}" for c in cells))
    return "\n".join(lines)


def plot_indices(res, path, *, dpi=100):
    """Bar chart of S1 and ST with their intervals (Morris: mu_star with
    its interval, and sigma), one panel per axis value. Returns the path."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    slices = _slices(res)
    ncol = min(3, len(slices))
    nrow = math.ceil(len(slices) / ncol)
    params = [str(p) for p in res["param"].values]
    w = max(6.5, 0.45 * len(params) + 1.5)
    fig = Figure(figsize=(w * ncol, 3.8 * nrow + 0.6))
    FigureCanvasAgg(fig)
    pos = np.arange(len(params))
    sobol = res.attrs["method"] == "sobol"
    bars = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")) if sobol else \
        (("mu_star", "mu_star_conf", "mu* (mean |elementary effect|)"),
         ("sigma", None, "sigma (interactions, nonlinearity)"))
    for k, (title, sub) in enumerate(slices):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        for b, (key, conf, lab) in enumerate(bars):
            yerr = np.asarray(sub[conf].values) if conf else None
            ax.bar(pos + (b - 0.5) * 0.4, np.asarray(sub[key].values), 0.4, yerr=yerr,
                   capsize=3, label=lab, color=("#4878a8", "#e08040")[b])
        ax.set_xticks(pos)
        ax.set_xticklabels(params, rotation=45 if len(params) > 4 else 0, ha="right"
                           if len(params) > 4 else "center", fontsize=8)
        if sobol:
            ax.set_ylim(min(0.0, ax.get_ylim()[0]), max(1.05, ax.get_ylim()[1]))
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(title or res.attrs["label"], fontsize=9)
        if bool(sub["constant"]):
            ax.text(0.5, 0.5, "output constant here", transform=ax.transAxes, ha="center")
        if k == 0:
            ax.legend(fontsize=8)
    conf = f"{100 * res.attrs['conf_level']:g}% bootstrap intervals"
    fig.suptitle(f"{res.attrs['method']} sensitivity of {res.attrs['label']}\n"
                 f"{res.attrs['points']:,} points; error bars: {conf}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


#: what the HTML report of a design store analyses: (var, per-sector?, category)
REPORT_OUTPUTS = (("coordination_gap", False, None), ("welfare_best_eq", False, None),
                  ("n_equilibria", False, "multiple"),
                  ("regime", True, "coordination_failure"))


def report_section(ds, outdir, *, dpi=90):
    """HTML of the report's sensitivity section: per output (and sector) an
    index table and its chart (also written as PNG into outdir)."""
    import base64
    import html
    from pathlib import Path
    esc = html.escape
    try:
        spec = design_spec(ds)
    except UsageError as exc:
        return f"<p>{esc(str(exc))}</p>"
    jobs = []
    for var, per_sector, category in REPORT_OUTPUTS:
        for sector in (spec.sector_names if per_sector else [None]):
            jobs.append((var, sector, category))
    parts = []
    for var, sector, category in jobs:
        name = "-".join(x for x in ("sensitivity", var, sector, category) if x)
        try:
            res = indices(ds, var, sector=sector, category=category)
        except (UsageError, StoreError) as exc:
            parts.append(f"<h3>{esc(name)}</h3>\n<p>{esc(str(exc))}</p>")
            continue
        path = Path(outdir) / f"{name}.png"
        plot_indices(res, path, dpi=dpi)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f"<h3>{esc(res.attrs['label'])}</h3>\n<pre>{esc(format_text(res))}</pre>\n"
                     f'<figure><img src="data:image/png;base64,{data}" alt="{esc(name)}" '
                     f'data-file="{esc(path.name)}"></figure>')
    return "\n".join(parts)
