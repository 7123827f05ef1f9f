"""Figures of a scenario discovery (engine/analysis/discover.py results):

- ``plot_tradeoff``: coverage against density along the PRIM trajectory,
  coloured by the number of restricted parameters, the chosen box marked
  (and its fresh density, when verified, beside it), the threshold drawn;
  for CART (no trajectory), the boxes' points;
- ``plot_boxes``: each restricted parameter's range in each box against
  its full range (normalised to [0, 1]; log-spaced parameters in log);
- ``plot_discovery``: both side by side in one PNG (``coordsweep discover
  -o``);
- ``report_section``: HTML of the discoveries kept in a store.
"""
import math

import numpy as np


def _figure(w, h):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(w, h))
    FigureCanvasAgg(fig)
    return fig


def draw_tradeoff(ax, res):
    traj = res["trajectory"]
    if traj:
        cov = np.array([s["coverage"] for s in traj], dtype=float)
        den = np.array([s["density"] for s in traj], dtype=float)
        nres = np.array([s["n_restricted"] for s in traj])
        ax.plot(cov, den, color="0.7", lw=0.8, zorder=1)
        sc = ax.scatter(cov, den, c=nres, cmap="viridis", s=18, zorder=2)
        cb = ax.figure.colorbar(sc, ax=ax, pad=0.02)
        cb.set_label("restricted parameters")
        from matplotlib.ticker import MaxNLocator
        cb.locator = MaxNLocator(integer=True)
        cb.update_ticks()
    for k, b in enumerate(res["boxes"]):
        ax.scatter([b["coverage"]], [b["density"]], marker="*", s=180, color="#d03030",
                   edgecolor="black", zorder=3, label="chosen box" if k == 0 else None)
        ax.annotate(f"box {k + 1}", (b["coverage"], b["density"]), xytext=(6, -12),
                    textcoords="offset points", fontsize=8)
        if b.get("verified_n"):
            ax.scatter([b["coverage"]], [b["verified_density"]], marker="D", s=40,
                       color="none", edgecolor="#d03030", zorder=3,
                       label="fresh density" if k == 0 else None)
    ax.axhline(res["threshold"], color="#d03030", lw=0.7, ls="--")
    ax.set_xlabel("coverage (share of the category in the box)")
    ax.set_ylabel("density (share of the box in the category)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if res["boxes"]:
        ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"{res['method'].upper()} trade-off: {res['label']}", fontsize=9)


def draw_boxes(ax, res):
    boxes = res["boxes"]
    params = [p for p in res["params"] if any(p in b["limits"] for b in boxes)]
    if not params:
        ax.text(0.5, 0.5, "no box restricts a parameter", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    log = res.get("log", {})

    def unit(p, v):
        lo, hi = res["ranges"][p]
        if log.get(p) and lo > 0:
            lo, hi, v = math.log(lo), math.log(hi), math.log(max(v, 1e-300))
        return (v - lo) / (hi - lo) if hi > lo else 0.5

    nb = len(boxes)
    h = 0.8 / nb
    colors = ("#d03030", "#3070c0", "#30a050", "#c08020", "#8040a0")
    for i, p in enumerate(params):
        ax.barh(i, 1.0, height=0.9, color="0.92", edgecolor="0.6", lw=0.5)
        lo, hi = res["ranges"][p]
        ax.text(-0.01, i - 0.3, f"{lo:.3g}", ha="right", va="center", fontsize=7, color="0.4")
        ax.text(1.01, i - 0.3, f"{hi:.3g}", ha="left", va="center", fontsize=7, color="0.4")
        for k, b in enumerate(boxes):
            if p not in b["limits"]:
                continue
            blo, bhi = b["limits"][p]
            u0, u1 = unit(p, blo), unit(p, bhi)
            y = i - 0.4 + h * (k + 0.5)
            ax.barh(y, u1 - u0, left=u0, height=h * 0.8, color=colors[k % len(colors)],
                    label=f"box {k + 1}" if i == params.index(
                        next(q for q in params if q in b["limits"])) else None)
            ax.text(u1 + 0.01, y, f"[{blo:.3g}, {bhi:.3g}]", va="center", fontsize=7)
            bs = res.get("bootstrap") or {}
            st = bs.get("params", {}).get(p) if k == 0 and bs.get("found") else None
            if st:  # the first box's limits on resamples: 5% to 95% of each end
                for qs in (st["low"], st["high"]):
                    ax.plot([unit(p, qs[0]), unit(p, qs[-1])], [y, y], color="black", lw=2,
                            solid_capstyle="butt",
                            label=f"bootstrap {100 * bs['quantiles'][0]:g}-"
                                  f"{100 * bs['quantiles'][-1]:g}%" if i == 0 and qs is st["low"]
                            else None)
    ax.set_yticks(range(len(params)))
    ax.set_yticklabels(params, fontsize=8)
    ax.set_ylim(len(params) - 0.5, -0.5)
    ax.set_xlim(-0.12, 1.35)
    ax.set_xticks([0, 0.5, 1])
    ax.set_xticklabels(["low", "", "high"], fontsize=8)
    ax.set_title("box limits against each parameter's full range", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")


def plot_tradeoff(res, path, *, dpi=100):
    fig = _figure(6.4, 4.8)
    draw_tradeoff(fig.add_subplot(1, 1, 1), res)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def plot_boxes(res, path, *, dpi=100):
    n = max(1, len({p for b in res["boxes"] for p in b["limits"]}))
    fig = _figure(7.0, 1.2 + 0.55 * n)
    draw_boxes(fig.add_subplot(1, 1, 1), res)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def plot_discovery(res, path, *, dpi=100):
    """Trade-off and box limits side by side in one PNG."""
    n = max(1, len({p for b in res["boxes"] for p in b["limits"]}))
    fig = _figure(13.0, max(4.8, 1.2 + 0.55 * n))
    draw_tradeoff(fig.add_subplot(1, 2, 1), res)
    draw_boxes(fig.add_subplot(1, 2, 2), res)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def report_section(ds, outdir, *, dpi=90):
    """HTML of the discoveries kept in the store's attribute ``discovery``
    (empty string when there are none)."""
    import base64
    import html
    from pathlib import Path

    from coordsweep.engine.analysis import discover
    saved = discover.saved_of(ds.attrs)
    if not saved:
        return ""
    esc = html.escape
    parts = ["<p>Scenario discoveries kept in the store (attribute <code>discovery</code>, "
             "written by <code>coordsweep discover --save</code>).</p>"]
    for k, res in enumerate(saved):
        name = "-".join(str(x) for x in ("discovery", res["var"], res.get("sector"),
                                         res["method"]) if x) + f"-{k + 1}"
        path = Path(outdir) / f"{name}.png"
        plot_discovery(res, path, dpi=dpi)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f"<h3>{esc(res['label'])} ({esc(res['method'])})</h3>\n"
                     f"<pre>{esc(discover.format_text(res))}</pre>\n"
                     f'<figure><img src="data:image/png;base64,{data}" alt="{esc(name)}" '
                     f'data-file="{esc(path.name)}"></figure>')
    return "\n".join(parts)
