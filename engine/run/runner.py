"""Run a sweep: the grid in chunks, one dask task a chunk, into a zarr store.

``run(spec, store=...)`` is the Python API; ``coordsweep run`` calls
``run_sweep`` and prints its summary. Schedulers:

- ``"local"`` (default): a ``dask.distributed`` LocalCluster, one
  single-threaded worker process per core;
- ``"threads"``: dask's threaded scheduler, in-process; ``"synchronous"``:
  the tasks one after the other in this thread (no dask imported);
- ``"tcp://host:port"`` (any address): a running dask scheduler, e.g. one
  started by ``dask-jobqueue`` on SLURM/PBS (see the README);
- a ``distributed.Client`` or a cluster object; ``None`` (the API's
  default): the active client if there is one, else ``"local"``;
- ``cluster={"kind": "slurm", ...}`` / ``scheduler_file=``: see
  engine/run/cluster.py; ``part=(K, M)``: one part of a job array, see
  engine/run/jobarray.py.
"""
import time
from dataclasses import dataclass, field

from coordsweep.engine.analysis import results
from coordsweep.engine.errors import UsageError
from coordsweep.engine.run import cluster as zcluster
from coordsweep.engine.run import preflight
from coordsweep.engine.run import refine as zrefine
from coordsweep.engine.run import startup
from coordsweep.engine.run.cluster import PINNED_THREADS  # noqa: F401 - re-exported
from coordsweep.engine.run.executors import Chunks, executor, warm_kernels, warm_worker
from coordsweep.engine.run.plan import Request, make_plan, repaired
from coordsweep.engine.run.progress import Progress
from coordsweep.engine.spec import parts as zparts
from coordsweep.engine.spec.model import Spec, load_spec
from coordsweep.engine.store import lease
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.store.conventions import is_complete
from coordsweep.kernels import solvers

LOCAL_SCHEDULERS = ("synchronous", "threads", "local")


class _Warming:
    """executors.warm_worker on every worker of `client`, in a thread of its
    own (the client's calls may come from any thread); ``wait`` joins it
    and raises what the workers raised."""

    def __init__(self, client, spec, solver):
        import threading
        self._error = None

        def warm():
            try:
                client.run(warm_worker, spec, solver)
            except BaseException as exc:  # noqa: BLE001 - raised by wait()
                self._error = exc
        self._thread = threading.Thread(target=warm, name="coordsweep-warm", daemon=True)
        self._thread.start()

    def wait(self, raise_error=True):
        self._thread.join()
        if raise_error and self._error is not None:
            raise self._error


def resolve_solver(spec, solver=None):
    """The run's solver variants as canonical text: the spec's [run.solver],
    the slots `solver` names (CLI --solver, run(..., solver=...)) replaced;
    a user's wage function is imported here, so a bad name fails before
    any I/O."""
    try:
        parsed = solvers.override(spec.run.get("solver"), solver)
        if solvers.is_user(parsed.wage):
            solvers.load_user(parsed.wage)
    except solvers.SolverError as exc:
        raise UsageError(str(exc)) from None
    return solvers.text(parsed)


@dataclass
class RunResult:
    _dataset: object  # the Dataset, or a function that opens it (on first use)
    store: str
    points: int
    chunks_total: int
    chunks_computed: int
    wall_seconds: float
    compute_seconds: float
    summary: dict = field(default_factory=dict)

    points_computed: int = 0
    workers: zcluster.Workers | None = None  # how many ran the tasks, and why
    part: tuple | None = None                # (K, M) of a --part run

    @property
    def dataset(self):
        """The store as an xarray Dataset, opened on first use (the CLI never
        reads it: xarray, pandas and dask.array are about 0.5 s to import)."""
        if callable(self._dataset):
            self._dataset = self._dataset()
        return self._dataset

    @property
    def points_per_second(self):
        """Points computed this run per second of wall time (start-up included)."""
        return self.points_computed / self.wall_seconds if self.wall_seconds > 0 else float("nan")

    @property
    def compute_points_per_second(self):
        """Points computed per second once the workers were up."""
        return (self.points_computed / self.compute_seconds if self.compute_seconds > 0
                else float("nan"))


