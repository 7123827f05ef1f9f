"""A self-contained HTML report of a results store.

``write_report(ds, outdir)`` writes ``outdir/index.html`` (figures embedded as
base64 PNG data URIs, so the one file can be mailed or archived) and every
figure also as a PNG file in ``outdir``. The page holds:

- provenance: title, creation time, versions, completeness (chunks done);
- the grid (axes, their values and spacing) and the sectors;
- figures of the key outputs: for 2 or more axes a map over the first two
  axes (others fixed at their middle value, said in the caption), for 1 axis
  a line over it: ``regime`` for each sector, ``n_equilibria``,
  ``coordination_gap``, ``provision_gap``, ``target_best``, ``gain_best``,
  ``welfare_best_eq``, and which targeting rule the best target agrees with;
- summary tables over the whole grid: regime counts per sector, the
  distribution of ``n_equilibria``, the share of points with more than one
  equilibrium, targeting agreement, ``status`` counts by named bit;
- the spec (TOML) it came from.
"""
import base64
import html
from pathlib import Path

import numpy as np
import xarray as xr

from coordsweep.engine.store.conventions import chunks_done, is_complete, store_token
from coordsweep.engine.analysis.flags import STATUS_DESCRIPTIONS, STATUS_NAMES, flags
from coordsweep.engine.analysis.geometry import (computed_mask, is_geometric, mask_uncomputed,
                                                 sector_names, sweep_axes)
from coordsweep.engine.analysis.results import code_counts, regime_counts, status_counts, valid
from coordsweep.engine.store.provenance import VERSION_ATTRS
from coordsweep.engine.viz.plot import plot
from coordsweep.kernels import codes

__all__ = ["write_report", "KEY_VARIABLES", "report_figures"]

KEY_VARIABLES = ("regime", "n_equilibria", "coordination_gap", "provision_gap",
                 "target_best", "gain_best", "welfare_best_eq")
#: the optional outputs (CONTRACT.md "Optional outputs") the report maps
#: when the store holds them
OPTIONAL_VARIABLES = ("eq_listed", "p_stuck", "basin_nc", "big_push", "selection_gap")

