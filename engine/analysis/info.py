"""What the commands report, each as one dict rendered as text or JSON:
``coordsweep inspect`` (:func:`inspect_dict`, :func:`inspect_text`) and
the summary of ``coordsweep run`` (:func:`run_summary`,
:func:`run_summary_text`). JSON: ``json.dumps(json_value(d))``
(engine/analysis/jsonvalue.py)."""
import numpy as np

from coordsweep.engine.analysis.flags import COMPUTED_STATUS_NAMES
from coordsweep.engine.analysis.results import StatusCounts, status_counts, status_line
from coordsweep.engine.store import conventions
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.store.parts import missing_parts
from coordsweep.engine.store.provenance import VERSION_ATTRS
from coordsweep.kernels.codes import REGIME_NAMES
from coordsweep.kernels.outputs import OUTPUT

PROVENANCE = ("date_created", "created", "completed", "history", "source", *VERSION_ATTRS,
              "spec_source")


# --- coordsweep inspect -------------------------------------------------------------
def inspect_dict(store):
    """What ``coordsweep inspect`` reports: ``{"store", "title", "complete",
    "chunks_done", "chunks_total", "parts", "dims": {name: size}, "coords":
    {axis: [values]}, "sectors", "points", "computed_points", "ok_points",
    "status_bits": {bit name: points}, "variables": {name: {"dtype", "dims",
    "long_name", "units"}} (in the output table's order), "provenance":
    {...}, "attrs_complete", "spec"}``; ``parts`` is None for a store not
    written by a job array, else ``{"count", "run_id", "missing": {part:
    chunks}}``."""
    attrs = zstore.read_attrs(store)
    ds = zstore.open_dataset(store)
    done = zstore.done_chunks(store)
    status = np.asarray(ds.status.values).ravel()
    c = status_counts(status, COMPUTED_STATUS_NAMES)
    point_dims = list(ds.status.dims)
    # in the output table's order (zarr lists unconsolidated arrays in no fixed order)
    order = {name: k for k, name in enumerate(OUTPUT)}
    names = sorted((n for n in ds.data_vars if n != "chunk_done"),
                   key=lambda n: (order.get(n, len(order)), n))
    return {
        "store": str(store),
        "title": attrs.get("title", ""),
        "complete": bool(done.all()),
        "chunks_done": int(done.sum()),
        "chunks_total": int(done.size),
        "parts": ({"count": attrs["parts"], "run_id": attrs.get("run_id", "?"),
                   "missing": missing_parts(attrs, done)} if attrs.get("parts") else None),
        "dims": {d: int(n) for d, n in ds.sizes.items() if d != "chunk"},
        "coords": {d: np.asarray(ds[d].values) for d in point_dims if d in ds.coords},
        "sectors": [str(s) for s in np.asarray(ds.sector.values).tolist()]
        if "sector" in ds.coords else [],
        "points": int(status.size),
        "computed_points": c.computed,
        "ok_points": c.ok,
        "status_bits": c.bits,
        "variables": {name: {"dtype": str(ds[name].dtype), "dims": list(ds[name].dims),
                             "long_name": ds[name].attrs.get("long_name", ""),
                             "units": ds[name].attrs.get("units")}
                      for name in names},
        "provenance": {k: attrs[k] for k in PROVENANCE if k in attrs},
        "attrs_complete": conventions.is_complete(attrs),
        "spec": attrs.get("spec", ""),
        "refine": _refine_info(attrs, ds),
    }


def _refine_info(attrs, ds):
    """A refined store's attribute refine, with the points solved now."""
    if not attrs.get("refine"):
        return None
    out = dict(attrs["refine"])
    if "computed" in ds.data_vars:
        c = np.asarray(ds["computed"].values)
        out["computed_now"] = int(c.sum())
    return out


def _dim_line(dim, size, values):
    if size > 1 and isinstance(values[0], float):
        rng = f"{values[0]:g} .. {values[-1]:g}"
    else:
        rng = ", ".join(map(str, values[:8])) + (", ..." if size > 8 else "")
    return f"  {dim}: {size}  [{rng}]"


