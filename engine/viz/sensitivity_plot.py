"""Charts of sensitivity indices (engine/analysis/sensitivity.py results)
and the report's sensitivity section."""
import math

import numpy as np

from coordsweep.engine.analysis import sensitivity
from coordsweep.engine.analysis.sensitivity_text import format_text, slices
from coordsweep.engine.errors import StoreError, UsageError

#: per method, the bars: (index, its interval or None, legend)
BARS = {"sobol": (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")),
        "morris": (("mu_star", "mu_star_conf", "mu* (mean |elementary effect|)"),
                   ("sigma", None, "sigma (interactions, nonlinearity)")),
        "delta": (("delta_raw", "delta_raw_conf", "delta (moment-independent)"),
                  ("S1", "S1_conf", "first order S1")),
        "pawn": (("median", None, "median KS statistic"),
                 ("maximum", None, "maximum KS statistic")),
        "rbd_fast": (("S1", "S1_conf", "first order S1 (RBD-FAST)"),),
        "hdmr": (("S", "S_conf", "first order S (HDMR)"), ("ST", "ST_conf", "total ST")),
        "discrepancy": (("s_discrepancy", None, "discrepancy index"),)}
_BOUNDED = ("sobol", "delta", "rbd_fast", "hdmr", "pawn", "discrepancy")


def plot_indices(res, path, *, dpi=100):
    """Bar chart of the method's indices with their intervals where it has
    them (Sobol: S1 and ST; Morris: mu_star and sigma; ...), one panel per
    axis value. Returns the path."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    panels = slices(res)
    ncol = min(3, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    params = [str(p) for p in res["param"].values]
    w = max(6.5, 0.45 * len(params) + 1.5)
    fig = Figure(figsize=(w * ncol, 3.8 * nrow + 0.6))
    FigureCanvasAgg(fig)
    pos = np.arange(len(params))
    method = res.attrs["method"]
    bars = BARS[method]
    width = 0.8 / len(bars)
    for k, (title, sub) in enumerate(panels):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        for b, (key, conf, lab) in enumerate(bars):
            yerr = np.asarray(sub[conf].values) if conf else None
            ax.bar(pos + (b - (len(bars) - 1) / 2) * width, np.asarray(sub[key].values), width,
                   yerr=yerr, capsize=3, label=lab, color=("#4878a8", "#e08040")[b % 2])
        ax.set_xticks(pos)
        ax.set_xticklabels(params, rotation=45 if len(params) > 4 else 0, ha="right"
                           if len(params) > 4 else "center", fontsize=8)
        if method in _BOUNDED:
            ax.set_ylim(min(0.0, ax.get_ylim()[0]), max(1.05 if method == "sobol" else 0,
                                                         ax.get_ylim()[1]))
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(title or res.attrs["label"], fontsize=9)
        if bool(sub["constant"]):
            ax.text(0.5, 0.5, "output constant here", transform=ax.transAxes, ha="center")
        if k == 0:
            ax.legend(fontsize=8)
    has_conf = any(c for _, c, _ in bars)
    conf = f"error bars: {100 * res.attrs['conf_level']:g}% bootstrap intervals" \
        if has_conf else "no intervals"
    used = res.attrs.get("used", res.attrs["points"])
    pts = f"{res.attrs['points']:,} points" + (f" ({used:,} sampled)"
                                               if used != res.attrs["points"] else "")
    fig.suptitle(f"{method} sensitivity of {res.attrs['label']}\n{pts}; {conf}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


#: what the HTML report of a design store analyses: (var, per-sector?, category)
REPORT_OUTPUTS = (("coordination_gap", False, None), ("welfare_best_eq", False, None),
                  ("n_equilibria", False, "multiple"),
                  ("regime", True, "coordination_failure"))


def report_section(ds, outdir, *, dpi=90):
    """HTML of the report's sensitivity section: per output (and sector) an
    index table and its chart (also written as PNG into outdir). Sobol and
    Morris designs get their own indices; other designs the given-data
    indices of ``rbd_fast`` (first order, fast on many points)."""
    import base64
    import html
    from pathlib import Path
    esc = html.escape
    try:
        spec, method = sensitivity.design_spec(ds)
    except UsageError:
        spec, method = sensitivity.store_spec(ds), "rbd_fast"
    jobs = []
    for var, per_sector, category in REPORT_OUTPUTS:
        for sector in (spec.sector_names if per_sector else [None]):
            jobs.append((var, sector, category))
    parts = []
    for var, sector, category in jobs:
        name = "-".join(x for x in ("sensitivity", var, sector, category) if x)
        try:
            res = sensitivity.indices(ds, var, sector=sector, category=category, method=method)
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
