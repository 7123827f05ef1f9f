"""Run a sweep: the grid in chunks, one dask task a chunk, into a zarr store.

``run(spec, store=...)`` is the Python API; ``coordsweep run`` calls
``run_sweep`` and prints its summary. Schedulers:

- ``"local"`` (default): a ``dask.distributed`` LocalCluster, one
  single-threaded worker process per core;
- ``"threads"`` / ``"synchronous"``: dask's local schedulers, in-process;
- ``"tcp://host:port"`` (any address): a running dask scheduler, e.g. one
  started by ``dask-jobqueue`` on SLURM/PBS (see the README);
- a ``distributed.Client`` or a cluster object; ``None`` (the API's
  default): the active client if there is one, else ``"local"``;
- ``cluster={"kind": "slurm", ...}`` / ``scheduler_file=``: see
  engine/run/cluster.py; ``part=(K, M)``: one part of a job array, see
  engine/run/parts.py.
"""
import contextlib
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from coordsweep.engine.run import cluster as zcluster
from coordsweep.engine.spec import blocks
from coordsweep.engine.run import debug
from coordsweep.engine.store import designcoords
from coordsweep.engine.store import lease
from coordsweep.engine.run import preflight
from coordsweep.engine.analysis import results
from coordsweep.engine.run import jobarray
from coordsweep.engine.spec import parts as zparts
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.run.cluster import PINNED_THREADS  # noqa: F401 - re-exported
from coordsweep.engine.store.conventions import is_complete
from coordsweep.engine.errors import StoreError, UsageError
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.run.progress import Progress
from coordsweep.engine.spec.model import Spec, default_store, load_spec
from coordsweep.kernels import solvers

LOCAL_SCHEDULERS = ("synchronous", "threads", "local")


def compute_chunk(spec, store, layout, chunk_id, run_id=None, token=1, solver=None,
                  writer=None):
    """One dask task: build the chunk's points, solve them, write them
    (only while `run_id` holds the store's lease); with a `writer`
    (engine/run/writer.py, in-process schedulers) hand them to its thread.

    A chunk already recorded done is not computed again: a task re-run after
    its worker left (walltime, lifetime, scancel) once the chunk was written."""
    from coordsweep import kernels
    start, stop = layout.flat_range(chunk_id)
    # a run that lost its lease (frozen past the timeout, another run took
    # the store over) stops here, before it reads a store that may now have
    # another layout
    lease.check(store, run_id)
    try:
        done = chunk_is_done(store, chunk_id, run_id, token)
    except Exception:
        lease.check(store, run_id)  # taken over in between: say so
        raise
    if done:
        return stop - start
    # the block in reused buffers (engine/spec/blocks.py), read by the kernel only
    outputs = kernels.solve(**blocks.build(spec, start, stop), solver=solver)
    if writer is not None:
        writer.submit(chunk_id, outputs)
    else:
        write_chunk(spec, store, layout, chunk_id, outputs, run_id, token)
    return stop - start


def chunk_is_done(store, chunk_id, run_id=None, token=1):
    """Whether the chunk is recorded done. A run (a run id, holding the
    lease: checked just before) reads one element of the record through
    the arrays it opened once (store._writable), with its own token, not
    the group and array metadata again for every chunk."""
    if not run_id:
        return zstore.chunk_is_done(store, chunk_id)
    return int(zstore._writable(store, run_id)["chunk_done"][int(chunk_id)]) == token


def write_chunk(spec, store, layout, chunk_id, outputs, run_id=None, token=1):
    from coordsweep.engine.run import debug
    debug.pause("write")
    zstore.write_chunk(store, layout, chunk_id, outputs, spec.n_sectors, run_id, token)


def warm_kernels(spec, solver=None):
    """Compile (or load from numba's cache) once, before any worker starts."""
    from coordsweep import kernels
    kernels.solve(**spec.block(0, 1), solver=solver)


def resolve_solver(spec, solver=None):
    """The run's solver variants as canonical text: `solver` (CLI --solver,
    run(..., solver=...)) over the spec's [run.solver]; a user's wage
    function is imported here, so a bad name fails before any I/O."""
    try:
        parsed = solvers.parse(solver if solver is not None else spec.run.get("solver"))
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


