"""`coordsweep slurm-script SPEC --array M`: an sbatch job-array script."""
import os
import sys

from coordsweep.engine.cli.common import output_path
from coordsweep.engine.errors import UsageError


def register(sub):
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
    s.set_defaults(func=main)


def main(args):
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.engine.run.jobarray import slurm_script
    from coordsweep.engine.spec.model import load_spec
    spec = load_spec(args.spec)
    spec.check_grid()  # (as `run` does: a part would fail on the cluster)
    store = zstore.location(spec, args.store or None)
    if "://" not in store:
        store = os.path.abspath(store)
    text = slurm_script(args.spec, spec, array=args.array, store=store, cpus=args.cpus,
                        time=args.time, mem=args.mem, partition=args.partition,
                        account=args.account, job_extra=args.job_extra or ())
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    output_path(args.output)
    if os.path.exists(args.output) and not args.overwrite:
        raise UsageError(f"-o {args.output}: exists; pass --overwrite to replace it")
    with open(args.output, "w") as f:
        f.write(text)
    os.chmod(args.output, 0o755)
    print(f"wrote {args.output}: sbatch {args.output}")
    return 0
