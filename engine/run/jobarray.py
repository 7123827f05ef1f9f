"""Job arrays without a dask scheduler: ``coordsweep run SPEC --part K/M``
(CONTRACT.md "Command line"), and the ``sbatch`` script that runs them.

- Part K of M owns the chunks ``c`` with ``c % M == K - 1`` (round robin:
  neighbouring chunks, often of similar cost, go to different parts).
- Every part creates-or-resumes the one shared store. The template is
  written into a private temporary directory next to the store and moved
  into place with one ``rename``, which fails when the store is already
  there: exactly one creator wins, a loser deletes its own temporary copy
  and joins the winner's store; nobody writes over anybody's chunks.
- A part computes only the chunks of its share not yet marked done, so a
  requeued array task re-runs the same command and loses nothing.
- Each part, when its share is done, records completeness; the last one
  to finish finds every chunk done and marks the store complete.
- The store records ``parts = M`` and ``run_id`` (a hash of the spec text
  and M): the parts of one array are one run; a part with another spec or
  another M is refused (exit 2).
"""
import os
import re
import shlex
import shutil
import sys
import uuid

import numpy as np

from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.errors import StoreError, UsageError
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.spec.parts import run_id
from coordsweep.kernels import solvers


def _is_local(store):
    return "://" not in str(store)


def _join(spec, store, parts, solver):
    """Layout and done chunks of an existing store a part may continue."""
    attrs = zstore.read_attrs(store)
    if attrs.get("spec") != spec.text:
        raise StoreError(f"{store}: was written from a different spec "
                         f"({attrs.get('spec_source', '?')}); a part needs the same spec text")
    if attrs.get("parts") != parts:
        what = (f"a run in {attrs['parts']} parts" if attrs.get("parts")
                else "a run without --part")
        raise StoreError(f"{store}: holds {what}; --part K/{parts} must use the part count "
                         "the store was created with")
    if attrs.get("solver") != solver:
        raise StoreError(f"{store}: its parts were computed with solver "
                         f"{attrs.get('solver')}; this part asks for {solver}: every part of "
                         "a job array must use the same variants")
    return Layout(tuple(spec.shape), tuple(attrs["chunk_shape"])), zstore.done_chunks(store)


def create_or_join(spec, store, chunk_points, parts, solver):
    """(layout, done, created) of the store shared by the parts of one run;
    `solver`: the canonical text of the variants, recorded in a new store
    and required of every part that joins it."""
    if zstore.exists(store):
        layout, done = _join(spec, store, parts, solver)
        return layout, done, False
    layout = Layout.for_grid(spec.shape, chunk_points)
    extra = {**solvers.record(solver), "parts": parts,
             "run_id": run_id(spec.text, parts, solver)}
    if not _is_local(store):
        # object stores have no atomic rename: zarr's "w-" refuses an
        # existing store, which is safe as long as parts start apart
        try:
            zstore.create(store, spec, layout, attrs=extra)
        except Exception as exc:  # noqa: BLE001 - lost the race (or could not write)
            if not zstore.exists(store):
                raise StoreError(f"{store}: cannot create the store ({exc})") from None
            layout, done = _join(spec, store, parts, solver)
            return layout, done, False
        return layout, np.zeros(layout.nchunks, bool), True
    store = os.path.abspath(store)
    parent = os.path.dirname(store)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(store)}.creating-{uuid.uuid4().hex}")
    try:
        zstore.create(tmp, spec, layout, attrs=extra)
        if getattr(spec, "design", None) is not None:  # a design's points, before it shows
            from coordsweep.engine.store import designcoords
            designcoords.write_coords(tmp, spec, layout)
        try:
            os.rename(tmp, store)  # atomic; fails when the store exists
            created = True
        except OSError:
            if not os.path.isdir(store):
                raise
            created = False
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    if not created:
        layout, done = _join(spec, store, parts, solver)
        return layout, done, False
    return layout, np.zeros(layout.nchunks, bool), True


def finalize_shared(store):
    """zstore.finalize, safe when several parts finish at once: a part that
    finds chunks missing re-reads the record after writing its attributes,
    so the last writer of the attributes always saw the last chunk."""
    complete = zstore.finalize(store)
    if not complete and zstore.done_chunks(store).all():
        complete = zstore.finalize(store)
    return complete


# --- the sbatch script ----------------------------------------------------------
def slurm_script(spec_path, spec, *, array, store, cpus=None, time=None, mem=None,
                 partition=None, account=None, job_extra=(), job_name=None,
                 output=None, coordsweep_cmd=None):
    """The text of an sbatch script running the M parts of a sweep as a job
    array; resubmitting it (or requeueing a task) computes only what is missing."""
    if isinstance(array, bool) or not isinstance(array, int) or array < 1:
        raise UsageError(f"--array must be an integer >= 1, got {array!r}")
    if cpus is not None and cpus < 1:
        raise UsageError(f"--cpus must be >= 1, got {cpus}")
    if time is not None:
        from coordsweep.engine.run.cluster import parse_walltime
        parse_walltime(time)
    name = job_name or re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.name or "coordsweep")[:40]
    cmd = coordsweep_cmd or [os.path.join(os.path.dirname(sys.executable), "coordsweep")]
    lines = ["#!/bin/bash",
             f"#SBATCH --job-name={name}",
             f"#SBATCH --array=1-{array}",
             "#SBATCH --ntasks=1",
             f"#SBATCH --cpus-per-task={cpus or 1}",
             "#SBATCH --requeue"]
    if time:
        lines.append(f"#SBATCH --time={time}")
    if mem:
        lines.append(f"#SBATCH --mem={mem}")
    if partition:
        lines.append(f"#SBATCH --partition={partition}")
    if account:
        lines.append(f"#SBATCH --account={account}")
    if output:
        lines.append(f"#SBATCH --output={output}")
    lines += [f"#SBATCH {x}" for x in job_extra]
    lines += [
        "",
        f"# coordsweep {spec.source}: {array} parts of one sweep into one store.",
        "# Every task creates-or-resumes the store and computes only the chunks of",
        "# its part not yet done: resubmit this script (sbatch) after a timeout or",
        "# a cancel, or let SLURM requeue a task; nothing done is computed again.",
        "# The last part to finish marks the store complete; see what is missing",
        f"# with: coordsweep inspect {shlex.quote(store)}",
        "set -euo pipefail",
        *[f"export {k}=1" for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")],
        " ".join([*map(shlex.quote, cmd), "run", shlex.quote(os.path.abspath(spec_path)),
                  "--store", shlex.quote(store),
                  f"--part \"$SLURM_ARRAY_TASK_ID/{array}\"", "--quiet"]),
        ""]
    return "\n".join(lines)
