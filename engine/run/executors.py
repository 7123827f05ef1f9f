"""How a run's chunks are computed: one task a chunk (``compute_chunk``),
run by one of two executors.

- :class:`InProcess`: in this process, the tasks one after the other
  (``synchronous``, without dask) or on dask's ``threads`` scheduler; a
  writer thread (engine/run/writer.py) writes chunk k while chunk k+1 is
  computed, and counts what it writes for the run's summary.
- :class:`Distributed`: a ``distributed.Client`` (local cluster, a
  scheduler address, a batch-system cluster); every task writes its own
  chunk and returns its summary counts, finished tasks are forgotten at
  once, and a lost lease stops the run.
"""
import contextlib
import uuid
from dataclasses import dataclass

import numpy as np

from coordsweep.engine.analysis import results
from coordsweep.engine.run import debug, startup
from coordsweep.engine.spec import blocks
from coordsweep.engine.store import chunkio, lease
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.store.conventions import chunks_done


def warm_kernels(spec, solver=None):
    """Compile (or load from numba's cache) once, before any worker starts:
    the spec's first point with its optional outputs."""
    startup.load_numba_arraymath()
    from coordsweep import kernels
    kernels.solve(**spec.block(0, 1), solver=solver, **spec.outputs)


def warm_worker(spec, solver=None):
    """Ready a worker process for its first task: the kernels from numba's
    cache (:func:`warm_kernels`, then kernels/api.py ``warm_block`` at
    N = 3, whose machine code is every N's: the passes that only some
    points need, such as the lock-step searches) and the modules a task
    writes with (zarr and its codecs), which the first task would otherwise
    load inside the run's computing time, one worker beside the other."""
    import zarr  # noqa: F401

    from coordsweep.kernels import api
    warm_kernels(spec, solver)
    api.warm_block(solver=solver)


def compute_chunk(spec, store, layout, chunk_id, run_id=None, token=1, solver=None,
                  writer=None, ahead=None):
    """One dask task: build the chunk's points, solve them, write them
    (only while `run_id` holds the store's lease); with a `writer`
    (engine/run/writer.py, in-process schedulers) hand them to its thread;
    with `ahead` (engine/spec/blocks.py ``Ahead``, the synchronous
    scheduler) take the points from the blocks it builds ahead.

    A chunk already recorded done is not computed again: a task re-run after
    its worker left (walltime, lifetime, scancel) once the chunk was written."""
    startup.load_numba_arraymath()
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
    block = blocks.build(spec, start, stop) if ahead is None else ahead.take(start, stop)
    outputs = kernels.solve(**block, solver=solver, **spec.outputs)
    if writer is not None:
        writer.submit(chunk_id, outputs)  # (the writer counts it)
        return stop - start
    write_chunk(spec, store, layout, chunk_id, outputs, run_id, token)
    # the task counts what it wrote for the run's summary: the caller does
    # not read the store back (on a 10^8-point store, about 10 s of the
    # driver's time after the last chunk)
    return stop - start, results.chunk_counts(outputs["regime"], outputs["n_equilibria"],
                                              outputs["status"])


def compute_chunks(spec, store, layout, chunk_ids, run_id=None, token=1, solver=None,
                   writer=None):
    """One task of several chunks (Distributed): compute_chunk for each, one
    after the other; [(chunk id, points, summary counts or None)]."""
    return [(int(cid), *task_result(compute_chunk(spec, store, layout, cid, run_id, token,
                                                  solver, writer)))
            for cid in chunk_ids]


#: chunks one task of the Distributed executor computes at most. Each task
#: costs the run's process (client, scheduler, nannies) about 10 ms of CPU
#: (submission, transitions, the result's round trip, heartbeats), taken
#: from the workers when there are as many as cores; a chunk of 10^5
#: points computes in about 0.1 s.
CHUNKS_PER_TASK = 4


