"""Figures from a results store: one output over one or two sweep axes.

``plot(ds, x=..., var=..., y=..., sector=..., select=..., out=...)`` writes a
PNG of exactly ``width`` x ``height`` pixels and returns what it plotted, so
callers (the report, the tests) can check the content, not only the file.

- 1-D (no ``y``): a line over ``x``; categorical, boolean and small-range
  count variables as a step line with coloured markers and a legend naming
  the categories.
- 2-D: a map (pcolormesh over the axis coordinates; an axis whose values are
  geometric gets a log scale). Categorical variables (CF ``flag_values`` /
  ``flag_meanings``: ``regime``, ``target_*``), bit fields (``flag_masks``:
  ``status``), booleans and counts with a small range (``n_equilibria``) get a
  discrete colour map with a legend naming the categories present and black
  lines along the category boundaries; continuous variables get a colour bar
  labelled ``long_name [units]``.

Every axis that is neither ``x`` nor ``y`` must be fixed with ``select``
(nearest coordinate) unless it has one value. Bad arguments raise
``UsageError`` naming the offending value and listing the valid ones.
"""
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.colors as mcolors  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

from coordsweep.engine.analysis.geometry import is_geometric  # noqa: E402
from coordsweep.engine.analysis.results import valid  # noqa: E402
from coordsweep.engine.viz.plotdata import (  # noqa: E402
    categorize, check_size, is_discrete, plottable_variables, resolve, variable_kind)
from coordsweep.engine.viz import plotdata  # noqa: E402
from coordsweep.kernels import codes  # noqa: E402

__all__ = ["plot", "plottable_variables", "variable_kind", "is_geometric", "axis_label",
           "category_colors", "cell_edges", "value_label"]

#: fixed regime colours, so every regime map reads the same way
REGIME_COLORS = {
    codes.INERT: "#bdbdbd",                  # grey: nothing to coordinate
    codes.SPONTANEOUS: "#1a9850",            # green: cooperates anyway
    codes.COORDINATION_FAILURE: "#d73027",   # red: coordination alone fixes it
    codes.PARTIAL_COORDINATION: "#fdae61",   # orange: coordination lifts it partly
    codes.NEEDS_SUBSIDY: "#4575b4",          # blue: worth it, but needs a subsidy
    codes.NOT_WORTH: "#e6d9a8",              # sand: not worth coordinating
}
BOOL_COLORS = {0: "#d9d9d9", 1: "#2c7fb8"}
UNKNOWN_COLOR = "#4d4d4d"
MISSING_COLOR = "#ffffff"
NONFINITE_COLOR = "#cccccc"


# --------------------------------------------------------------------------
# colours and categories

def category_colors(var, kind, categories, present):
    """Colour per present code (consistent across figures of the same variable)."""
    if kind == "bool":
        return {c: BOOL_COLORS.get(c, UNKNOWN_COLOR) for c in present}
    if kind == "categorical" and var == "regime" and \
            [categories.get(k) for k in range(6)] == list(codes.REGIME_NAMES):
        return {c: REGIME_COLORS.get(c, UNKNOWN_COLOR) for c in present}
    if kind == "categorical":
        order = sorted(categories)
        n = len(order)
        if n <= 10:
            pal = list(matplotlib.colormaps["tab10"].colors)
        else:
            pal = list(matplotlib.colormaps["tab20"].colors) + \
                list(matplotlib.colormaps["tab20b"].colors)
        return {c: (mcolors.to_hex(pal[order.index(c) % len(pal)]) if c in categories
                    else UNKNOWN_COLOR) for c in present}
    if kind == "bitfield":      # light grey for ok, warm colours for the failures
        pal = ["#e41a1c", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#377eb8",
               "#4daf4a", "#000000"]
        bad = [c for c in present if c != 0]
        return {c: "#e0e0e0" if c == 0 else pal[bad.index(c) % len(pal)] for c in present}
    # count: a sequential map over the present range
    lo, hi = min(present), max(present)
    cmap = matplotlib.colormaps["viridis"]
    return {c: mcolors.to_hex(cmap(0.5 if hi == lo else (c - lo) / (hi - lo)))
            for c in present}


