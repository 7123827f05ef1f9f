"""Rendering of sensitivity indices (engine/analysis/sensitivity.py
results): the JSON object of CONTRACT.md and the text of ``coordsweep
sensitivity``."""
import math

import numpy as np

#: per method, the text columns: (index, its interval or None)
COLUMNS = {"sobol": (("S1", "S1_conf"), ("ST", "ST_conf")),
           "morris": (("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None)),
           "delta": (("delta_raw", "delta_raw_conf"), ("delta_balanced", "delta_balanced_conf"),
                     ("S1", "S1_conf")),
           "pawn": (("median", None), ("minimum", None), ("maximum", None), ("CV", None)),
           "rbd_fast": (("S1", "S1_conf"),),
           "hdmr": (("S", "S_conf"), ("ST", "ST_conf"), ("Sa", None), ("Sb", None)),
           "discrepancy": (("s_discrepancy", None),)}


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
                "used": res.attrs.get("used", res.attrs["points"]),
                "num_resamples": res.attrs.get("num_resamples"),
                "conf_level": res.attrs["conf_level"],
                "status_nonzero": res.attrs["status_nonzero"],
                "status_bits": res.attrs["status_bits"]})
    return obj


def slices(res):
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
    cols = COLUMNS[method]
    if method == "sobol":
        what = f"{res.attrs['samples']:,} base samples"
    elif method == "morris":
        what = f"{res.attrs['samples']:,} trajectories"
    else:
        used, points = res.attrs.get("used", res.attrs["points"]), res.attrs["points"]
        what = ("every point" if used == points else
                f"a random sample of {used:,} (the method's limit; --max-points sets another)")
    conf = any(c for _, c in cols)
    lines = [f"{method} indices of {res.attrs['label']} ({res.attrs['points']:,} points, "
             f"{what}" + (f", {100 * res.attrs['conf_level']:g}% intervals" if conf else "")
             + ")"]
    if method == "delta":
        from coordsweep.engine.analysis.sensitivity import DELTA_COST
        lines.append(f"note: SALib's delta costs about {DELTA_COST} "
                     f"({res.attrs['num_resamples']} resamples: --resamples)")
    if res.attrs["status_nonzero"]:
        lines.append(f"warning: {res.attrs['status_nonzero']:,} points have a non-zero status ("
                     + ", ".join(f"{k} {v:,}" for k, v in res.attrs["status_bits"].items())
                     + "); they are included (their value is finite)")
    width = max(12, max(len(str(p)) for p in res["param"].values) + 2)
    for title, sub in slices(res):
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
