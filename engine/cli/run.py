"""`coordsweep run SPEC ...`: the whole grid into a zarr store, then a summary."""
import json
import sys

from coordsweep.engine.cli.common import EXIT_INTERRUPTED, EXIT_OK, json_value
from coordsweep.engine.errors import CoordsweepError


def register(sub):
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
    from coordsweep.engine.cli.cluster_options import add_run_options
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
    r.add_argument("--refine", metavar="VAR[,VAR]",
                   help="adaptive refinement on these categorical outputs (e.g. "
                   "regime,target_best), over the spec's [run.refine] 'on': the coarse "
                   "sub-grid, then only the cells whose corners differ")
    r.set_defaults(func=main)


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
        *([f"  refined           {result.points_computed:,} points solved "
           f"({100 * result.points_computed / s['points']:.1f}%), the rest filled "
           f"(status bit filled)"] if s["status_bits"].get("filled") else []),
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
        "wall_seconds": json_value(float(result.wall_seconds)),
        "compute_seconds": json_value(float(result.compute_seconds)),
        "points_per_second": json_value(float(result.points_per_second)),
        "share_multiple_equilibria": json_value(float(s["share_multiple_equilibria"])),
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


def main(args):
    from coordsweep.engine.run.runner import run_sweep
    from coordsweep.engine.spec.model import load_spec
    spec = load_spec(args.spec)
    if args.repair and not args.resume:
        raise CoordsweepError("--repair goes with --resume (it recomputes the chunks "
                              "that `inspect --verify` finds bad)")
    if args.dry_run:
        from coordsweep.engine.run.preflight import dry_run_text
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
                           on_dashboard=show, repair=args.repair, solver=args.solver,
                           refine=args.refine)
    except KeyboardInterrupt:
        print("coordsweep: interrupted; the store keeps every finished chunk: "
              "run again with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps(summary_json(result, spec)))
    else:
        print(format_summary(result, spec, dashboard=not args.quiet))
    return EXIT_OK