def cell_edges(c, log):
    c = np.asarray(c, dtype=float)
    if c.size == 1:
        return np.array([c[0] / 1.5, c[0] * 1.5]) if log else np.array([c[0] - 0.5, c[0] + 0.5])
    t = np.log(c) if log else c
    mid = 0.5 * (t[:-1] + t[1:])
    e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if log else e


def _boundary_segments(idx, xe, ye):
    """Segments (k, 2, 2) along the edges between cells of different category.

    idx: (ny, nx) int array (-1 for missing); xe, ye: cell edges.
    """
    i, j = np.nonzero(idx[:, 1:] != idx[:, :-1])        # between columns j and j+1
    vert = np.stack([np.stack([xe[j + 1], ye[i]], -1), np.stack([xe[j + 1], ye[i + 1]], -1)], 1)
    i, j = np.nonzero(idx[1:, :] != idx[:-1, :])        # between rows i and i+1
    horiz = np.stack([np.stack([xe[j], ye[i + 1]], -1), np.stack([xe[j + 1], ye[i + 1]], -1)], 1)
    return np.concatenate([vert, horiz]).reshape(-1, 2, 2)


def _frame_map(axp, xe, ye, ylabel, ylog):
    """Limits at the outer cell edges, the y label and scale of a map."""
    axp.set_xlim(xe[0], xe[-1])
    axp.set_ylim(ye[0], ye[-1])
    axp.set_ylabel(ylabel)
    if ylog:
        axp.set_yscale("log")


def axis_label(ds, ax):
    ln = ds[ax].attrs.get("long_name")
    return f"{ln} ({ax})" if ln and ln != ax else ax


def value_label(da, var):
    ln = da.attrs.get("long_name") or var
    units = da.attrs.get("units")
    label = f"{ln} [{units}]" if units and units != "1" else ln
    return "\n".join(textwrap.wrap(label, 45)) or var


# --------------------------------------------------------------------------
# the four cases: discrete or continuous values, as a map (y) or a line

@dataclass
class _Panel:
    """What one figure shows: the values (ascending coordinates) and its axes."""
    ds: object
    var: str
    kind: str
    x: str
    y: object           # axis name or None (a line)
    xc: np.ndarray
    yc: object          # y coordinates or None
    xlog: bool
    ylog: bool
    arr: np.ndarray     # 1-D over x, or 2-D (y, x)

    def edges(self):
        return cell_edges(self.xc, self.xlog), cell_edges(self.yc, self.ylog)

    def frame_map(self, axp, xe, ye):
        _frame_map(axp, xe, ye, axis_label(self.ds, self.y), self.ylog)


def _panel(ds, da, *, x, y, var, kind):
    xc = np.asarray(ds[x].values, dtype=float)
    xo = np.argsort(xc, kind="stable")
    xlog = is_geometric(xc, ds[x].attrs)
    if y is not None:
        yc = np.asarray(ds[y].values, dtype=float)
        yo = np.argsort(yc, kind="stable")
        ylog = is_geometric(yc, ds[y].attrs)
        arr = np.asarray(da.transpose(y, x).values)[np.ix_(yo, xo)]
        yc = yc[yo]
    else:
        yc, ylog = None, False
        arr = np.asarray(da.transpose(x).values)[xo]
    return _Panel(ds, var, kind, x, y, xc[xo], yc, xlog, ylog, arr)


def _discrete_map(axp, p, present, colors, idx, result):
    cmap = mcolors.ListedColormap([colors[c] for c in present] or ["#ffffff"]) \
        .with_extremes(bad=MISSING_COLOR)
    norm = mcolors.BoundaryNorm(np.arange(-0.5, max(len(present), 1) + 0.5), cmap.N)
    xe, ye = p.edges()
    axp.pcolormesh(xe, ye, np.ma.masked_less(idx, 0), cmap=cmap, norm=norm, shading="flat")
    segs = _boundary_segments(idx, xe, ye)
    result["boundaries"] = segs
    if len(segs):
        lw = 0.9 if max(idx.shape) <= 120 else 0.5
        axp.add_collection(LineCollection(segs, colors="black", linewidths=lw))
    p.frame_map(axp, xe, ye)


