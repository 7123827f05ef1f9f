"""`coordsweep solve SPEC [--json] [--at AXIS=VALUE ...]`: every output at one point."""
import json

from coordsweep.engine.analysis.jsonvalue import json_value
from coordsweep.engine.cli.common import EXIT_OK, parse_at


def register(sub):
    s = sub.add_parser("solve", help="solve the spec's base point (axes ignored)")
    s.add_argument("spec", help="sweep spec (TOML)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--at", action="append", metavar="AXIS=VALUE",
                   help="solve the point where this axis has this value (any axis name "
                   "of a spec, applied like an axis; repeatable; the spec's own axes "
                   "are otherwise ignored)")
    s.set_defaults(func=main)


def solve_result(spec):
    """Every per-point output at the base point: {name: value}."""
    from coordsweep.engine.api import solve
    return solve(spec)


def solve_json(spec):
    from coordsweep.kernels.codes import REGIME_NAMES
    res = solve_result(spec)
    obj = {}
    for name, v in res.items():
        if name == "regime":
            obj[name] = [REGIME_NAMES[int(r)] for r in v]
        else:
            obj[name] = json_value(v)
    return obj


def solve_text(spec):
    import numpy as np

    from coordsweep.engine.analysis.flags import describe_status
    from coordsweep.kernels.codes import REGIME_NAMES
    res = solve_result(spec)
    names = spec.sector_names
    lines = [f"{spec.name or spec.source}: {spec.n_sectors} sectors, "
             f"labor = {spec.labor:g}, labor_share = {spec.labor_share:g}", ""]
    rows = spec.output_rows
    for o in rows:
        if o.per != "point" or o.name in EQUILIBRIUM_POINT_NAMES:
            continue
        name, v = o.name, res[o.name]
        if name.startswith("target_"):
            text = f"{names[int(v)]} (sector {int(v)})" if v >= 0 else str(int(v))
        elif name == "status":
            text = f"{int(v)} ({', '.join(describe_status(v))})"
        elif isinstance(v, (np.floating, float)):
            text = f"{float(v):.10g}"
        else:
            text = str(v)
        lines.append(f"  {name:17s} {text:28s} {o.long_name}")
    lines.append("")
    sec = [o.name for o in rows if o.per == "sector"]
    width = max(23, max(len(n) for n in names) + 2)
    header = f"  {'':22s}" + "".join(f"{n:>{width}s}" for n in names)
    lines.append(header)
    for name in sec:
        cells = []
        for x in res[name]:
            if name == "regime":
                cells.append(REGIME_NAMES[int(x)] if x >= 0 else str(int(x)))
            elif isinstance(x, (np.floating, float)):
                cells.append(f"{float(x):.6g}")
            else:
                cells.append(str(x))
        lines.append(f"  {name:22s}" + "".join(f"{c:>{width}s}" for c in cells))
    if spec.outputs["equilibria"]:
        lines += ["", *equilibrium_lines(res, names, spec.outputs["equilibria"])]
    return "\n".join(lines)


#: the equilibrium group's per-point output, printed with its list
EQUILIBRIUM_POINT_NAMES = ("eq_listed",)


def equilibrium_lines(res, names, k):
    """The equilibrium list as text: one line per listed equilibrium."""
    n = int(res["eq_listed"])
    out = [f"  the {n} best stable equilibria (eq_listed = {n} of at most {k}; "
           f"n_equilibria = {int(res['n_equilibria'])}), best first:",
           f"  {'#':>4s} {'eq_mask':>10s} {'eq_welfare':>18s} {'eq_wage':>18s}  cooperating"]
    for e in range(n):
        mask = int(res["eq_mask"][e])
        coop = [names[i] for i in range(len(names)) if (mask >> i) & 1]
        out.append(f"  {e:4d} {mask:10d} {float(res['eq_welfare'][e]):18.10g} "
                   f"{float(res['eq_wage'][e]):18.10g}  {', '.join(coop) or '(none)'}")
    return out


def main(args):
    from coordsweep.engine.api import point_spec
    from coordsweep.engine.spec.model import load_spec
    spec = load_spec(args.spec)
    at = parse_at(args.at)
    if at:
        spec = point_spec(spec, at)
        if not args.json:
            print("at " + ", ".join(f"{k} = {v!r}" for k, v in at.items()))
    if args.json:
        print(json.dumps(solve_json(spec)))
    else:
        print(solve_text(spec))
    return EXIT_OK