def _where(spec, scheduler, cluster, scheduler_file, part):
    """(scheduler, cluster options) after the checks: one of --scheduler,
    --scheduler-file and --cluster (the spec's [run.cluster] when none is
    given); a job-array part runs in-process unless told otherwise."""
    if isinstance(cluster, str):
        cluster = {"kind": cluster}
    explicit = scheduler is not None or scheduler_file is not None
    cluster = zcluster.cluster_options(
        None if explicit and not cluster else spec.run.get("cluster"), **(cluster or {}))
    if sum(x is not None for x in (cluster, scheduler_file, scheduler)) > 1:
        raise UsageError("choose one of --scheduler, --scheduler-file and --cluster")
    if isinstance(scheduler, str) and scheduler not in LOCAL_SCHEDULERS and ":" not in scheduler:
        raise UsageError(f"--scheduler must be one of {', '.join(LOCAL_SCHEDULERS)} "
                         f"or a scheduler address (tcp://host:port), got {scheduler!r}")
    if scheduler is not None and not isinstance(scheduler, str) \
            and not zcluster.is_dask_object(scheduler):
        raise UsageError(f"scheduler must be a name, an address, a distributed.Client "
                         f"or a cluster object, got {type(scheduler).__name__}")
    if part is not None and scheduler is None and cluster is None and scheduler_file is None:
        scheduler = "threads"  # a job-array task: the in-process scheduler
    return scheduler, cluster


def _chunk_points(spec, chunk_points, workers):
    if workers is not None and int(workers) < 1:
        raise UsageError(f"--workers must be >= 1, got {workers}")
    if chunk_points is None:
        chunk_points = spec.run.get("chunk_points")
    if chunk_points is not None and int(chunk_points) < 1:
        raise UsageError(f"chunk_points must be >= 1, got {chunk_points}")
    return chunk_points


