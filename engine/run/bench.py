"""`coordsweep bench`: solver variants and baselines, timed on one core and
compared by what they find.

For every number of sectors N and eta = 0 / eta > 0 the same random points
(seeded) go to every variant:

- ``numba``: the kernels as they run in a sweep with the default solver
  (the reference variant);
- ``SLOT=NAME,...`` (e.g. ``equilibria=mitm``): the kernels with those
  solver variants (kernels/solvers.py; a user's ``wage=module:function``
  too);
- ``c``: engine/run/baselines/coordsweep.c, the same per-point algorithm in C,
  compiled here with the system compiler at ``-O3 -march=native``;
- ``scipy``: engine/run/baselines/scipy_baseline.py, a straightforward SciPy
  implementation (brentq, itertools, one point at a time).

Per variant and cell: points/s (median over repeats, each a block sized to
the time budget), compile time, and agreement with the reference on the
points both solved: the share with identical equilibrium results (same
number of equilibria, same best-equilibrium set, same first-best set), the
share of sectors with the same regime, the largest relative difference of
the float outputs (a NaN/inf where the other has a number counts as inf),
(gain_coordinate, a difference of welfare levels, on the scale of
|welfare_nc|; subsidy_needed, 1 - a ratio, on the scale of 1), and the
number of points with a non-zero status. Ratios against the
baselines come from the same run.

The numerics live in the kernels and the baselines (shipped with the
package: engine/run/baselines/); this module only draws points, times
calls and compares arrays.
"""
import datetime
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from coordsweep.engine.errors import CoordsweepError
from coordsweep.engine.run.benchvariants import (REFERENCE, RUNNERS, draw_points, head,
                                                 setup_variant)

BASELINES = ("c", "scipy")
#: the kernels' solver variants timed by default (besides the reference)
SOLVER_VARIANTS = ("wage=brent", "wage=bisect", "equilibria=brute", "equilibria=mitm",
                   "path=brent", "path=bisect", "path=newton")
VARIANTS = (REFERENCE, *SOLVER_VARIANTS, *BASELINES)
QUICK_VARIANTS = (REFERENCE, "wage=brent", "equilibria=mitm", "path=brent", *BASELINES)
#: float outputs every variant returns (per point, then per sector)
FLOAT_FIELDS = ("wage_nc", "welfare_nc", "welfare_best_eq", "wage_best_eq", "welfare_fb",
                "fiscal_cost_nc", "critical_mass", "partial_share", "gain_coordinate",
                "threshold_wage", "subsidy_needed")
#: settings of a full run and of --quick (about a minute on 2 shared cores)
FULL = dict(sectors=tuple(range(1, 13)), budget=2.0, repeats=5, pool=20000,
            scipy_max_sectors=12)
QUICK = dict(sectors=(1, 2, 3, 4, 6, 8, 10, 12), budget=0.25, repeats=3, pool=4000,
             scipy_max_sectors=6)
MAX_SECTORS = 16  # the reference tries all 2^N profiles for the first best


def _time_cell(runner, pool, budget, repeats, min_points):
    """(points/s of each repeat, points per repeat, outputs of the first block).
    The block size comes from a second small call: the first one of a cell
    can pay one-time costs (buffers sized for the block, first-touch pages),
    which made the estimate, and so the timed blocks, far too small."""
    runner.solve(head(pool, min_points))
    t = time.perf_counter()
    first = runner.solve(head(pool, min_points))
    per_point = max((time.perf_counter() - t) / min_points, 1e-9)
    npts = len(pool["labor"])
    k = int(min(npts, max(min_points, budget / repeats / per_point)))
    rates = []
    out = first
    for _ in range(repeats):
        block = head(pool, k)
        t = time.perf_counter()
        out = runner.solve(block)
        rates.append(k / (time.perf_counter() - t))
    return rates, k, out