def plan_store(spec, store, chunk_points, resume, overwrite, half_created=False, solver=None):
    """Decide what to do with `store`, touching nothing.

    Returns (action, layout, done): action "create", "overwrite" or
    "resume"; done marks the chunks already complete. A complete store is
    refused without overwrite; an incomplete one needs resume (same spec)
    or overwrite; something that is not a coordsweep store is never touched.
    half_created: the store's lease says a run died while writing the
    template (no chunk was written yet): it is created again."""
    if resume and overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    fresh = Layout.for_grid(spec.shape, chunk_points)
    if half_created and zstore.exists(store):
        return "overwrite", fresh, np.zeros(fresh.nchunks, bool)
    if not zstore.exists(store):
        if resume:
            raise StoreError(f"{store}: nothing to resume (no such store)")
        return "create", fresh, np.zeros(fresh.nchunks, bool)
    attrs = zstore.read_attrs(store)
    if overwrite:
        return "overwrite", fresh, np.zeros(fresh.nchunks, bool)
    done = zstore.done_chunks(store)
    if done.all() and not resume:
        raise StoreError(f"{store}: holds a complete run "
                         f"({done.size}/{done.size} chunks); pass --overwrite to replace it")
    if not resume:
        raise StoreError(f"{store}: holds an incomplete run ({int(done.sum())}/{done.size} "
                         "chunks); pass --resume to continue it or --overwrite to replace it")
    if attrs.get("spec") != spec.text:
        raise StoreError(f"{store}: was written from a different spec "
                         f"({attrs.get('spec_source', '?')}); --resume needs the same "
                         "spec text, or pass --overwrite")
    if solver is not None:
        recorded = attrs.get("solver", solvers.text(None))
        if recorded != solver:
            raise StoreError(f"{store}: was written with solver {recorded}; --resume needs "
                             f"the same solver (got {solver}), or pass --overwrite")
    return "resume", Layout(tuple(spec.shape), tuple(attrs["chunk_shape"])), done


def prepare_store(spec, store, chunk_points, resume, overwrite):
    """plan_store, then write the template when the plan is to create or
    replace the store. Returns (layout, done)."""
    action, layout, done = plan_store(spec, store, chunk_points, resume, overwrite)
    if action != "resume":
        zstore.create(store, spec, layout, overwrite=action == "overwrite")
    if spec.design is not None:
        designcoords.write_coords(store, spec, layout)
    return layout, done