def _discrete_line(axp, p, present, colors, idx, names):
    xc, arr = p.xc, p.arr
    level = (np.where(idx >= 0, arr, np.nan).astype(float) if p.kind == "count"
             else np.where(idx >= 0, idx, np.nan).astype(float))
    axp.step(xc, level, where="mid", color="0.35", linewidth=1.2, zorder=1)
    for k, c in enumerate(present):
        m = idx == k
        axp.scatter(xc[m], level[m], color=colors[c], edgecolors="0.2", s=36, zorder=2)
    if p.kind == "count":
        axp.set_yticks(present)
        axp.set_ylabel(value_label(p.ds[p.var], p.var))
    else:
        axp.set_yticks(range(len(present)))
        axp.set_yticklabels([names[c] for c in present])
        axp.set_ylim(-0.5, max(len(present), 1) - 0.5)
    if xc.size > 1 and not p.xlog:
        pad = 0.02 * (xc[-1] - xc[0])
        axp.set_xlim(xc[0] - pad, xc[-1] + pad)


def _discrete(fig, axp, p, categories, result, width, dpi):
    """A categorical map or step line, with a legend naming the categories."""
    present, names, cats, counts = categorize(p.var, p.kind, categories, p.arr)
    colors = category_colors(p.var, p.kind, categories, present)
    result.update(categories=cats, counts=counts)
    pos = {c: k for k, c in enumerate(present)}
    ok = valid(p.arr)
    idx = np.full(p.arr.shape, -1, dtype=np.int64)
    idx[ok] = [pos[int(c)] for c in p.arr[ok].astype(np.int64).ravel()] if ok.any() else []
    handles = [Patch(facecolor=colors[c], edgecolor="0.3", label=names[c]) for c in present]
    if (~ok).any():
        handles.append(Patch(facecolor=MISSING_COLOR, edgecolor="0.3",
                             label="missing (not computed)"))
    if p.y is not None:
        _discrete_map(axp, p, present, colors, idx, result)
    else:
        _discrete_line(axp, p, present, colors, idx, names)
    if handles:
        legend_title = p.var if p.kind != "categorical" or not p.var.startswith("target") \
            else "sector"
        # beside the plot, or below it when the figure is narrow
        narrow = width / dpi < 6.0 or width < 500
        leg = fig.legend(handles=handles,
                         loc="outside lower center" if narrow else "outside right upper",
                         ncols=2 if narrow else 1, title=legend_title,
                         fontsize=9, title_fontsize=9, frameon=False)
        result["legend"] = [t.get_text() for t in leg.get_texts()]


def _continuous_map(fig, axp, p, masked, label):
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad=NONFINITE_COLOR)
    kw = {}
    if masked.count() == 0:
        kw = {"vmin": 0.0, "vmax": 1.0}
    elif float(masked.min()) == float(masked.max()):
        v0 = float(masked.min())
        kw = {"vmin": v0 - 0.5 * max(abs(v0), 1.0), "vmax": v0 + 0.5 * max(abs(v0), 1.0)}
    xe, ye = p.edges()
    mesh = axp.pcolormesh(xe, ye, masked, cmap=cmap, shading="flat", **kw)
    cb = fig.colorbar(mesh, ax=axp)
    cb.set_label(label)
    if p.kind == "count":
        cb.locator = MaxNLocator(integer=True)
        cb.update_ticks()
    p.frame_map(axp, xe, ye)


def _continuous_line(axp, p, masked, label):
    axp.plot(p.xc, masked, color="#2c7fb8", linewidth=1.6,
             marker="o" if p.xc.size <= 40 else None, markersize=3.5)
    axp.set_ylabel(label)
    axp.grid(True, alpha=0.3)
    if p.kind == "count":
        axp.yaxis.set_major_locator(MaxNLocator(integer=True))