def compare(ref, other):
    """Agreement of `other` with `ref` on their common points."""
    k = min(len(ref["wage_nc"]), len(other["wage_nc"]))
    eq = ((ref["n_equilibria"][:k] == other["n_equilibria"][:k])
          & (ref["best_mask"][:k] == other["best_mask"][:k])
          & (ref["fb_mask"][:k] == other["fb_mask"][:k]))
    regime = ref["regime"][:k] == other["regime"][:k]
    worst = 0.0
    wscale = np.abs(np.asarray(ref["welfare_nc"][:k], np.float64))
    for f in FLOAT_FIELDS:
        a = np.asarray(ref[f][:k], np.float64)
        b = np.asarray(other[f][:k], np.float64)
        floor = np.full(a.shape, 1e-300)
        if f == "gain_coordinate":  # a difference of welfare levels
            floor = np.maximum(floor, wscale[:, None])
        elif f == "subsidy_needed":  # 1 - a ratio
            floor = np.maximum(floor, 1.0)
        fa, fb = np.isfinite(a), np.isfinite(b)
        same_special = (~fa & ~fb) & ((np.isnan(a) & np.isnan(b)) | (a == b))
        if np.any((fa != fb) | (~fa & ~fb & ~same_special)):
            return dict(points=k, eq_identical=eq.mean(), regime_identical=regime.mean(),
                        max_rel_diff=np.inf)
        both = fa & fb
        if both.any():
            d = np.abs(a[both] - b[both]) / np.maximum(
                np.maximum(np.abs(a[both]), np.abs(b[both])), floor[both])
            worst = max(worst, float(d.max()))
    return dict(points=k, eq_identical=float(eq.mean()), regime_identical=float(regime.mean()),
                max_rel_diff=worst)


def machine_info():
    info = dict(platform=platform.platform(), python=platform.python_version(),
                cpu_count=os.cpu_count() or 0, processor=platform.processor())
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba
    info["numpy"] = np.__version__
    info["numba"] = numba.__version__
    try:
        import scipy
        info["scipy"] = scipy.__version__
    except ImportError:
        pass
    return info


def _settings(quick, sectors, budget, repeats, cold, variants):
    """(cfg, cold, variants) of a run, checked: unknown variants and N
    outside 1..MAX_SECTORS are refused before anything is set up."""
    cfg = dict(QUICK if quick else FULL)
    if sectors is not None:
        cfg["sectors"] = tuple(sectors)
    if budget is not None:
        cfg["budget"] = float(budget)
    if repeats is not None:
        cfg["repeats"] = int(repeats)
    cold = (not quick) if cold is None else cold
    variants = tuple(variants if variants is not None
                     else QUICK_VARIANTS if quick else VARIANTS)
    if REFERENCE not in variants:
        variants = (REFERENCE, *variants)
    from coordsweep.kernels import solvers
    for v in variants:
        if v not in RUNNERS:
            if "=" not in v:
                raise CoordsweepError(f"unknown variant {v!r}; known: {', '.join(RUNNERS)} "
                                      "or solver variants SLOT=NAME (e.g. equilibria=mitm)")
            try:
                solvers.parse(v)
            except solvers.SolverError as exc:
                raise CoordsweepError(f"variant {v!r}: {exc}") from None
    for n in cfg["sectors"]:
        if not 1 <= n <= MAX_SECTORS:
            raise CoordsweepError(f"sectors {n}: must be in 1..{MAX_SECTORS}")
    return cfg, cold, variants


def run_bench(quick=False, sectors=None, etas=(False, True), variants=None,
              budget=None, repeats=None, seed=1, cold=None, log=None):
    """Run the benchmark; returns an xarray Dataset (see module doc)."""
    cfg, cold, variants = _settings(quick, sectors, budget, repeats, cold, variants)
    say = log or (lambda msg: None)
    with tempfile.TemporaryDirectory(prefix="coordsweep-bench-") as workdir:
        runners = {}
        for v in variants:
            say(f"setting up {v} ...")
            runners[v] = setup_variant(v, workdir, cold)
        cells = _time_cells(runners, variants, etas, cfg, seed, say)
    ds = _dataset(cells, runners, variants, etas, cfg)
    ds.attrs.update(quick=int(bool(quick)), seed=seed)
    return ds