def run_sweep(spec, store=None, *, scheduler=None, workers=None, resume=False,
              overwrite=False, chunk_points=None, progress=True, progress_stream=None,
              cluster=None, scheduler_file=None, resume_or_create=False, part=None,
              on_dashboard=None, repair=False, run_id=None, shared=False, solver=None,
              refine=None):
    """Run (or resume) a sweep into `store`; returns a RunResult.

    resume_or_create: resume the store, or create it when there is none (one
    batch script for the first start and every restart). part: (K, M) or
    "K/M", compute only part K of M (see engine/run/jobarray.py). cluster: "slurm",
    "pbs" or a dict of [run.cluster] options (the spec's [run.cluster] is
    used when this is None). The run holds the store's lease
    (engine/store/lease.py) throughout; the parts of one job array share it
    (run_id and shared=True do the same for other callers). repair (with
    resume): chunks that `inspect --verify` finds bad are computed again.
    solver: solver variants over the spec's [run.solver]
    (kernels/solvers.py), recorded in the store's attributes. What is done
    with the store is the run plan's decision (engine/run/plan.py); how the
    chunks are computed, the executor's (engine/run/executors.py)."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if part is not None:
        part = zparts.parse_part(part)
    spec, refinement = zrefine.refinement_for(spec, refine)
    if refinement is not None and part is not None:
        raise UsageError("--part does not run a refinement ([run.refine] or --refine): its "
                         "levels depend on each other; run it as one job (any scheduler "
                         "or cluster)")
    scheduler, cluster = _where(spec, scheduler, cluster, scheduler_file, part)
    chunk_points = _chunk_points(spec, chunk_points, workers)
    store = zstore.location(spec, store)
    preflight.check_size(spec, chunk_points)  # [run] max_points, before anything else
    spec.check_grid()  # every grid point in MODEL.md's domains, before any I/O
    t0 = time.perf_counter()
    solver = resolve_solver(spec, solver)
    Request(resume=resume, overwrite=overwrite, part=part).check()
    if resume_or_create and not overwrite:
        resume = zstore.exists(store)
    request = Request(chunk_points, resume, overwrite, part, repair, solver)
    if part is not None:
        # the parts of one array are one run: they create the store
        # atomically (whichever comes first) and share its lease
        plan = make_plan(spec, store, request)
        run_id, shared = zparts.run_id(spec.text, part[1], solver), True
        lease.peek(store, run_id, shared)
    else:
        # refusals first, touching nothing (not even a stale lease)
        stale = lease.peek(store, run_id, shared)
        plan = make_plan(spec, store, request,
                         half_created=stale is not None and stale.get("state") == "creating")
    info, compute, counted = None, 0.0, {}
    if refinement is not None and plan.action in ("resume", "complete"):
        zrefine.check_store(store, spec, refinement)
    # the part that completes a job array's store releases the lease the
    # parts share (a store nobody works on reads as free at once)
    with lease.Lease(store, run_id, shared=shared,
                     release_when=lambda: _complete(store)) as held:
        prev = held.previous
        plan = make_plan(spec, store, request,
                         half_created=prev is not None and prev.get("state") == "creating")
        if repair:
            plan = repaired(plan, store)
        if plan.todo:  # (a complete store resumed: nothing computed, nothing rewritten)
            job = Chunks(spec, store, plan.layout, held.run_id, plan.token(store, held.run_id),
                         solver)
            info, compute, counted = _compute(plan, job, held, progress, progress_stream,
                                              scheduler, workers, cluster, scheduler_file,
                                              on_dashboard, refinement)
        plan.finish(store, held.run_id)
        if refinement is not None:
            zrefine.cleanup(store)
    layout = plan.layout
    return RunResult(_dataset=lambda: zstore.open_dataset(store), store=store, points=layout.size,
                     chunks_total=layout.nchunks, chunks_computed=len(plan.todo),
                     wall_seconds=time.perf_counter() - t0, compute_seconds=compute,
                     points_computed=getattr(plan, "points_solved", plan.points_todo),
                     summary=results.summary(store, layout, counted), workers=info, part=part)


def _complete(store):
    """Whether the store is recorded complete (False when it cannot be read)."""
    try:
        return is_complete(zstore.read_attrs(store))
    except Exception:  # noqa: BLE001 - on the way out of a failed run: keep the lease
        return False


def _compute(plan, job, held, progress, progress_stream, scheduler, workers, cluster,
             scheduler_file, on_dashboard, refinement=None):
    """Open the scheduler, then the store (the scheduler is reachable before
    the store is created or replaced), and compute the plan's chunks.
    Returns (Workers, compute seconds, summary counts of chunks written here)."""
    done = plan.points_done
    bar = Progress(done + plan.points_todo, done=done, enabled=progress, stream=progress_stream)
    warm_kernels(job.spec, job.solver)
    # a refinement's local cluster starts only for a level too large for
    # this process (engine/run/refine.py: Deferred)
    deferred = zrefine.Deferred.of(refinement, scheduler, workers, cluster, scheduler_file,
                                    held)
    # (a refinement's chunk buffers made while its store is created and its
    # levels solved)
    ahead = None if refinement is None else \
        zrefine.buffers_ahead(job.spec, plan, scheduler, deferred)
    try:
        if deferred is not None:
            scheduler = "synchronous"  # (the refinement's threads: Deferred)
        with zcluster.open_client(scheduler, workers, cluster, scheduler_file) as (client, info):
            if info.dashboard and on_dashboard is not None:
                on_dashboard(info.dashboard)
            if client is None:
                scheduler = scheduler or "local"
                workers = info.count
            run = executor(client, scheduler, workers if client is None else info.count, held)
            warming = None
            if client is not None and info.started and len(plan.todo) > (info.count or 0):
                # the workers this run started get ready now, all at once,
                # rather than each in its first task (when every one will
                # have tasks: not for a run of fewer chunks), while this
                # process writes the store's template
                warming = _Warming(client, job.spec, job.solver)
            try:
                plan.open_store(job.spec, job.store, held.run_id, job.solver)
            except BaseException:
                if warming is not None:
                    warming.wait(raise_error=False)  # (the store's error is the one raised)
                raise
            if warming is not None:
                warming.wait()
            warmed = warming is not None
            startup.resume_gc()  # (the command line's process: start-up is over)
            t1 = time.perf_counter()
            bar.t0 = t1
            if refinement is not None:
                plan.points_solved = zrefine.execute(refinement, plan, job, run, bar,
                                                     warm=not warmed, deferred=deferred,
                                                     ahead=ahead)
                ahead = None
                if deferred is not None:
                    info = deferred.workers(info)
            else:
                run.run(plan.todo, job, bar)
            return info, time.perf_counter() - t1, run.counted
    finally:
        if ahead is not None:  # (the run failed before its refinement)
            ahead.drop()
        bar.close()
