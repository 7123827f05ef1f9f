"""The `coordsweep` command line (CONTRACT.md "Command line").

Exit codes: 0 success, 2 bad input (spec, arguments, store), 1 anything else.
"""
import argparse
import json
import math
import sys

from coordsweep.engine.errors import CoordsweepError

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
#: `inspect --check`: the store is incomplete
EXIT_INCOMPLETE = 3
#: interrupted (Ctrl-C), after a clean stop: 128 + SIGINT, as shells expect
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but bad arguments raise (exit 2 with our one-line message)."""

    def error(self, message):
        raise _ArgError(f"{self.prog}: {message}")


class _ArgError(Exception):
    pass


def _json_value(v):
    import numpy as np
    if isinstance(v, np.ndarray):
        return [_json_value(x) for x in v.tolist()]
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


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
            obj[name] = _json_value(v)
    return obj


def solve_text(spec):
    import numpy as np

    from coordsweep.engine.results import describe_status
    from coordsweep.kernels.codes import REGIME_NAMES
    from coordsweep.kernels.outputs import OUTPUTS
    res = solve_result(spec)
    names = spec.sector_names
    lines = [f"{spec.name or spec.source}: {spec.n_sectors} sectors, "
             f"labor = {spec.labor:g}, labor_share = {spec.labor_share:g}", ""]
    for name, per, _, units, long_name in OUTPUTS:
        if per != "point":
            continue
        v = res[name]
        if name.startswith("target_"):
            text = f"{names[int(v)]} (sector {int(v)})" if v >= 0 else str(int(v))
        elif name == "status":
            text = f"{int(v)} ({', '.join(describe_status(v))})"
        elif isinstance(v, (np.floating, float)):
            text = f"{float(v):.10g}"
        else:
            text = str(v)
        lines.append(f"  {name:17s} {text:28s} {long_name}")
    lines.append("")
    sec = [o for o in OUTPUTS if o[1] == "sector"]
    width = max(23, max(len(n) for n in names) + 2)
    header = f"  {'':22s}" + "".join(f"{n:>{width}s}" for n in names)
    lines.append(header)
    for name, *_ in sec:
        cells = []
        for x in res[name]:
            if name == "regime":
                cells.append(REGIME_NAMES[int(x)] if x >= 0 else str(int(x)))
            elif isinstance(x, (np.floating, float)):
                cells.append(f"{float(x):.6g}")
            else:
                cells.append(str(x))
        lines.append(f"  {name:22s}" + "".join(f"{c:>{width}s}" for c in cells))
    return "\n".join(lines)


def parse_at(items):
    """--at AXIS=VALUE items -> {axis: float}, in the order given."""
    at = {}
    for item in items or []:
        if "=" not in item:
            raise CoordsweepError(f"--at {item!r}: expected AXIS=VALUE")
        key, value = item.split("=", 1)
        try:
            at[key.strip()] = float(value)
        except ValueError:
            raise CoordsweepError(f"--at {item!r}: {value!r} is not a number") from None
    return at


def cmd_solve(args):
    from coordsweep.engine.api import point_spec
    from coordsweep.engine.spec import load_spec
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


def format_summary(result, spec, dashboard=True):
    from coordsweep.kernels.codes import REGIME_NAMES
    s = result.summary
    lines = [
        f"coordsweep run: {spec.name or spec.source} -> {result.store}",
        f"  points            {s['points']:,} over axes "
        + (" x ".join(f"{name}[{n}]" for name, n in spec.dim_sizes) or "(none)"),
        f"  chunks            {result.chunks_computed} computed this run, "
        f"{result.chunks_total} in all",
        *([f"  part              {result.part[0]}/{result.part[1]}"] if result.part else []),
        *([f"  workers           {result.workers.describe()}"] if result.workers else []),
        *([f"  dashboard         {result.workers.dashboard}"]
          if dashboard and result.workers and result.workers.dashboard else []),
        f"  wall time         {result.wall_seconds:.1f} s "
        f"({result.compute_seconds:.1f} s computing, the rest start-up and summary)",
        (f"  points/s          {result.points_per_second:,.0f} overall, "
         f"{result.compute_points_per_second:,.0f} while computing"
         if result.points_computed else
         "  points/s          - (nothing to compute: every chunk was already done)"),
        f"  > 1 equilibrium   {100 * s['share_multiple_equilibria']:.1f}% of points",
        "  regimes (points per sector):",
    ]
    names = spec.sector_names
    width = max(12, max(len(n) for n in names) + 2)
    lines.append(f"    {'':22s}" + "".join(f"{n:>{width}s}" for n in names))
    per = s["regime_counts_per_sector"]
    for k, rname in enumerate(REGIME_NAMES):
        lines.append(f"    {rname:22s}" + "".join(f"{int(c):>{width},d}" for c in per[:, k]))
    bad = {k: v for k, v in s["status_bits"].items() if v}
    lines.append(f"  status            ok {s['status_ok']:,} of {s['points']:,}"
                 + ("" if not bad else "; " + ", ".join(f"{k} {v:,}" for k, v in bad.items())))
    return "\n".join(lines)


def cmd_run(args):
    from coordsweep.engine.runner import run_sweep
    from coordsweep.engine.spec import load_spec
    spec = load_spec(args.spec)
    if args.repair and not args.resume:
        raise CoordsweepError("--repair goes with --resume (it recomputes the chunks "
                              "that `inspect --verify` finds bad)")
    if args.dry_run:
        from coordsweep.engine.preflight import dry_run_text
        print(dry_run_text(spec, args.store, chunk_points=args.chunk_points,
                           workers=args.workers))
        return EXIT_OK
    cluster = {k: getattr(args, k) for k in ("jobs", "cores", "memory", "walltime", "queue",
                                              "account", "job_extra", "host")}
    cluster["kind"] = args.cluster
    show = None if args.quiet else (lambda link: print(f"coordsweep: dashboard {link}",
                                                       file=sys.stderr, flush=True))
    try:
        result = run_sweep(spec, args.store, scheduler=args.scheduler, workers=args.workers,
                           resume=args.resume, overwrite=args.overwrite,
                           chunk_points=args.chunk_points, progress=not args.quiet,
                           cluster=cluster, scheduler_file=args.scheduler_file,
                           resume_or_create=args.resume_or_create, part=args.part,
                           on_dashboard=show, repair=args.repair, solver=args.solver)
    except KeyboardInterrupt:
        print("coordsweep: interrupted; the store keeps every finished chunk: "
              "run again with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps(summary_json(result, spec)))
    else:
        print(format_summary(result, spec, dashboard=not args.quiet))
    return EXIT_OK


def summary_json(result, spec):
    """The run summary as one JSON-ready dict."""
    from coordsweep.kernels.codes import REGIME_NAMES
    s = result.summary
    per = s["regime_counts_per_sector"]
    return {
        "store": str(result.store),
        "name": spec.name,
        "points": int(s["points"]),
        "dims": {name: int(n) for name, n in spec.dim_sizes},
        "chunks_computed": int(result.chunks_computed),
        "chunks_total": int(result.chunks_total),
        "points_computed": int(result.points_computed),
        "wall_seconds": _json_value(float(result.wall_seconds)),
        "compute_seconds": _json_value(float(result.compute_seconds)),
        "points_per_second": _json_value(float(result.points_per_second)),
        "share_multiple_equilibria": _json_value(float(s["share_multiple_equilibria"])),
        "regime_counts": {k: int(v) for k, v in s["regime_counts"].items()},
        "regime_counts_per_sector": {
            name: {r: int(per[j, k]) for k, r in enumerate(REGIME_NAMES)}
            for j, name in enumerate(spec.sector_names)},
        "status_ok": int(s["status_ok"]),
        "status_bits": {k: int(v) for k, v in s["status_bits"].items()},
        "workers": result.workers.count if result.workers else None,
        "workers_chosen_by": result.workers.how if result.workers else None,
        "dashboard": result.workers.dashboard if result.workers else None,
        "part": list(result.part) if result.part else None,
    }


def _existing_store(path):
    """A coordsweep store's location; exit 2 when there is none or it is not
    a coordsweep store."""
    from coordsweep.engine import store as zstore
    return zstore.existing(path)


def cmd_inspect(args):
    from coordsweep.engine import lease, results
    from coordsweep.engine import store as zstore
    path = _existing_store(args.store)
    held = lease.read(path)
    if held is not None:
        held = dict(held, state_of_run="stale (its run is gone)" if lease.is_stale(held)
                    else "in progress")
    checked = None
    if args.verify:
        from coordsweep.engine import verify
        checked = verify.check(path)
    if args.json:
        from coordsweep.engine.storeinfo import inspect_dict
        info = inspect_dict(path)
        if held is not None:
            info["run"] = held
        if checked is not None:
            info["verify"] = {"bad": {str(k): v for k, v in checked["bad"].items()},
                              "not_computed": checked["not_computed"]}
        print(json.dumps(info))
        complete = info["complete"]
    else:
        print(results.describe(path))
        if held is not None:
            print(f"run: {held['state_of_run']}: {lease.describe(held)}")
        if checked is not None:
            from coordsweep.engine import verify
            print(verify.format_check(checked))
        complete = bool(zstore.done_chunks(path).all())
    if checked is not None and (checked["bad"] or checked["not_computed"]):
        return EXIT_FAIL
    if args.check and not complete:
        return EXIT_INCOMPLETE
    return EXIT_OK


def cmd_export(args):
    from coordsweep.engine.export import export
    out = export(_existing_store(args.store), args.output, args.format,
                 incomplete=args.incomplete, overwrite=args.overwrite)
    if not args.quiet:
        print(f"wrote {out}")
    return EXIT_OK


def cmd_plot(args):
    from coordsweep.engine import store as zstore
    from coordsweep.engine.plot import plot
    store = _existing_store(args.store)
    select = {}
    for item in args.select or []:
        if "=" not in item:
            raise CoordsweepError(f"--select {item!r}: expected AXIS=VALUE")
        key, value = item.split("=", 1)
        try:
            select[key] = float(value)
        except ValueError:
            raise CoordsweepError(f"--select {item!r}: {value!r} is not a number") from None
    res = plot(zstore.open_dataset(store), x=args.x, y=args.y, var=args.var,
               sector=args.sector, select=select, out=args.output,
               width=args.width, height=args.height)
    print(f"wrote {res['path']}")
    return EXIT_OK


def cmd_report(args):
    from coordsweep.engine import store as zstore
    from coordsweep.engine.report import write_report
    path = write_report(zstore.open_dataset(_existing_store(args.store)), args.output)
    print(f"wrote {path}")
    return EXIT_OK


def cmd_sensitivity(args):
    from coordsweep.engine import sensitivity, store as zstore
    res = sensitivity.indices(zstore.open_dataset(_existing_store(args.store)), args.var,
                              sector=args.sector, category=args.category)
    if args.output:
        sensitivity.plot_indices(res, args.output)
    if args.json:
        print(json.dumps(sensitivity.to_json(res)))
    else:
        print(sensitivity.format_text(res))
        if args.output:
            print(f"wrote {args.output}")
    return EXIT_OK


def cmd_bench(args):
    from coordsweep.engine import bench
    out = bench.check_output(args.output)
    if args.plot is not None and not args.plot.endswith(".png"):
        raise CoordsweepError(f"--plot {args.plot}: must end in .png")
    variants = None if args.variants is None else \
        [v.strip() for v in args.variants.split(";") if v.strip()]
    etas = tuple(e == 1 for e in sorted(set(args.eta)))
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    ds = bench.run_bench(quick=args.quick, sectors=args.sectors, etas=etas, variants=variants,
                         budget=args.budget, repeats=args.repeats, seed=args.seed,
                         cold=args.cold, log=log)
    print(bench.format_table(ds))
    if out is not None:
        print(f"wrote {bench.write_dataset(ds, out)}")
    if args.plot is not None:
        print(f"wrote {bench.plot_rates(ds, args.plot)}")
    return EXIT_OK


class _Version(argparse.Action):
    """--version, looking the version up only when asked (importlib.metadata)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        import coordsweep
        print(f"coordsweep {coordsweep.__version__}")  # (stdout, like argparse's)
        parser.exit()