def _time_cells(runners, variants, etas, cfg, seed, say):
    """Every variant timed and compared with the reference in every (eta,
    N) cell, on the same seeded points: a dict of arrays over (variant,
    eta, N[, repeat])."""
    shape = (len(variants), len(etas), len(cfg["sectors"]))
    cells = {"rate": np.full(shape + (cfg["repeats"],), np.nan),
             "timed": np.zeros(shape, np.int64), "compared": np.zeros(shape, np.int64),
             "status_nonzero": np.zeros(shape, np.int64),
             **{k: np.full(shape, np.nan)
                for k in ("eq_identical", "regime_identical", "max_rel_diff")}}
    for ie, eta in enumerate(etas):
        for jn, n in enumerate(cfg["sectors"]):
            pool = draw_points(seed, cfg["pool"], n, eta)
            ref = None
            for iv, v in enumerate(variants):
                if v == "scipy" and n > cfg["scipy_max_sectors"]:
                    continue
                min_points = 1 if v == "scipy" else 64
                rates, k, out = _time_cell(runners[v], pool, cfg["budget"],
                                           cfg["repeats"], min_points)
                cell = (iv, ie, jn)
                cells["rate"][cell] = rates
                cells["timed"][cell] = k
                cells["status_nonzero"][cell] = int(np.count_nonzero(out["status"]))
                if v == REFERENCE:
                    ref = out
                c = compare(ref, out)
                cells["compared"][cell] = c["points"]
                for key in ("eq_identical", "regime_identical", "max_rel_diff"):
                    cells[key][cell] = c[key]
                say(f"N={n:2d} eta{'>0' if eta else '=0'} {v:6s} "
                    f"{statistics.median(rates):14,.0f} points/s")
    return cells


def _dataset(cells, runners, variants, etas, cfg):
    """The timings and agreements of :func:`_time_cells` as a Dataset."""
    import xarray as xr
    coords = dict(variant=list(variants), eta_positive=list(etas),
                  n_sectors=list(cfg["sectors"]), repeat=np.arange(cfg["repeats"]))
    dims3 = ("variant", "eta_positive", "n_sectors")
    ds = xr.Dataset(
        dict(points_per_s=(dims3, np.median(cells["rate"], axis=-1), dict(
                 long_name="points per second on one core (median of the repeats)")),
             points_per_s_repeats=((*dims3, "repeat"), cells["rate"]),
             points_timed=(dims3, cells["timed"], dict(long_name="points per timed repeat")),
             compile_s=(("variant",), np.array([runners[v].compile_s for v in variants]),
                        dict(long_name="compile time, seconds")),
             points_compared=(dims3, cells["compared"]),
             eq_identical=(dims3, cells["eq_identical"], dict(
                 long_name="share of points with the reference's number of equilibria, "
                           "best equilibrium and first best")),
             regime_identical=(dims3, cells["regime_identical"], dict(
                 long_name="share of sectors with the reference's regime")),
             max_rel_diff=(dims3, cells["max_rel_diff"], dict(
                 long_name="largest relative difference of the float outputs from the "
                           "reference (inf: a NaN or inf where the other has a number)")),
             status_nonzero=(dims3, cells["status_nonzero"], dict(
                 long_name="points with a non-zero status among the last timed block"))),
        coords=coords)
    for base in BASELINES:
        if base in variants:
            ds[f"ratio_vs_{base}"] = ds.points_per_s / ds.points_per_s.sel(variant=base)
            ds[f"ratio_vs_{base}"].attrs["long_name"] = \
                f"points/s relative to the {base} baseline in the same run"
    ds.attrs.update({f"machine_{k}": str(v) for k, v in machine_info().items()})
    ds.attrs.update({f"compile_kind_{v}": runners[v].compile_kind for v in variants})
    if "c" in runners:
        ds.attrs["c_compiler"] = runners["c"].compiler
        ds.attrs["c_command"] = runners["c"].command
    ds.attrs.update(
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        reference_variant=REFERENCE, budget_s=cfg["budget"],
        repeats=cfg["repeats"], scipy_max_sectors=cfg["scipy_max_sectors"],
        single_core="every variant runs serially in this one process",
        eq_identical_definition="same n_equilibria, same best-equilibrium set and same "
                                "first-best set as the reference variant")
    return ds