def task_groups(tasks, workers):
    """The chunk ids of `tasks` as the Distributed executor's tasks: up to
    CHUNKS_PER_TASK chunks a task while every worker has at least eight
    such tasks, then the last 2 x workers chunks one a task (the workers
    finish together); one chunk a task when the worker count is unknown."""
    tasks = list(tasks)
    if not workers:
        return [[c] for c in tasks]
    tail = 2 * int(workers)
    head = tasks[:max(len(tasks) - tail, 0)]
    k = max(1, min(CHUNKS_PER_TASK, len(head) // (8 * int(workers))))
    return ([head[i:i + k] for i in range(0, len(head), k)]
            + [[c] for c in tasks[len(head):]])


def task_result(result):
    """(points, summary counts or None) of what a task returned: its
    points, or (points, counts) when it wrote and counted its chunk."""
    if isinstance(result, tuple):
        return int(result[0]), result[1]
    return int(result), None


def chunk_is_done(store, chunk_id, run_id=None, token=1):
    """Whether the chunk is recorded done. A run (a run id, holding the
    lease: checked just before) reads one element of the record through
    the arrays it opened once (store._writable), with its own token, not
    the group and array metadata again for every chunk."""
    if not run_id:
        return zstore.chunk_is_done(store, chunk_id)
    record = zstore._writable(store, run_id)["chunk_done"]
    if chunkio.chunk_missing(record, (int(chunk_id),)):  # (one stat, no zarr read)
        return False
    return bool(chunks_done(record[int(chunk_id)], token))


def write_chunk(spec, store, layout, chunk_id, outputs, run_id=None, token=1):
    debug.pause("write")
    zstore.write_chunk(store, layout, chunk_id, outputs, spec.n_sectors, run_id, token)


@dataclass(frozen=True)
class Chunks:
    """What every task of one run needs besides its chunk id. fn: the task
    (``compute_chunk``'s signature; a refined run's level and assembly
    tasks, engine/run/refine.py, are others); extra: a task's own
    arguments after the common ones, by task id (None: none)."""
    spec: object
    store: str
    layout: object
    run_id: str | None = None
    token: int = 1
    solver: str | None = None
    fn: object = None
    extra: object = None

    @property
    def args(self):
        return (self.spec, self.store, self.layout)

    @property
    def task(self):
        return compute_chunk if self.fn is None else self.fn

    def more(self, cid):
        return () if self.extra is None else tuple(self.extra(cid))


class InProcess:
    """The ``synchronous`` scheduler (the tasks in order in this thread) or
    dask's ``threads`` scheduler in this process, with the writer thread
    unless COORDSWEEP_WRITE_THREAD=0. ``counted``: the summary counts of
    the chunks written ({chunk id: results.chunk_counts}), so that the
    summary at the end does not read them back."""

    def __init__(self, scheduler, workers=None):
        self.scheduler = scheduler
        self.workers = workers
        self.counted = {}

    def _count(self, cid, outputs):
        self.counted[cid] = results.chunk_counts(outputs["regime"], outputs["n_equilibria"],
                                                 outputs["status"])

    def run(self, tasks, job, progress):
        """compute_chunk for every chunk id in `tasks`, updating `progress`."""
        from coordsweep.engine.run import writer as zwriter
        with contextlib.ExitStack() as stack:
            out = None
            if zwriter.enabled():  # writes overlap the next chunk's computing
                out = stack.enter_context(zwriter.ChunkWriter(
                    lambda cid, outputs: write_chunk(*job.args, cid, outputs,
                                                     job.run_id, job.token),
                    on_written=self._count))
            try:
                if self.scheduler == "synchronous":
                    self._serial(tasks, job, out, progress)
                else:
                    self._dask(tasks, job, out, progress)
            finally:
                blocks.release()

    def _serial(self, tasks, job, out, progress):
        """The synchronous scheduler: the tasks one after the other in this
        thread, in order (what dask's get_sync does with independent tasks,
        without importing dask: about 0.1 s of a 1-point run). The chunks'
        points are built one ahead in a thread (blocks.Ahead) while the
        kernel solves the chunk before."""
        with contextlib.ExitStack() as stack:
            kw = {}
            if job.fn is None and len(tasks) > 1:
                layout = job.layout
                kw["ahead"] = stack.enter_context(blocks.Ahead(
                    job.spec, [layout.flat_range(cid) for cid in tasks]))
            for cid in tasks:
                n, counts = task_result(job.task(*job.args, cid, job.run_id, job.token,
                                                 job.solver, out, *job.more(cid), **kw))
                progress.update(n)
                if counts is not None:
                    self.counted[cid] = counts

    def _dask(self, tasks, job, out, progress):
        import dask
        from dask.callbacks import Callback
        # by function, not name: a name makes dask import distributed (0.3 s)
        from dask import local, threaded

        class _Count(Callback):
            def _posttask(self, key, result, dsk, state, worker_id):
                if isinstance(result, (int, np.integer, tuple)):
                    progress.update(task_result(result)[0])

        kwargs = {"scheduler": {"synchronous": local.get_sync,
                                "threads": threaded.get}.get(self.scheduler, self.scheduler)}
        if self.scheduler == "threads":
            kwargs["num_workers"] = self.workers
        delayed = [dask.delayed(job.task, pure=False)(*job.args, cid, job.run_id, job.token,
                                                      job.solver, out, *job.more(cid))
                   for cid in tasks]
        with _Count():
            done = dask.compute(*delayed, **kwargs)
        for cid, res in zip(tasks, done):
            counts = task_result(res)[1]
            if counts is not None:
                self.counted[cid] = counts


class Distributed:
    """Tasks on a ``distributed.Client``'s workers. ``held``: the run's
    lease (engine/store/lease.py): the run stops when it is lost."""

    def __init__(self, client, held=None, workers=None):
        self.client = client
        self.held = held
        self.workers = workers  # how many (None: not known): chunks a task, task_groups
        self.counted = {}  # the counts the tasks return ({chunk id: chunk_counts})

    def _submit(self, job, tasks, key):
        """{task id: future}: compute_chunk's chunks several a task
        (task_groups), any other task one a chunk."""
        client = self.client
        if job.fn is None:
            groups = task_groups(tasks, self.workers)
            if any(len(g) > 1 for g in groups):
                return {g[0]: client.submit(compute_chunks, *job.args, g, job.run_id, job.token,
                                            job.solver, None, pure=False,
                                            key=f"coordsweep-chunks-{g[0]}-{len(g)}-{key}")
                        for g in groups}
        name = getattr(job.task, "task_name", "chunk")
        return {cid: client.submit(job.task, *job.args, cid, job.run_id, job.token,
                                   job.solver, None, *job.more(cid), pure=False,
                                   key=f"coordsweep-{name}-{cid}-{key}")
                for cid in tasks}

    def run(self, tasks, job, progress):
        """compute_chunk for every chunk id in `tasks`, updating `progress`."""
        from distributed import as_completed
        client, key = self.client, uuid.uuid4().hex
        futures = self._submit(job, tasks, key)
        ids = {fut.key: cid for cid, fut in futures.items()}
        try:
            for fut, res in as_completed(list(futures.values()), with_results=True):
                done = (res if fut.key.startswith("coordsweep-chunks-")  # (compute_chunks)
                        else [(ids[fut.key], *task_result(res))])
                for cid, n, counts in done:
                    progress.update(n)
                    if counts is not None:  # (the summary does not read the chunk back)
                        self.counted[cid] = counts
                # forget finished tasks: a worker retiring at its lifetime has
                # no results to hand over, and nothing is recomputed for them
                del futures[ids[fut.key]]
                fut.release()
                if self.held is not None and self.held.lost:
                    raise lease.LeaseLost(self.held.lost)
        except BaseException:
            client.cancel(list(futures.values()))
            raise


def executor(client, scheduler, workers, held=None):
    """The executor for what cluster.open_client yielded: a client (workers:
    how many it has, None when not known), or None for an in-process
    scheduler."""
    if client is not None:
        return Distributed(client, held, workers)
    return InProcess(scheduler, workers)
