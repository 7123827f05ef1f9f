"""Where a sweep's tasks run: worker counts, thread pinning, dask clients
and batch-system clusters (SLURM / PBS through dask-jobqueue).

``open_client(...)`` is the one entry point of the runner: it yields a
``(client, info)`` pair, ``client`` None for dask's in-process schedulers,
``info`` a :class:`Workers` saying how many workers there are, how that
number was chosen, and the dashboard link. Nothing here changes the
caller's ``os.environ``: worker processes get their thread limits through
their own environment (the nanny's ``env``, the job script's exports).
"""
import contextlib
import logging
import os
import re
import sys
from dataclasses import dataclass

from coordsweep.engine.errors import UsageError
from coordsweep.engine.spec.model import CLUSTER_KEYS

#: every worker process is single-threaded below dask: no oversubscription
PINNED_THREADS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "MKL_NUM_THREADS")
CLUSTER_KINDS = ("slurm", "pbs")


#: glibc malloc of every worker process: arrays up to 32 MiB come from the
#: heap and are reused, and up to 256 MiB of freed heap is kept. distributed's
#: nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers (hand freed memory
#: back to the OS at once), which also freezes glibc's mmap threshold at
#: 128 KiB: every larger array (the kernel's NumPy passes, a chunk's outputs)
#: is then a fresh mmap, page-faulted in and unmapped again. Measured on the
#: 4e6-point grid, synchronous scheduler: 290,000 points/s with that setting
#: against 500,000 without (system time 5.9 s against 1.0 s); a one-worker
#: local cluster had the same 40% loss. (The value in the caller's
#: environment, if any, wins for a local cluster.)
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20),
              "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


#: dask settings of a local cluster the run starts (its scheduler and
#: nannies live in the run's process, its workers get them from their
#: nanny). Each worker is one process computing and writing its chunks in
#: one thread; distributed's defaults add, in every worker, a statistical
#: profiler sampling that thread's stack every 10 ms (it takes the GIL
#: from the task each time) and, in the run's process, a memory poll of
#: every worker every 100 ms and a system monitor every 500 ms: on a
#: machine with as many workers as cores, CPU taken from the tasks. The
#: dashboard's task stream and progress are unaffected; its profile page
#: stays empty and its memory and CPU plots update every 2 s.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "2s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.tick.interval": "200ms",
}


def thread_env():
    """The environment pinning a worker process to one thread."""
    return {var: "1" for var in PINNED_THREADS}


def worker_env():
    """The environment of a worker process: one thread, and malloc as above."""
    return {**thread_env(), **MALLOC_ENV}


@dataclass
class Workers:
    """How many workers ran the tasks and why (for the run summary)."""
    count: int | None
    how: str
    dashboard: str | None = None
    started: bool = False  # this run started them (a local cluster, batch-system jobs)

    def describe(self):
        n = "?" if self.count is None else f"{self.count}"
        return f"{n} ({self.how})"


def local_worker_count(requested=None):
    """(n, how): workers of a local cluster / threads of the threaded scheduler.

    ``requested`` wins; otherwise the CPUs this process may run on (dask's
    ``cpu_count``: CPU affinity, cgroup quota), and within a SLURM job at
    most ``SLURM_CPUS_PER_TASK`` (SLURM does not always restrict the
    affinity: ``TaskPlugin=task/none``)."""
    if requested is not None:
        return int(requested), "--workers"
    from dask.system import cpu_count
    n = max(1, int(cpu_count()))
    how = "CPUs this process may use (affinity/cgroup)"
    total = os.cpu_count() or n
    if n < total:
        how = f"CPUs this process may use: {n} of {total} (affinity/cgroup)"
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "").strip()
    if slurm.isdigit() and 0 < int(slurm) < n:
        n, how = int(slurm), f"SLURM_CPUS_PER_TASK={slurm}"
    return n, how