def inspect_text(info):
    """:func:`inspect_dict` as the text of ``coordsweep inspect``."""
    lines = [f"store: {info['store']}"]
    if info["title"]:
        lines.append(f"title: {info['title']}")
    done, total = info["chunks_done"], info["chunks_total"]
    lines.append("complete: " + ("yes" if info["complete"] else "no")
                 + f" ({done}/{total} chunks done, {100.0 * done / total:.1f}%)")
    parts = info["parts"]
    if parts:
        m = parts["count"]
        lines.append(f"parts: {m} (run {parts['run_id']}), "
                     + ("none missing" if not parts["missing"] else "missing: " + ", ".join(
                         f"{k}/{m} ({n} chunks)" for k, n in parts["missing"].items())))
    lines.append("dimensions:")
    for dim, size in info["dims"].items():
        values = (info["coords"][dim].tolist() if dim in info["coords"]
                  else info["sectors"] if dim == "sector" else list(range(size)))
        lines.append(_dim_line(dim, size, values))
    lines.append(f"points: {info['points']:,}")
    lines.append("status: " + status_line(StatusCounts(
        computed=info["computed_points"], ok=info["ok_points"], bits=info["status_bits"],
        unknown=0, missing=info["points"] - info["computed_points"])))
    if info.get("refine"):
        from coordsweep.engine.analysis import refined
        lines.extend(refined.describe_lines(info["refine"], info["points"]))
    lines.append("variables:")
    for name, var in info["variables"].items():
        lines.append(f"  {name:17s} {var['dtype']:8s} ({', '.join(var['dims'])})  "
                     f"{var['long_name']}")
    lines.append("provenance:")
    lines += [f"  {key}: {value}" for key, value in info["provenance"].items()]
    lines.append("spec:")
    lines.extend("  " + line for line in info["spec"].splitlines())
    return "\n".join(lines)


# --- the summary of coordsweep run --------------------------------------------------
def run_summary(result, spec):
    """The summary of a run (engine/run/runner.py RunResult) as one dict."""
    s = result.summary
    per = s["regime_counts_per_sector"]
    workers = result.workers
    return {
        "store": str(result.store),
        "name": spec.name,
        "source": str(spec.source),
        "points": int(s["points"]),
        "dims": {name: int(n) for name, n in spec.dim_sizes},
        "chunks_computed": int(result.chunks_computed),
        "chunks_total": int(result.chunks_total),
        "points_computed": int(result.points_computed),
        "wall_seconds": float(result.wall_seconds),
        "compute_seconds": float(result.compute_seconds),
        "points_per_second": float(result.points_per_second),
        "compute_points_per_second": float(result.compute_points_per_second),
        "share_multiple_equilibria": float(s["share_multiple_equilibria"]),
        "regime_counts": {k: int(v) for k, v in s["regime_counts"].items()},
        "regime_counts_per_sector": {
            name: {r: int(per[j, k]) for k, r in enumerate(REGIME_NAMES)}
            for j, name in enumerate(spec.sector_names)},
        "status_ok": int(s["status_ok"]),
        "status_bits": {k: int(v) for k, v in s["status_bits"].items()},
        "workers": workers.count if workers else None,
        "workers_chosen_by": workers.how if workers else None,
        "dashboard": workers.dashboard if workers else None,
        "part": list(result.part) if result.part else None,
    }


def run_summary_text(d, dashboard=True):
    """:func:`run_summary` as the text ``coordsweep run`` prints."""
    axes = " x ".join(f"{name}[{n}]" for name, n in d["dims"].items()) or "(none)"
    lines = [
        f"coordsweep run: {d['name'] or d['source']} -> {d['store']}",
        f"  points            {d['points']:,} over axes {axes}",
        f"  chunks            {d['chunks_computed']} computed this run, "
        f"{d['chunks_total']} in all"]
    if d["part"]:
        lines.append(f"  part              {d['part'][0]}/{d['part'][1]}")
    if d["workers_chosen_by"] is not None:
        n = "?" if d["workers"] is None else d["workers"]
        lines.append(f"  workers           {n} ({d['workers_chosen_by']})")
        if dashboard and d["dashboard"]:
            lines.append(f"  dashboard         {d['dashboard']}")
    lines += [
        f"  wall time         {d['wall_seconds']:.1f} s "
        f"({d['compute_seconds']:.1f} s computing, the rest start-up and summary)",
        (f"  points/s          {d['points_per_second']:,.0f} overall, "
         f"{d['compute_points_per_second']:,.0f} while computing"
         if d["points_computed"] else
         "  points/s          - (nothing to compute: every chunk was already done)"),
        *([f"  refined           {d['points_computed']:,} points solved "
           f"({100 * d['points_computed'] / d['points']:.1f}%), the rest filled "
           "(status bit filled)"] if d["status_bits"].get("filled") else []),
        f"  > 1 equilibrium   {100 * d['share_multiple_equilibria']:.1f}% of points",
        "  regimes (points per sector):"]
    per = d["regime_counts_per_sector"]
    width = max(12, max(len(n) for n in per) + 2)
    lines.append(f"    {'':22s}" + "".join(f"{n:>{width}s}" for n in per))
    for rname in REGIME_NAMES:
        lines.append(f"    {rname:22s}" + "".join(f"{counts[rname]:>{width},d}"
                                                   for counts in per.values()))
    bad = {k: v for k, v in d["status_bits"].items() if v}
    lines.append(f"  status            ok {d['status_ok']:,} of {d['points']:,}"
                 + ("" if not bad else "; " + ", ".join(f"{k} {v:,}" for k, v in bad.items())))
    return "\n".join(lines)