#: plain-words description of each figure's variable (first sentence of the caption)
DESCRIPTIONS = {
    "regime": (
        "Coordination regime of sector {sector} at the no-coordination equilibrium. "
        "Red (coordination_failure): if the sector's firms coordinated, the economy would "
        "stay there, so coordination alone removes the failure; orange "
        "(partial_coordination): coordination lifts the sector only to a partial "
        "cooperating share; blue (needs_subsidy): cooperation is worth its cost for the "
        "economy but firms need a subsidy to sustain it; sand (not_worth): cooperation "
        "costs more than it gains; green (spontaneous): firms cooperate anyway; grey "
        "(inert): the sector has no clustering gain."),
    "n_equilibria": (
        "Number of stable equilibria of the economy (profiles where each sector fully "
        "cooperates or not). Where it is above 1 the economy can be stuck in a worse "
        "equilibrium: that is a coordination failure."),
    "coordination_gap": (
        "Welfare that pure coordination can win: welfare at the best stable equilibrium "
        "minus welfare at the no-coordination equilibrium. Zero means there is nothing "
        "to coordinate."),
    "provision_gap": (
        "Welfare that the best stable equilibrium still misses compared with the first "
        "best (a planner choosing who cooperates): what only subsidies, not coordination, "
        "can win."),
    "target_best": (
        "The sector whose coordination raises welfare the most (highest gain from "
        "coordinating it)."),
    "gain_best": (
        "Welfare gain from coordinating the best target sector, starting from the "
        "no-coordination equilibrium."),
    "welfare_best_eq": (
        "Welfare (national income at world prices net of the cost of cooperating) at the "
        "best stable equilibrium."),
    "eq_listed": (
        "Number of stable equilibria in the store's list (the best ones, at most the "
        "list's length): eq_mask, eq_welfare and eq_wage hold them, best first."),
    "p_stuck": (
        "Share of starting profiles from which the adjustment dynamics (firms moving "
        "toward their best response, the wage clearing the labour market at every "
        "instant) end at a rest point worse than the best equilibrium: how likely the "
        "economy is to get stuck."),
    "basin_nc": (
        "Share of starting profiles from which the adjustment dynamics end at the "
        "no-coordination equilibrium."),
    "big_push": (
        "The smallest share of firms that a coordinated push must bring to cooperate, in "
        "every sector of the best equilibrium at once, for the economy to move there on "
        "its own. Blank where the best equilibrium is the no-coordination one."),
    "selection_gap": (
        "Welfare at the best stable equilibrium minus the mean welfare where the "
        "adjustment dynamics end: what the economy loses, on average, by where it ends."),
    "best_target_rule": (
        "Which targeting rule picks the best sector to coordinate: the sector with the "
        "strongest comparative advantage (largest output value), the sector with the "
        "highest clustering gain, both (they are the same sector), or neither. "
        "The paper's question is where this switches from comparative advantage to "
        "clustering potential."),
}

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .92em; color: #333; max-width: 800px; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: .8em; overflow-x: auto; }
.warn { background: #fff3cd; border: 1px solid #e0c36c; padding: .6em; }
"""


def _esc(v):
    return html.escape(str(v), quote=True)


def _table(header, rows, numeric=()):
    h = "".join(f'<th class="num">{_esc(c)}</th>' if i in numeric else f"<th>{_esc(c)}</th>"
                for i, c in enumerate(header))
    body = []
    for r in rows:
        body.append("<tr>" + "".join(
            f'<td class="num">{_esc(c)}</td>' if i in numeric else f"<td>{_esc(c)}</td>"
            for i, c in enumerate(r)) + "</tr>")
    return f"<table>\n<tr>{h}</tr>\n" + "\n".join(body) + "\n</table>"


def _pct(n, total):
    return f"{100.0 * n / total:.1f}%" if total else "n/a"


def _values(da, mask=None):
    """Values with NaN at points not computed yet (see geometry.computed_mask)."""
    return np.asarray(mask_uncomputed(da, mask).values)


def _middle(ds, ax):
    c = np.sort(np.asarray(ds[ax].values, dtype=float))
    return float(c[c.size // 2])


def _fmt_range(ds, ax):
    c = np.sort(np.asarray(ds[ax].values, dtype=float))
    return f"{c[0]:g} … {c[-1]:g}, {c.size} values"


def _best_target_rule(ds):
    """Derived categorical: does target_best agree with target_ca / target_cluster?"""
    mask = computed_mask(ds)
    tb, tca, tcl = (mask_uncomputed(ds[t], mask)
                    for t in ("target_best", "target_ca", "target_cluster"))
    code = (tb == tca).astype(np.int8) + 2 * (tb == tcl).astype(np.int8)
    valid = np.isfinite(tb) & np.isfinite(tca) & np.isfinite(tcl) \
        if tb.dtype.kind == "f" or tca.dtype.kind == "f" or tcl.dtype.kind == "f" else None
    if valid is not None:
        code = code.astype(float).where(valid)
    code.attrs = {"long_name": "which targeting rule picks the best target",
                  "flag_values": [0, 1, 2, 3],
                  "flag_meanings": "neither comparative_advantage_sector "
                                   "highest_externality_sector both"}
    out = xr.Dataset({"best_target_rule": code})
    for ax in sweep_axes(ds):
        out[ax].attrs = dict(ds[ax].attrs)
    return out


def report_figures(ds):
    """The figures the report makes: a list of dicts (name, ds, plot kwargs,
    description). Empty for a store without sweep axes."""
    axes = sweep_axes(ds)
    if not axes or "sample" in axes:  # a design store: see the sensitivity section
        return []
    x = axes[0]
    y = axes[1] if len(axes) >= 2 else None
    select = {ax: _middle(ds, ax) for ax in axes[2:] if ds.sizes[ax] > 1}
    figs = []
    for var in KEY_VARIABLES + OPTIONAL_VARIABLES:
        if var not in ds.data_vars:
            continue
        if "sector" in ds[var].dims:
            for s in sector_names(ds):
                figs.append({"name": f"{var}-{s}", "ds": ds, "var": var, "sector": s,
                             "x": x, "y": y, "select": select})
        else:
            figs.append({"name": var, "ds": ds, "var": var, "sector": None,
                         "x": x, "y": y, "select": select})
        if var == "target_best" and all(t in ds.data_vars for t in
                                        ("target_best", "target_ca", "target_cluster")):
            figs.append({"name": "best_target_rule", "ds": _best_target_rule(ds),
                         "var": "best_target_rule", "sector": None, "x": x, "y": y,
                         "select": select})
    return figs


def _caption(fig, res, ds):
    var, x, y = fig["var"], fig["x"], fig["y"]
    text = DESCRIPTIONS.get(var, var).format(sector=fig["sector"])
    if y is not None:
        where = (f"Shown for every combination of {x} (horizontal) and {y} (vertical)"
                 f"{' on log scales where the values are geometric' if is_geometric(ds[x].values) or is_geometric(ds[y].values) else ''}.")
    else:
        where = f"Shown along {x}."
    parts = [text, where]
    if y is not None and res.get("boundaries") is not None:
        parts.append("Black lines mark where the category changes.")
    if fig["select"]:
        parts.append("Other axes fixed at their middle value: " + "; ".join(
            f"{ax} = {res['selection'][ax]:g} (of {_fmt_range(ds, ax)})" for ax in fig["select"])
            + ".")
    if res.get("solved_share") is not None:
        parts.append(f"Refined store: {100 * res['solved_share']:.1f}% of the points in this "
                     "slice were solved; the others hold the value of their cell's corners "
                     "(the refined outputs) or nothing (the other outputs).")
    if res["counts"]:
        total = sum(res["counts"].values())
        parts.append("In this slice: " + ", ".join(
            f"{k} {_pct(v, total)}" for k, v in sorted(res["counts"].items(),
                                                      key=lambda kv: -kv[1])) + ".")
    elif res.get("nonfinite") is not None:
        a = res["array"].astype(float)
        fin = a[np.isfinite(a)]
        if fin.size:
            parts.append(f"Range in this slice: {fin.min():.4g} to {fin.max():.4g}.")
        bad = {k: v for k, v in res["nonfinite"].items() if v}
        if bad:
            parts.append("Not a finite number at " + ", ".join(
                f"{v} points ({k})" for k, v in bad.items()) + " (grey / gaps).")
    return " ".join(parts)


# ---------------------------------------------------------------------------
# summary tables

def _regime_table(ds, mask):
    if "regime" not in ds.data_vars or "sector" not in ds["regime"].dims:
        return "<p>No regime variable in this store.</p>"
    cats = flags(ds["regime"])[1] or dict(enumerate(codes.REGIME_NAMES))
    # the declared not-computed code (-1) is counted as missing, not as a regime
    cats = {c: n for c, n in cats.items() if c >= 0}
    names = sector_names(ds)
    a = _values(ds["regime"].transpose(..., "sector"), mask)
    total = a.size // len(names)
    rows = [(s, d, m) for s, (d, m) in zip(names, regime_counts(a))]
    extra = {v for _, d, _ in rows for v in d if v not in cats}
    cols = sorted(cats) + sorted(extra)
    header = ["sector"] + [cats.get(c, f"unknown({c})") for c in cols]
    any_missing = any(m for _, _, m in rows)
    if any_missing:
        header.append("missing (not computed)")
    body = []
    for s, d, m in rows:
        r = [s] + [f"{d.get(c, 0)} ({_pct(d.get(c, 0), total - m)})" for c in cols]
        if any_missing:
            r.append(str(m))
        body.append(r)
    computed = f", {total - rows[0][2]} computed" if any_missing else ""
    return (f"<p>Points per regime and sector over the whole grid ({total} points"
            f"{computed}; share of the computed points in brackets).</p>\n"
            + _table(header, body, numeric=tuple(range(1, len(header)))))


def _equilibria_tables(ds, mask):
    if "n_equilibria" not in ds.data_vars:
        return "<p>No n_equilibria variable in this store.</p>"
    a = _values(ds["n_equilibria"], mask).ravel()
    found, n_missing = code_counts(a)
    total = a.size - n_missing
    rows = [(v, c, _pct(c, total)) for v, c in found.items()]
    multi = sum(c for v, c in found.items() if v > 1)
    out = [_table(["number of stable equilibria", "points", "share"], rows, numeric=(0, 1, 2))]
    out.append(f"<p><b>Points with more than one stable equilibrium:</b> {multi} of {total} "
               f"(<span class=\"share-multi\">{_pct(multi, total)}</span>). There the "
               f"economy can be stuck in a worse equilibrium: a coordination failure.</p>")
    if n_missing:
        out.append(f"<p>{n_missing} points are not computed yet (left out "
                   f"of the shares).</p>")
    if "has_partial" in ds.data_vars:
        hp = _values(ds["has_partial"], mask).ravel()
        hv = hp[valid(hp)].astype(bool)
        out.append(f"<p>Points where some sector is in regime partial_coordination (the "
                   f"count above then misses partial-cooperation equilibria): "
                   f"{int(hv.sum())} of {hv.size} ({_pct(int(hv.sum()), hv.size)}).</p>")
    return "\n".join(out)


def _target_table(ds, mask):
    ts = [t for t in ("target_ca", "target_cluster", "target_best") if t in ds.data_vars]
    if not ts:
        return "<p>No targeting variables in this store.</p>"
    names = sector_names(ds)
    arrs = {t: _values(ds[t], mask).ravel() for t in ts}
    total = int(np.isfinite(next(iter(arrs.values())).astype(float)).sum())
    rows = []
    for k, s in enumerate(names):
        rows.append([s] + [f"{int((arrs[t] == k).sum())} ({_pct(int((arrs[t] == k).sum()), total)})"
                           for t in ts])
    out = ["<p>How often each sector is the target of each rule over the whole grid "
           "(target_ca: strongest comparative advantage; target_cluster: highest "
           "clustering gain; target_best: highest welfare gain from coordinating it).</p>",
           _table(["sector"] + ts, rows, numeric=tuple(range(1, len(ts) + 1)))]
    if len(ts) == 3:
        b = arrs["target_best"]
        ca, cl = int((b == arrs["target_ca"]).sum()), int((b == arrs["target_cluster"]).sum())
        out.append(f"<p>The best target is the comparative-advantage sector at {ca} of "
                   f"{total} points ({_pct(ca, total)}) and the highest-externality sector "
                   f"at {cl} ({_pct(cl, total)}).</p>")
    return "\n".join(out)


def _status_table(ds, mask):
    if "status" not in ds.data_vars:
        return "<p>No status variable in this store.</p>"
    kind, bits = flags(ds["status"])
    if kind != "bitfield":
        bits = STATUS_NAMES
    c = status_counts(_values(ds["status"], mask), bits)
    rows = [("ok", "every number at the point is valid", "0", c.ok, _pct(c.ok, c.computed))]
    for b, n in bits.items():
        rows.append((n, STATUS_DESCRIPTIONS.get(b, ""), str(b), c.bits[n],
                     _pct(c.bits[n], c.computed)))
    if c.unknown:
        rows.append(("unknown bits", "bits not documented in the store", "", c.unknown,
                     _pct(c.unknown, c.computed)))
    if c.missing:
        rows.append(("missing", "not computed yet (left out of the shares)", "",
                     c.missing, ""))
    return ("<p>Points per status bit (a point can have several bits set).</p>\n"
            + _table(["status", "meaning", "bit", "points", "share"], rows, numeric=(2, 3, 4)))


def _provenance(ds):
    at = ds.attrs
    rows = [("title", at.get("title", "(no name in the spec)")),
            ("created", at.get("created", "not recorded"))]
    rows += [(k, at.get(k, "not recorded")) for k in VERSION_ATTRS]
    rows += [(k, at[k]) for k in ("spec_source", "completed") if k in at]
    rows.append(("complete", at.get("complete", "not recorded")))
    cd = None
    if "chunk_done" in ds.data_vars:
        # (the attribute chunks_done is written at the end of a run only)
        cd = chunks_done(_values(ds["chunk_done"]), store_token(ds.attrs)).ravel()
        rows.append(("chunks done / total", f"{int(cd.sum())} / {cd.size}"))
    else:
        rows.append(("chunks done / total",
                     f"{at.get('chunks_done', '?')} / {at.get('chunks_total', '?')}"))
    out = [_table(["", "value"], rows)]
    if cd is not None:
        missing = np.nonzero(~cd)[0]
        line = f"Completion record: {int(cd.sum())} of {cd.size} chunks written"
        if missing.size:
            shown = ", ".join(str(i) for i in missing[:50])
            more = f" and {missing.size - 50} more" if missing.size > 50 else ""
            line += f"; missing chunks: {shown}{more}"
        out.append(f"<p>{_esc(line)}.</p>")
    complete = at.get("complete")
    if not is_complete({"complete": complete}):
        out.append('<p class="warn">This run is <b>incomplete</b>: points in chunks not yet '
                   'computed hold fill values. Figures and tables include them (as "missing" '
                   'where the store marks them); resume the run for final numbers.</p>')
    return "\n".join(out)


def _grid(ds):
    rows = []
    for ax in sweep_axes(ds):
        c = np.asarray(ds[ax].values, dtype=float)
        rows.append((ax, ds[ax].attrs.get("long_name", ""), c.size, f"{c.min():g}",
                     f"{c.max():g}", "geometric" if is_geometric(c, ds[ax].attrs) else
                     "linear / listed"))
    out = [_table(["axis", "meaning", "values", "min", "max", "spacing"], rows,
                  numeric=(2, 3, 4))] if rows else ["<p>No sweep axes: one point.</p>"]
    names = sector_names(ds)
    out.append(f"<p><b>Sectors</b> ({len(names)}): {_esc(', '.join(names))}.</p>")
    return "\n".join(out)


# ---------------------------------------------------------------------------

def write_report(ds, outdir, *, width=800, height=600, dpi=100):
    """Write ``outdir/index.html`` (and the figures as PNG files); return its path.

    ``ds`` is an opened store (xarray Dataset) or a path to one.
    """
    if isinstance(ds, (str, Path)):
        ds = xr.open_zarr(ds)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    title = ds.attrs.get("title") or "coordsweep results"

    mask = computed_mask(ds)
    fig_html = []
    for fig in report_figures(ds):
        path = outdir / f"{fig['name']}.png"
        res = plot(fig["ds"], x=fig["x"], y=fig["y"], var=fig["var"], sector=fig["sector"],
                   select=fig["select"], out=path, width=width, height=height, dpi=dpi)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        cap = _caption(fig, res, ds)
        fig_html.append(
            f'<figure id="fig-{_esc(fig["name"])}">\n'
            f'<img src="data:image/png;base64,{data}" alt="{_esc(fig["name"])}" '
            f'width="{width}" height="{height}" data-file="{_esc(path.name)}">\n'
            f"<figcaption><b>{_esc(fig['name'])}.</b> {_esc(cap)}</figcaption>\n</figure>")
    if "sample" in ds.dims:  # a sampling design: sensitivity indices instead of maps
        from coordsweep.engine.viz.sensitivity_plot import report_section
        fig_html = ["<p>A sampling design: the figures are sensitivity indices.</p>",
                    report_section(ds, outdir)]
    if not fig_html:
        fig_html.append("<p>The store has no sweep axes, so there is nothing to map.</p>")
    from coordsweep.engine.viz.discover_plot import report_section as discovery_section
    discovery = discovery_section(ds, outdir)

    spec = ds.attrs.get("spec", "")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{_esc(title)} — coordsweep report</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{_esc(title)}</h1>
<p>Sweep of the coordination-failure model (Rodríguez-Clare 2005): for each point of the
grid, which sectors are stuck in a coordination failure, how many stable equilibria the
economy has, what coordination and subsidies could win, and which sector is best to
coordinate.</p>
<h2>Provenance</h2>
{_provenance(ds)}
<h2>Grid</h2>
{_grid(ds)}
<h2>Figures</h2>
{chr(10).join(fig_html)}
{"<h2>Scenario discovery</h2>" + chr(10) + discovery if discovery else ""}
<h2>Regimes</h2>
{_regime_table(ds, mask)}
<h2>Equilibria</h2>
{_equilibria_tables(ds, mask)}
<h2>Targeting</h2>
{_target_table(ds, mask)}
<h2>Status</h2>
{_status_table(ds, mask)}
<h2>Spec</h2>
<pre class="spec">{_esc(spec) if spec else "(no spec recorded)"}</pre>
</body>
</html>
"""
    index = outdir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