# --- batch-system clusters ----------------------------------------------------
def parse_walltime(text):
    """Seconds of a SLURM/PBS walltime: [D-]HH:MM:SS, MM:SS or minutes."""
    m = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(?:(\d+):)?(\d+)", str(text).strip())
    if not m:
        raise UsageError(f"--walltime {text!r}: expected [D-]HH:MM:SS, HH:MM or minutes")
    days, a, b, c = m.groups()
    parts = [int(x) for x in (a, b, c) if x is not None]
    if len(parts) == 1 and days is None:
        secs = parts[0] * 60                       # "90": minutes, as sbatch -t
    elif len(parts) == 1:
        secs = parts[0] * 3600                     # "1-12": days-hours
    elif len(parts) == 2:
        secs = parts[0] * 3600 + parts[1] * 60 if days else parts[0] * 60 + parts[1]
    else:
        secs = parts[0] * 3600 + parts[1] * 60 + parts[2]
    secs += int(days or 0) * 86400
    if secs <= 0:
        raise UsageError(f"--walltime {text!r}: must be > 0")
    return secs


def worker_lifetime(walltime_seconds):
    """(lifetime, stagger) in seconds: workers retire (their tasks move to
    other workers, finished chunks stay written) before the batch system
    kills the job at its walltime; staggered so that not all leave at once."""
    w = walltime_seconds
    stagger = min(0.05 * w, 300.0)
    lifetime = max(w - max(0.1 * w, 60.0 + stagger), 0.5 * w)
    return int(lifetime), int(stagger)


def cluster_options(spec_cluster=None, **cli):
    """Merge ``[run.cluster]`` and the command line (which wins) into one
    validated dict; None when no cluster is asked for."""
    opts = dict(spec_cluster or {})
    for key, value in cli.items():
        if value is not None and value != []:
            opts[key] = value
    if not opts.get("kind"):
        extra = sorted(k for k in opts if k != "kind")
        if extra:
            raise UsageError(f"--{extra[0].replace('_', '-')} needs --cluster slurm|pbs "
                             "(or kind in [run.cluster])")
        return None
    unknown = sorted(set(opts) - set(CLUSTER_KEYS))
    if unknown:
        raise UsageError(f"[run.cluster]: unknown key {unknown[0]!r}")
    if opts["kind"] not in CLUSTER_KINDS:
        raise UsageError(f"--cluster must be one of {', '.join(CLUSTER_KINDS)}, "
                         f"got {opts['kind']!r}")
    for key in ("jobs", "cores"):
        v = opts.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise UsageError(f"--{key} must be an integer >= 1, got {v!r}")
    for key in ("memory", "walltime", "queue", "account", "host"):
        if key in opts and not isinstance(opts[key], str):
            raise UsageError(f"[run.cluster] {key} must be a string, got {opts[key]!r}")
    if "walltime" in opts:
        parse_walltime(opts["walltime"])
    extra = opts.get("job_extra", [])
    if isinstance(extra, str):
        extra = [extra]
    if not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
        raise UsageError(f"[run.cluster] job_extra must be a list of strings, got {extra!r}")
    opts["job_extra"] = extra
    opts.setdefault("jobs", 1)
    return opts


def make_jobqueue_cluster(opts):
    """A dask-jobqueue SLURMCluster/PBSCluster for `opts` (cluster_options),
    adaptive up to opts["jobs"] jobs, one single-threaded worker per core,
    worker lifetimes shorter than the walltime."""
    try:
        import dask_jobqueue
    except ImportError:
        raise UsageError("--cluster needs dask-jobqueue: pip install 'coordsweep[hpc]'") from None
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[opts["kind"]]
    kwargs = {"job_script_prologue": [f"export {k}={v}" for k, v in worker_env().items()],
              "python": sys.executable, "silence_logs": logging.ERROR}
    cores = opts.get("cores")
    if cores is not None:
        kwargs["cores"] = cores
        kwargs["processes"] = cores
    for key in ("memory", "walltime", "queue", "account"):
        if opts.get(key):
            kwargs[key] = opts[key]
    if opts.get("job_extra"):
        kwargs["job_extra_directives"] = list(opts["job_extra"])
    if opts.get("walltime"):
        life, stagger = worker_lifetime(parse_walltime(opts["walltime"]))
        kwargs["worker_extra_args"] = ["--lifetime", f"{life}s",
                                       "--lifetime-stagger", f"{stagger}s"]
    sched = {"dashboard_address": ":0"}
    if opts.get("host"):
        sched["host"] = opts["host"]
    kwargs["scheduler_options"] = sched
    try:
        cluster = cls(**kwargs)
    except ValueError as exc:  # e.g. no cores/memory given nor configured
        raise UsageError(f"--cluster {opts['kind']}: {exc}") from None
    cluster.adapt(minimum_jobs=0, maximum_jobs=opts["jobs"])
    return cluster


