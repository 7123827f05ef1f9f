"""The run plan: what a run does with its store, decided in one place.

``make_plan`` reads the store and the request (``--resume``,
``--overwrite``, ``--part``) and returns a :class:`Plan`; its ``action``:

- ``"create"``: there is no store: write the template, compute every chunk;
- ``"overwrite"``: replace the store (``--overwrite``, or a template that a
  crashed run left half written: no chunk of it was written);
- ``"resume"``: continue an incomplete store of the same spec and solver
  (``--resume``), computing the chunks not recorded done;
- ``"join"``: a part of a job array (``--part K/M``): the shared store,
  created by whichever part came first (engine/run/jobarray.py); compute
  the chunks of this part not recorded done;
- ``"complete"``: a complete store resumed: nothing to compute (the store
  is only marked complete if a run died after its last chunk).

A complete store is refused without ``--overwrite``, an incomplete one
needs ``--resume`` or ``--overwrite``, and something that is not a
coordsweep store is never touched. The runner makes the plan once before
it takes the store's lease (refusals touch nothing) and once under the
lease (the store may have changed in between)."""
from dataclasses import dataclass, field

import numpy as np

from coordsweep.engine.errors import StoreError, UsageError
from coordsweep.engine.run import debug, jobarray
from coordsweep.engine.spec import parts as zparts
from coordsweep.engine.spec import refine as zrefine
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.store import designcoords, lease
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.store.conventions import is_complete, store_token
from coordsweep.kernels import solvers

CREATES = ("create", "overwrite")


@dataclass(frozen=True)
class Request:
    """What the caller asked for (validated by ``check``)."""
    chunk_points: int | None = None
    resume: bool = False
    overwrite: bool = False
    part: tuple | None = None      # (K, M) of a job array
    repair: bool = False           # with resume: recompute the chunks verify finds bad
    solver: str | None = None      # canonical text (runner.resolve_solver)

    def check(self):
        if self.resume and self.overwrite:
            raise UsageError("--resume and --overwrite exclude each other")
        if self.part is not None and self.overwrite:
            raise UsageError("--part never overwrites: parts create or resume the shared store")


@dataclass
class Plan:
    action: str             # see the module's docstring
    layout: Layout
    done: np.ndarray        # chunks recorded done when the plan was made
    todo: list = field(default_factory=list)  # chunk ids this run computes

    @property
    def creates(self):
        return self.action in CREATES

    def _points(self, chunks):
        return sum(self.layout.flat_range(c)[1] - self.layout.flat_range(c)[0] for c in chunks)

    @property
    def points_done(self):
        return self._points(np.flatnonzero(self.done))

    @property
    def points_todo(self):
        return self._points(self.todo)

    def token(self, store, run_id):
        """The value marking this run's chunks done: a new store's own
        token, an existing store's recorded one."""
        if self.creates:
            return zstore.run_token(run_id)
        return store_token(zstore.read_attrs(store))

    def open_store(self, spec, store, run_id, solver):
        """Write the template when the plan creates the store (the lease
        says "creating" meanwhile: a run dying here leaves a store the next
        run replaces), then a design's points, once."""
        if self.creates:
            lease.set_state(store, run_id, "creating")
            debug.pause("template")
            zstore.create(store, spec, self.layout, overwrite=self.action == "overwrite",
                          run_id=run_id, attrs=solvers.record(solver))
        if spec.design is not None:
            designcoords.write_coords(store, spec, self.layout)
        if self.creates:
            lease.set_state(store, run_id, "running")

    def finish(self, store, run_id):
        """Record the store complete once every chunk is done (also after a
        run killed after its last chunk, before this step). True when the
        store is complete (a part: the last one to finish)."""
        if (not self.todo or self.action == "join") and is_complete(zstore.read_attrs(store)):
            return True  # (a part: another one completed the store, and released it)
        debug.pause("finalize")
        lease.check(store, run_id)
        if self.action == "join":
            return jobarray.finalize_shared(store)  # the last part to finish completes it
        if not zstore.finalize(store):
            missing = int((~zstore.done_chunks(store)).sum())
            raise RuntimeError(f"{store}: {missing} chunks are still not recorded "
                               "as done after every task finished; run again "
                               "with --resume")
        return True


def make_plan(spec, store, request, half_created=False):
    """The Plan for `request` on `store` as it is now. Touches nothing,
    except for a part: the first part of a job array creates the shared
    store (atomically, engine/run/jobarray.py). half_created: the store's
    lease says a run died while writing the template."""
    request.check()
    if request.part is not None:
        layout, done, _ = jobarray.create_or_join(spec, store, request.chunk_points,
                                                  request.part[1], request.solver)
        mine = np.zeros(done.size, bool)
        mine[zparts.part_chunks(done.size, *request.part)] = True
        return Plan("join", layout, done, [int(c) for c in np.flatnonzero(mine & ~done)])
    fresh = Layout.for_grid(spec.shape, request.chunk_points,
                            refined=zrefine.of_spec(spec) is not None)
    anew = list(range(fresh.nchunks))
    exists = zstore.exists(store)
    if exists and half_created:
        return Plan("overwrite", fresh, np.zeros(fresh.nchunks, bool), anew)
    if not exists:
        if request.resume:
            raise StoreError(f"{store}: nothing to resume (no such store)")
        return Plan("create", fresh, np.zeros(fresh.nchunks, bool), anew)
    attrs = zstore.read_attrs(store)  # StoreError: not a coordsweep store, never touched
    if request.overwrite:
        return Plan("overwrite", fresh, np.zeros(fresh.nchunks, bool), anew)
    done = zstore.done_chunks(store)
    if not request.resume:
        if done.all():
            raise StoreError(f"{store}: holds a complete run ({done.size}/{done.size} "
                             "chunks); pass --overwrite to replace it")
        raise StoreError(f"{store}: holds an incomplete run ({int(done.sum())}/{done.size} "
                         "chunks); pass --resume to continue it or --overwrite to replace it")
    if attrs.get("spec") != spec.text:
        raise StoreError(f"{store}: was written from a different spec "
                         f"({attrs.get('spec_source', '?')}); --resume needs the same "
                         "spec text, or pass --overwrite")
    if request.solver is not None:
        recorded = attrs.get("solver", solvers.text(None))
        if recorded != request.solver:
            raise StoreError(f"{store}: was written with solver {recorded}; --resume needs "
                             f"the same solver (got {request.solver}), or pass --overwrite")
    layout = Layout(tuple(spec.shape), tuple(attrs["chunk_shape"]))
    todo = [int(c) for c in np.flatnonzero(~done)]
    return Plan("resume" if todo else "complete", layout, done, todo)


def repaired(plan, store):
    """The plan with the chunks that `inspect --verify` finds bad unmarked
    and computed again (resume --repair)."""
    if plan.action not in ("resume", "complete"):
        return plan
    from coordsweep.engine.store import verify
    bad = verify.bad_chunks(store, plan.layout)
    if not bad:
        return plan
    verify.unmark(store, bad)
    done = zstore.done_chunks(store)
    return Plan("resume", plan.layout, done, [int(c) for c in np.flatnonzero(~done)])