def _continuous(fig, axp, p, result):
    """A map with a colour bar or a line; non-finite values said below the x axis."""
    vals = p.arr.astype(float)
    nonfinite = {"nan": int(np.isnan(vals).sum()),
                 "+inf": int(np.isposinf(vals).sum()),
                 "-inf": int(np.isneginf(vals).sum())}
    masked = np.ma.masked_invalid(vals)
    label = value_label(p.ds[p.var], p.var)
    result.update(nonfinite=nonfinite, value_label=label)
    if p.y is not None:
        _continuous_map(fig, axp, p, masked, label)
    else:
        _continuous_line(axp, p, masked, label)
    bad = {k: v for k, v in nonfinite.items() if v}
    if bad:
        note = ", ".join(f"{v} {k}" for k, v in bad.items())
        where = "grey cells" if p.y is not None else "gaps"
        axp.set_xlabel(f"{axis_label(p.ds, p.x)}\n[not plotted ({where}): {note}]")


# --------------------------------------------------------------------------
# the plot

def plot(ds, *, x, var, y=None, sector=None, select=None, out=None,
         width=800, height=600, dpi=100, ax=None):
    """Plot ``var`` over axis ``x`` (and ``y``) into the PNG ``out`` (when
    given) and/or onto the matplotlib Axes ``ax`` (default: a new Figure of
    ``width`` x ``height`` pixels); "figure" in the result is the Figure.

    Returns {"array": the values plotted (1-D over x, or 2-D (y, x), in
    ascending coordinate order), "x": x coordinates, "y": y coordinates or
    None, "categories": {code: name} or None, "counts": {name: count} over
    the plotted array (categorical only, else None; NaN cells as "missing"),
    "legend": the legend labels, "kind", "selection": {axis: coordinate value
    used}, "sector", "nonfinite": {"nan"/"+inf"/"-inf": count} (continuous),
    "value_label": colour bar / y label (continuous), "boundaries": the
    category boundary lines drawn on a categorical map, as (k, 2, 2) segment
    end points in data coordinates, "xscale"/"yscale":
    "linear" or "log", "axes_bbox": (left, top, right, bottom) of the plot area
    in image pixels, "path": str(out)}.

    Points of an incomplete store whose chunk is not written yet (per
    ``chunk_done`` and the ``chunk_shape`` attribute) are shown and counted as
    missing, never as the fill value they hold.
    """
    check_size(width, height, dpi)
    da, selection, sector = resolve(ds, x=x, var=var, y=y, sector=sector, select=select)
    kind, categories = variable_kind(ds[var], var)
    p = _panel(ds, da, x=x, y=y, var=var, kind=kind)
    discrete = is_discrete(kind, p.arr)

    if ax is None:
        fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        axp = fig.add_subplot()
    else:
        axp, fig = ax, ax.figure
        width, height = (fig.get_figwidth() * fig.dpi, fig.get_figheight() * fig.dpi)
    result = {"figure": fig, "array": p.arr, "x": p.xc, "y": p.yc, "categories": None,
              "counts": None, "legend": [], "kind": kind, "discrete": discrete,
              "selection": selection, "sector": sector, "nonfinite": None,
              "value_label": None, "boundaries": None,
              "path": None if out is None else str(out)}

    title = var if sector is None else f"{var} ({sector})"
    if selection:
        title += "\n" + ", ".join(f"{k} = {v:g}" for k, v in selection.items())
    result["solved_share"] = plotdata.solved_share(ds, selection)
    if result["solved_share"] is not None:  # a refined store (engine/spec/refine.py)
        filled = (var, sector) in plotdata.refined_outputs(ds) \
            or (var, None) in plotdata.refined_outputs(ds)
        title += (f"\nrefined: {100 * result['solved_share']:.1f}% of points solved, "
                  + ("the rest filled" if filled else "the rest not solved (blank)"))
    axp.set_title(title, fontsize=11)
    axp.set_xlabel(axis_label(ds, x))
    if p.xlog:
        axp.set_xscale("log")

    if discrete:
        _discrete(fig, axp, p, categories, result, width, dpi)
    else:
        _continuous(fig, axp, p, result)

    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png", dpi=dpi)
    result["xscale"], result["yscale"] = axp.get_xscale(), (axp.get_yscale() if y else None)
    bb = axp.get_window_extent()
    H = fig.canvas.get_width_height()[1]
    result["axes_bbox"] = (int(math.ceil(bb.x0)), int(math.ceil(H - bb.y1)),
                           int(math.floor(bb.x1)), int(math.floor(H - bb.y0)))
    return result