def _execute(tasks, scheduler, workers, client, progress, spec, store, layout,
             run_id=None, token=1, held=None, solver=None, counted=None):
    """Run compute_chunk for every chunk id in `tasks`, updating progress.
    counted: a dict the writer thread fills with the summary counts of the
    chunks it writes ({chunk id: results.chunk_counts}), so that the
    summary at the end does not read them back."""
    if client is not None:
        from distributed import as_completed
        key = uuid.uuid4().hex
        futures = {cid: client.submit(compute_chunk, spec, store, layout, cid, run_id, token, solver,
                                      pure=False, key=f"coordsweep-chunk-{cid}-{key}")
                   for cid in tasks}
        ids = {fut.key: cid for cid, fut in futures.items()}
        try:
            for fut, n in as_completed(list(futures.values()), with_results=True):
                progress.update(n)
                # forget finished tasks: a worker retiring at its lifetime has
                # no results to hand over, and nothing is recomputed for them
                del futures[ids[fut.key]]
                fut.release()
                if held is not None and held.lost:
                    raise lease.LeaseLost(held.lost)
        except BaseException:
            client.cancel(list(futures.values()))
            raise
        return
    import dask
    from dask.callbacks import Callback

    class _Count(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            if isinstance(result, (int, np.integer)):
                progress.update(result)

    from coordsweep.engine.run import writer as zwriter
    # by function, not name: a name makes dask import distributed (0.3 s)
    from dask import local, threaded
    kwargs = {"scheduler": {"synchronous": local.get_sync,
                            "threads": threaded.get}.get(scheduler, scheduler)}
    if scheduler == "threads":
        kwargs["num_workers"] = workers
    with contextlib.ExitStack() as stack:
        out = None
        if zwriter.enabled():  # writes overlap the next chunk's computing
            def count(cid, outputs):
                if counted is not None:
                    counted[cid] = results.chunk_counts(
                        outputs["regime"], outputs["n_equilibria"], outputs["status"])
            out = stack.enter_context(zwriter.ChunkWriter(
                lambda cid, outputs: write_chunk(spec, store, layout, cid, outputs,
                                                 run_id, token), on_written=count))
        delayed = [dask.delayed(compute_chunk, pure=False)(spec, store, layout, cid, run_id,
                                                          token, solver, out)
                   for cid in tasks]
        try:
            with _Count():
                dask.compute(*delayed, **kwargs)
        finally:
            blocks.release()


def run_sweep(spec, store=None, *, scheduler=None, workers=None, resume=False,
              overwrite=False, chunk_points=None, progress=True, progress_stream=None,
              cluster=None, scheduler_file=None, resume_or_create=False, part=None,
              on_dashboard=None, repair=False, run_id=None, shared=False, solver=None):
    """Run (or resume) a sweep into `store`; returns a RunResult.

    resume_or_create: resume the store, or create it when there is none (one
    batch script for the first start and every restart). part: (K, M) or
    "K/M", compute only part K of M (see engine/run/parts.py). cluster: "slurm",
    "pbs" or a dict of [run.cluster] options (the spec's [run.cluster] is
    used when this is None). The run holds the store's lease
    (engine/store/lease.py) throughout; the parts of one job array share it
    (run_id and shared=True do the same for other callers). repair (with
    resume): chunks that `inspect --verify` finds bad are computed again.
    solver: solver variants over the spec's [run.solver]
    (kernels/solvers.py), recorded in the store's attributes."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
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
    if part is not None:
        part = zparts.parse_part(part)
        if overwrite:
            raise UsageError("--part never overwrites: parts create or resume the shared store")
        if scheduler is None and cluster is None and scheduler_file is None:
            scheduler = "threads"  # a job-array task: the in-process scheduler
    if workers is not None and int(workers) < 1:
        raise UsageError(f"--workers must be >= 1, got {workers}")
    if chunk_points is None:
        chunk_points = spec.run.get("chunk_points")
    if chunk_points is not None and int(chunk_points) < 1:
        raise UsageError(f"chunk_points must be >= 1, got {chunk_points}")
    store = zstore.normalize(store if store is not None else default_store(spec))
    preflight.check_size(spec, chunk_points)  # [run] max_points, before anything else
    spec.check_grid()  # every grid point in MODEL.md's domains, before any I/O
    t0 = time.perf_counter()
    solver = resolve_solver(spec, solver)
    if resume and overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    if resume_or_create and not overwrite:
        resume = zstore.exists(store)
    if part is not None:
        # the parts of one array are one run: they create the store
        # atomically (whichever comes first) and share its lease
        layout, done, _ = jobarray.create_or_join(spec, store, chunk_points, part[1],
                                                attrs=solvers.record(solver))
        run_id, shared = zparts.run_id(spec.text, part[1]), True
        lease.peek(store, run_id, shared)
    else:
        # refusals first, touching nothing (not even a stale lease)
        stale = lease.peek(store, run_id, shared)
        plan_store(spec, store, chunk_points, resume, overwrite,
                   half_created=stale is not None and stale.get("state") == "creating",
                   solver=solver)
    info = None
    with lease.Lease(store, run_id, shared=shared) as held:
        if part is not None:
            action = "resume"
            done = zstore.done_chunks(store)
            mine = np.zeros(done.size, bool)
            mine[zparts.part_chunks(done.size, *part)] = True
            todo = [int(c) for c in np.flatnonzero(mine & ~done)]
        else:
            prev = held.previous
            half = prev is not None and prev.get("state") == "creating"
            action, layout, done = plan_store(spec, store, chunk_points, resume, overwrite,
                                              half_created=half, solver=solver)
            if repair and action == "resume":
                from coordsweep.engine.store import verify
                bad = verify.bad_chunks(store, layout)
                if bad:
                    verify.unmark(store, bad)
                    done = zstore.done_chunks(store)
            todo = [int(c) for c in np.flatnonzero(~done)]
        points_done = sum(layout.flat_range(c)[1] - layout.flat_range(c)[0]
                          for c in np.flatnonzero(done))
        points_todo = sum(layout.flat_range(c)[1] - layout.flat_range(c)[0] for c in todo)
        compute = 0.0
        counted = {}  # summary counts of the chunks written in this process
        token = (zstore.run_token(held.run_id) if action != "resume"
                 else zstore.read_attrs(store).get("run_token", 1))
        if todo:  # (a complete store resumed: nothing computed, nothing rewritten)
            bar = Progress(points_done + points_todo, done=points_done, enabled=progress,
                           stream=progress_stream)
            warm_kernels(spec, solver)
            try:
                # the scheduler is reachable before the store is created or replaced
                with zcluster.open_client(scheduler, workers, cluster,
                                          scheduler_file) as (client, info):
                    if info.dashboard and on_dashboard is not None:
                        on_dashboard(info.dashboard)
                    if client is None:
                        scheduler = scheduler or "local"
                        workers = info.count
                    if action != "resume":
                        lease.set_state(store, held.run_id, "creating")
                        debug.pause("template")
                        zstore.create(store, spec, layout, overwrite=action == "overwrite",
                                      run_id=held.run_id, attrs=solvers.record(solver))
                    if spec.design is not None:  # its points into the store, once
                        designcoords.write_coords(store, spec, layout)
                    if action != "resume":
                        lease.set_state(store, held.run_id, "running")
                    t1 = time.perf_counter()
                    bar.t0 = t1
                    _execute(todo, scheduler, workers, client, bar, spec, store, layout,
                             held.run_id, token, held, solver, counted)
                    compute = time.perf_counter() - t1
            finally:
                bar.close()
        if todo or not is_complete(zstore.read_attrs(store)):
            # (also a run killed after its last chunk, before this step)
            debug.pause("finalize")
            lease.check(store, held.run_id)
            if part is not None:
                jobarray.finalize_shared(store)  # the last part to finish completes the store
            elif not zstore.finalize(store):
                missing = int((~zstore.done_chunks(store)).sum())
                raise RuntimeError(f"{store}: {missing} chunks are still not recorded "
                                   "as done after every task finished; run again "
                                   "with --resume")
    wall = time.perf_counter() - t0
    return RunResult(_dataset=lambda: zstore.open_dataset(store), store=store, points=layout.size,
                     chunks_total=layout.nchunks, chunks_computed=len(todo),
                     wall_seconds=wall, compute_seconds=compute,
                     points_computed=points_todo,
                     summary=results.summary(store, layout, counted), workers=info, part=part)


def run(spec, store=None, **kwargs):
    """Run a sweep and return the results as an xarray Dataset (opened lazily)."""
    return run_sweep(spec, store, **kwargs).dataset

