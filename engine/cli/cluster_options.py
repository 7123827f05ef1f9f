"""Command-line options for cluster users: `run --cluster/--part/...` and
`coordsweep slurm-script` (see engine/run/cluster.py and engine/run/jobarray.py)."""


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