def format_table(ds):
    """The dataset as a text table: one row per (eta, N, variant)."""
    has = {b: f"ratio_vs_{b}" in ds for b in BASELINES}
    vw = max(8, *(len(str(v)) for v in ds.variant.values))
    head = (f"{'eta':>4} {'N':>3} {'variant':{vw}s} {'points/s':>12} "
            + "".join(f"{'x ' + b:>9}" for b in BASELINES if has[b])
            + f" {'eq same':>8} {'regime':>7} {'max rel diff':>12} {'status!=0':>9}")
    lines = [head, "-" * len(head)]
    for eta in ds.eta_positive.values:
        for n in ds.n_sectors.values:
            for v in ds.variant.values:
                c = ds.sel(variant=v, eta_positive=eta, n_sectors=n)
                r = float(c.points_per_s)
                if np.isnan(r):
                    continue
                ratios = "".join(f"{float(c[f'ratio_vs_{b}']):9.2f}" if np.isfinite(
                    float(c[f"ratio_vs_{b}"])) else f"{'-':>9}" for b in BASELINES if has[b])
                lines.append(
                    f"{'>0' if eta else '0':>4} {int(n):3d} {v:{vw}s} {r:12,.0f} {ratios}"
                    f" {float(c.eq_identical):8.4f} {float(c.regime_identical):7.4f}"
                    f" {float(c.max_rel_diff):12.2e} {int(c.status_nonzero):9d}")
    lines.append("")
    lines.append("compile: " + "; ".join(
        f"{v} {float(ds.compile_s.sel(variant=v)):.2f} s ({ds.attrs.get(f'compile_kind_{v}', '?')})"
        for v in ds.variant.values))
    lines.append(f"machine: {ds.attrs.get('machine_processor', '?')}, "
                 f"{ds.attrs.get('machine_cpu_count', '?')} cpus, "
                 f"numba {ds.attrs.get('machine_numba', '?')}"
                 + (f", {ds.attrs['c_compiler']}" if "c_compiler" in ds.attrs else ""))
    return "\n".join(lines)


def check_output(path):
    """Exit-2 checks of an output path before anything runs."""
    if path is None:
        return None
    p = Path(path)
    if p.suffix not in (".nc", ".zarr"):
        raise CoordsweepError(f"--output {path}: must end in .nc (netCDF) or .zarr")
    if p.exists():
        raise CoordsweepError(f"--output {path}: exists (not overwritten)")
    if not p.parent.exists():
        raise CoordsweepError(f"--output {path}: directory {p.parent} does not exist")
    return p


def write_dataset(ds, path):
    """Write to a temporary name beside `path`, then rename: never half a file."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
    try:
        if p.suffix == ".nc":
            ds.to_netcdf(tmp)
        else:
            ds.to_zarr(tmp, mode="w")
        os.rename(tmp, p)
    finally:
        if tmp.exists():
            import shutil
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    return p


def plot_rates(ds, path):
    """Points/s against N per variant (log scale), eta = 0 and eta > 0 side
    by side, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    etas = list(ds.eta_positive.values)
    fig, axes = plt.subplots(1, len(etas), figsize=(5.5 * len(etas), 4.2), sharey=True,
                             squeeze=False)
    for ax, eta in zip(axes[0], etas):
        for v in ds.variant.values:
            r = ds.points_per_s.sel(variant=v, eta_positive=eta)
            ok = np.isfinite(r.values)
            if ok.any():
                style = "--" if v in BASELINES else "-"
                ax.plot(ds.n_sectors.values[ok], r.values[ok], style, marker="o", ms=3, label=v)
        ax.set_yscale("log")
        ax.set_xlabel("sectors N")
        ax.set_title(f"eta {'> 0' if eta else '= 0'}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("points / s, one core")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle(f"coordsweep bench ({ds.attrs.get('machine_processor', '')})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
