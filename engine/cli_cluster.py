"""Command-line options for cluster users: `run --cluster/--part/...` and
`coordsweep slurm-script` (see engine/cluster.py and engine/parts.py)."""
import os
import sys

from coordsweep.engine.errors import UsageError


def add_run_options(r):
    g = r.add_argument_group("batch clusters (SLURM, PBS; needs coordsweep[hpc])")
    g.add_argument("--cluster", choices=("slurm", "pbs"),
                   help="start a dask-jobqueue cluster of batch jobs (adaptive)")
    g.add_argument("--jobs", type=int, help="at most this many jobs (default 1)")
    g.add_argument("--cores", type=int, help="cores per job = single-threaded workers per job")
    g.add_argument("--memory", help="memory per job, e.g. 8GB")
    g.add_argument("--walltime", help="walltime per job, e.g. 01:00:00; workers retire "
                   "before it and new jobs take over")
    g.add_argument("--queue", help="partition / queue")
    g.add_argument("--account", help="account to charge")
    g.add_argument("--job-extra", action="append", dest="job_extra", metavar="DIRECTIVE",
                   help="extra #SBATCH/#PBS directive, e.g. --job-extra=--qos=short "
                   "(repeatable)")
    g.add_argument("--scheduler-host", dest="host",
                   help="address the cluster's dask scheduler listens on")
    g.add_argument("--scheduler-file", dest="scheduler_file", metavar="PATH",
                   help="connect to the scheduler described in PATH "
                   "(dask scheduler --scheduler-file PATH)")
    g.add_argument("--part", metavar="K/M",
                   help="compute only part K of M of the chunks (job arrays; no scheduler "
                   "needed): creates or resumes the shared store")


def cmd_slurm_script(args):
    from coordsweep.engine import store as zstore
    from coordsweep.engine.parts import slurm_script
    from coordsweep.engine.runner import default_store
    from coordsweep.engine.spec import load_spec
    spec = load_spec(args.spec)
    store = zstore.normalize(args.store or default_store(spec))
    if "://" not in store:
        store = os.path.abspath(store)
    text = slurm_script(args.spec, spec, array=args.array, store=store, cpus=args.cpus,
                        time=args.time, mem=args.mem, partition=args.partition,
                        account=args.account, job_extra=args.job_extra or ())
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    if os.path.exists(args.output) and not args.overwrite:
        raise UsageError(f"-o {args.output}: exists; pass --overwrite to replace it")
    with open(args.output, "w") as f:
        f.write(text)
    os.chmod(args.output, 0o755)
    print(f"wrote {args.output}: sbatch {args.output}")
    return 0


def add_slurm_script(sub):
    s = sub.add_parser("slurm-script", help="write an sbatch job-array script running a sweep "
                       "in M parts (no dask scheduler)")
    s.add_argument("spec", help="sweep spec (TOML)")
    s.add_argument("--array", type=int, required=True, metavar="M", help="number of parts")
    s.add_argument("--store", help="store (default: as `coordsweep run`)")
    s.add_argument("--cpus", type=int, help="CPUs per array task (default 1)")
    s.add_argument("--time", help="time limit per task, e.g. 02:00:00")
    s.add_argument("--mem", help="memory per task, e.g. 4G")
    s.add_argument("--partition", help="SLURM partition")
    s.add_argument("--account", help="SLURM account")
    s.add_argument("--job-extra", action="append", dest="job_extra", metavar="DIRECTIVE",
                   help="extra #SBATCH line, e.g. --job-extra=--qos=short (repeatable)")
    s.add_argument("-o", "--output", help="script to write (default: standard output)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing script")
    s.set_defaults(func=cmd_slurm_script)