# --- clients ------------------------------------------------------------------
def _restore_environ(saved):
    for key in [k for k in os.environ if k not in saved]:
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored meanwhile (in the main thread; elsewhere a no-op)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _local_cluster(n):
    """A LocalCluster of n single-threaded worker processes whose thread
    limits are in their own environment.

    distributed's nanny sets ``distributed.nanny.pre-spawn-environ`` (and
    PYTHONHASHSEED) in the os.environ of the process that spawns the
    workers -- here the caller's -- because a spawned process inherits it.
    The caller's environment is put back as soon as the workers are
    spawned, and again when the cluster closes (a restarted worker sets
    it once more)."""
    import dask
    from distributed import LocalCluster
    saved = dict(os.environ)
    pre = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    pre.update(worker_env())
    try:
        # the workers inherit SIGINT ignored: Ctrl-C (sent to the whole
        # process group) stops this process, which then shuts them down,
        # rather than every worker dying with a traceback of its own
        with dask.config.set({"distributed.nanny.pre-spawn-environ": pre,
                              **LOCAL_CLUSTER_CONFIG}), _sigint_ignored():
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR,
                                   env=worker_env())
        _restore_environ(saved)
        with cluster:
            yield cluster
    finally:
        _restore_environ(saved)


def active_client():
    """The dask.distributed client this process already uses, if any."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client
    try:
        return default_client()
    except ValueError:
        return None


def _dashboard(client):
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard (bokeh missing, disabled)
        return None


def _connected(client):
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:  # noqa: BLE001
        return None


def is_dask_object(obj):
    """A Client or a cluster object (anything with a scheduler address)."""
    if isinstance(obj, str) or obj is None:
        return False
    from distributed import Client
    return isinstance(obj, Client) or hasattr(obj, "scheduler_address")


@contextlib.contextmanager
def open_client(scheduler, workers=None, cluster=None, scheduler_file=None):
    """Yield (client, Workers) for a run.

    scheduler: "synchronous" | "threads" | "local" | an address | a Client |
    a cluster object | None (an active client if there is one, else
    "local"); cluster: cluster_options() dict; scheduler_file: path."""
    if cluster is not None:
        from distributed import Client
        with make_jobqueue_cluster(cluster) as jq, Client(jq) as client:
            per_job = cluster.get("cores") or "?"
            yield client, Workers(None if per_job == "?" else cluster["jobs"] * per_job,
                                  f"--cluster {cluster['kind']}: adaptive, up to "
                                  f"{cluster['jobs']} jobs x {per_job} workers",
                                  _dashboard(client), started=True)
        return
    if scheduler_file is not None:
        from distributed import Client
        if not os.path.exists(scheduler_file):
            raise UsageError(f"--scheduler-file {scheduler_file}: no such file")
        try:
            client = Client(scheduler_file=scheduler_file, timeout="20s")
        except (OSError, ValueError, TimeoutError, KeyError) as exc:
            raise UsageError(f"--scheduler-file {scheduler_file}: cannot connect ({exc})") from None
        with client:
            yield client, Workers(_connected(client), f"connected at start to the scheduler "
                                  f"in {scheduler_file}", _dashboard(client))
        return
    if scheduler is None:
        client = active_client()
        if client is not None:
            yield client, Workers(_connected(client), "the active dask client's workers",
                                  _dashboard(client))
            return
        scheduler = "local"
    if is_dask_object(scheduler):
        from distributed import Client
        if isinstance(scheduler, Client):
            yield scheduler, Workers(_connected(scheduler), "the given dask client's workers",
                                     _dashboard(scheduler))
            return
        with Client(scheduler) as client:   # a cluster object: the caller owns it
            yield client, Workers(_connected(client), "the given cluster's workers at start",
                                  _dashboard(client))
        return
    if scheduler == "synchronous":
        yield None, Workers(1, "synchronous scheduler: one thread")
        return
    if scheduler == "threads":
        n, how = local_worker_count(workers)
        yield None, Workers(n, f"threads; {how}")
        return
    from distributed import Client
    if scheduler == "local":
        n, how = local_worker_count(workers)
        with _local_cluster(n) as lc, Client(lc) as client:
            yield client, Workers(n, how, _dashboard(client), started=True)
        return
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, ValueError, TimeoutError) as exc:
        raise UsageError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    with client:
        yield client, Workers(_connected(client), f"connected at start to {scheduler}",
                              _dashboard(client))


