"""`coordsweep run SPEC ...`: the whole grid into a zarr store, then a summary."""
import json
import sys

from coordsweep.engine.cli.common import EXIT_INTERRUPTED, EXIT_OK, interruptible
from coordsweep.engine.errors import CoordsweepError


def register(sub):
    r = sub.add_parser("run", help="run the whole grid into a zarr store")
    r.add_argument("spec", help="sweep spec (TOML)")
    r.add_argument("--store", help="zarr store path or URL (default: the spec's "
                   "[run] store, else results/<spec file name without .toml>.zarr)")
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
                   help="solver variants, overriding the spec's [run.solver] slot by slot, e.g. "
                   "wage=brent,equilibria=brute (see the README's solver variants)")
    r.add_argument("--refine", metavar="VAR[,VAR]",
                   help="adaptive refinement on these categorical outputs (e.g. "
                   "regime,target_best), over the spec's [run.refine] 'on': the coarse "
                   "sub-grid, then only the cells whose corners differ")
    r.set_defaults(func=main)


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
                           workers=1 if args.scheduler == "synchronous" else args.workers))
        return EXIT_OK
    cluster = {k: getattr(args, k) for k in ("jobs", "cores", "memory", "walltime", "queue",
                                              "account", "job_extra", "host")}
    cluster["kind"] = args.cluster
    show = None if args.quiet else (lambda link: print(f"coordsweep: dashboard {link}",
                                                       file=sys.stderr, flush=True))
    interruptible()
    try:
        result = run_sweep(spec, args.store, scheduler=args.scheduler, workers=args.workers,
                           resume=args.resume, overwrite=args.overwrite,
                           chunk_points=args.chunk_points, progress=not args.quiet,
                           cluster=cluster, scheduler_file=args.scheduler_file,
                           resume_or_create=args.resume_or_create, part=args.part,
                           on_dashboard=show, repair=args.repair, solver=args.solver,
                           refine=args.refine)
    except KeyboardInterrupt:
        _warn_ignored(args)
        print("coordsweep: interrupted; " + _interrupted_hint(spec, args.store), file=sys.stderr)
        return EXIT_INTERRUPTED
    _warn_ignored(args)  # (after the run: an error stays the one line it is)
    from coordsweep.engine.analysis.info import run_summary, run_summary_text
    from coordsweep.engine.analysis.jsonvalue import json_value
    summary = run_summary(result, spec)
    if args.json:
        print(json.dumps(json_value(summary)))
    else:
        print(run_summary_text(summary, dashboard=not args.quiet))
    return EXIT_OK


def _warn_ignored(args):
    for ignored in _ignored_options(args):
        print(f"coordsweep: warning: {ignored}", file=sys.stderr)


def _ignored_options(args):
    """What the command line asks for that this run will not do (the run
    goes on: a warning each)."""
    out = []
    if args.workers is not None and args.scheduler is not None:
        if args.scheduler == "synchronous":
            out.append("--workers is ignored with --scheduler synchronous (one thread "
                       "computes); use --scheduler threads or local for more")
        elif "://" in args.scheduler:
            out.append(f"--workers is ignored with --scheduler {args.scheduler}: the "
                       "running scheduler's workers compute")
    if args.chunk_points is not None and args.resume:
        out.append("--chunk-points is ignored with --resume: the store keeps its chunks")
    return out


def _interrupted_hint(spec, store):
    """What to do after Ctrl-C: resume the store, or (when it was not made
    yet) run the command again."""
    from coordsweep.engine.store import zarrstore as zstore
    try:
        made = zstore.exists(zstore.location(spec, store))
    except Exception:  # noqa: BLE001 - a hint only: say the usual
        made = True
    if made:
        return "the store keeps every finished chunk: run again with --resume to continue"
    return "no store was made yet: run the same command again"