def cmd_warmup(args):
    from coordsweep.kernels import api
    seconds = api.warmup()
    where = api.cache_dir()
    print(f"kernels ready in {sum(seconds.values()):.1f} s ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()) + "); "
          + (f"numba cache: {where}" if where else
             "numba's cache is off (COORDSWEEP_NUMBA_CACHE=0): nothing was kept"))
    return EXIT_OK


def build_parser():
    p = _Parser(prog="coordsweep",
                description="Sweeps of a multi-sector model of coordination failures and clusters.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True
    s = sub.add_parser("solve", help="solve the spec's base point (axes ignored)")
    s.add_argument("spec", help="sweep spec (TOML)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--at", action="append", metavar="AXIS=VALUE",
                   help="solve the point where this axis has this value (any axis name "
                   "of a spec, applied like an axis; repeatable; the spec's own axes "
                   "are otherwise ignored)")
    s.set_defaults(func=cmd_solve)
    r = sub.add_parser("run", help="run the whole grid into a zarr store")
    r.add_argument("spec", help="sweep spec (TOML)")
    r.add_argument("--store", help="zarr store path or URL (default: the spec's "
                   "[run] store, else results/<spec name>.zarr)")
    r.add_argument("--scheduler",
                   help="local (default: a dask.distributed cluster sized to the CPUs this "
                   "process may use), threads, synchronous, or a scheduler address "
                   "tcp://host:port")
    r.add_argument("--workers", type=int, help="workers (local) or threads (threads)")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run")
    r.add_argument("--resume-or-create", action="store_true", dest="resume_or_create",
                   help="continue the store, or start it when there is none (batch "
                   "scripts: one command line for the first start and every restart)")
    from coordsweep.engine.cli_cluster import add_run_options
    add_run_options(r)
    r.add_argument("--overwrite", action="store_true", help="replace an existing store")
    r.add_argument("--chunk-points", type=int, dest="chunk_points",
                   help="points per task/zarr chunk (default: 1/16 of the grid, "
                   "within 10000..100000)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    r.add_argument("--dry-run", action="store_true", dest="dry_run",
                   help="print the points, chunks, store size and time of the run "
                   "(from one timed sample chunk) and write nothing")
    r.add_argument("--repair", action="store_true",
                   help="with --resume: compute again the chunks `inspect --verify` "
                   "finds bad")
    r.add_argument("--solver", metavar="SLOT=NAME,...",
                   help="solver variants, overriding the spec's [run.solver], e.g. "
                   "wage=brent,equilibria=brute (see the README's solver variants)")
    r.set_defaults(func=cmd_run)
    i = sub.add_parser("inspect", help="what a store holds, how complete it is, its spec")
    i.add_argument("store")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.add_argument("--check", action="store_true",
                   help=f"exit {EXIT_INCOMPLETE} when the run is incomplete")
    i.add_argument("--verify", action="store_true",
                   help="read every chunk, check it against the completion record, "
                   "name the bad ones (exit 1 when a chunk is bad or not computed)")
    i.set_defaults(func=cmd_inspect)
    e = sub.add_parser("export", help="the store's computed points as netCDF-4 (CF), "
                       "Parquet or CSV")
    e.add_argument("store")
    e.add_argument("output", help="file to write (.nc, .parquet, .csv)")
    e.add_argument("--format", choices=("netcdf", "parquet", "csv"),
                   help="default: from the file's suffix, else netcdf")
    e.add_argument("--incomplete", action="store_true",
                   help="export a store whose run is not complete: netCDF holds fill "
                   "values at the points not computed, tables leave them out")
    e.add_argument("--overwrite", action="store_true", help="replace an existing file")
    e.add_argument("--quiet", action="store_true", help="print nothing")
    e.set_defaults(func=cmd_export)
    pl = sub.add_parser("plot", help="plot a variable of a store (line or map)")
    pl.add_argument("store")
    pl.add_argument("--x", required=True, help="axis on the horizontal")
    pl.add_argument("--y", help="axis on the vertical (a map)")
    pl.add_argument("--var", required=True, help="variable to plot")
    pl.add_argument("--sector", help="sector, for per-sector variables")
    pl.add_argument("--select", action="append", metavar="AXIS=VALUE",
                    help="fix another axis (nearest value); repeatable")
    pl.add_argument("-o", "--output", required=True, help="PNG file to write")
    pl.add_argument("--width", type=int, default=800, help="pixels")
    pl.add_argument("--height", type=int, default=600, help="pixels")
    pl.set_defaults(func=cmd_plot)
    rp = sub.add_parser("report", help="HTML report of a store (figures, spec, provenance)")
    rp.add_argument("store")
    rp.add_argument("-o", "--output", required=True, help="directory to write")
    rp.set_defaults(func=cmd_report)
    sa = sub.add_parser("sensitivity", help="Sobol or Morris indices of an output "
                        "over a design store")
    sa.add_argument("store")
    sa.add_argument("--var", required=True, help="output to analyse")
    sa.add_argument("--sector", help="sector, for per-sector outputs")
    sa.add_argument("--category", help="analyse the indicator of this category (a regime "
                    "name, a sector name for target_*, 'multiple' for n_equilibria > 1)")
    sa.add_argument("--json", action="store_true", help="print one JSON object")
    sa.add_argument("-o", "--output", help="PNG bar chart of the indices")
    sa.set_defaults(func=cmd_sensitivity)
    from coordsweep.engine.cli_cluster import add_slurm_script
    add_slurm_script(sub)
    b = sub.add_parser("bench", help="time solver variants and baselines (C, SciPy) "
                       "on one core and compare what they find")
    b.add_argument("--quick", action="store_true", help="about a minute: fewer N, "
                   "short budgets, SciPy only up to 6 sectors")
    b.add_argument("--sectors", type=int, nargs="+", metavar="N",
                   help="numbers of sectors (default 1..12; --quick 1 2 3 4 6 8 10 12)")
    b.add_argument("--eta", type=int, nargs="+", choices=(0, 1), default=[0, 1],
                   help="0: every eta = 0; 1: eta > 0 (default both)")
    b.add_argument("--variants", help="variants separated by ';' (numba: the reference, "
                   "always run; c; scipy; solver variants such as equilibria=mitm or "
                   "wage=brent,path=bisect); default: numba, the built-in solver "
                   "variants one at a time, c, scipy (--quick: numba, wage=brent, "
                   "equilibria=mitm, c, scipy)")
    b.add_argument("--budget", type=float, help="seconds per variant and cell")
    b.add_argument("--repeats", type=int, help="timed repeats per cell (median reported)")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--cold", action=argparse.BooleanOptionalAction, default=None,
                   help="measure the kernels' compile time in a fresh process without "
                   "numba's cache (default: on, off with --quick)")
    b.add_argument("-o", "--output", help="also write the dataset (.nc or .zarr)")
    b.add_argument("--plot", help="also plot points/s against N per variant (.png)")
    b.add_argument("--quiet", action="store_true", help="no progress lines")
    b.set_defaults(func=cmd_bench)
    w = sub.add_parser("warmup", help="compile the kernels once into numba's cache (after "
                       "installing or editing the kernels; before a job array starts)")
    w.set_defaults(func=cmd_warmup)
    return p


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        # (after parsing: --help and --version import nothing more)
        from coordsweep.engine import conventions
        conventions.set_command(sys.argv[1:] if argv is None else argv)
        return args.func(args)
    except KeyboardInterrupt:
        print("coordsweep: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _ArgError as exc:
        print(f"coordsweep: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CoordsweepError as exc:
        print(f"coordsweep: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - run-time failures: one line, exit 1
        from coordsweep.engine.faults import runtime_message
        msg = runtime_message(exc)
        if msg is None:
            raise
        print(f"coordsweep: error: {msg}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    raise SystemExit(main())
