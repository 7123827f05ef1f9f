"""Before a run: how big it is, and whether it may start.

``estimate(spec, ...)`` gives the points, chunks, store size and time of a
run without writing anything: the store size from the outputs' dtypes and
a compression ratio measured on one solved sample chunk (encoded with the
store's codecs in memory), the time from that same timed chunk.
``check_size`` refuses a grid above ``[run] max_points`` (default 10^10)
before anything else happens, with those estimates and how to raise it.
"""
import math
import os
import time

import numpy as np

from coordsweep.engine.errors import SpecError
from coordsweep.engine.spec.layout import Layout
from coordsweep.kernels.outputs import outputs_for

MAX_POINTS = 10**10
#: no grid is larger, whatever max_points says (flat indices are int64)
HARD_MAX_POINTS = 10**18
#: points solved (and timed) for the estimates
SAMPLE_POINTS = 2000


def max_points(spec):
    return min(spec.run.get("max_points", MAX_POINTS), HARD_MAX_POINTS)


def _first_points(spec, n):
    """Kernel inputs of the grid's first n points (flat C order), without
    np.unravel_index (whose shapes must fit in int64)."""
    if not spec.shape:
        return spec.block(0, 1)
    f = np.arange(n, dtype=np.int64)
    idx = []
    for size in reversed(spec.shape):
        idx.append(f % size)
        f = f // size
    return spec.points(tuple(reversed(idx)))


def bytes_per_point(n_sectors, outputs=None):
    """Uncompressed bytes of every output at one grid point (outputs: a
    spec's ``outputs``, the optional groups; None: none)."""
    outputs = outputs or {}
    k = outputs.get("equilibria", 0)
    trailing = {"point": 1, "sector": n_sectors, "equilibrium": k}
    return sum(np.dtype(o.dtype).itemsize * trailing[o.per]
               for o in outputs_for(k, outputs.get("dynamics", 0)))


def _compressed_size(outputs):
    """Bytes of the outputs encoded as zarr v3 chunks with the store's codecs."""
    import zarr
    from zarr.storage import MemoryStore

    from coordsweep.engine.store.zarrstore import compressors
    raw = 0
    comp = 0
    for name, value in outputs.items():
        value = np.ascontiguousarray(value)
        store = MemoryStore()
        arr = zarr.create_array(store=store, shape=value.shape, dtype=value.dtype,
                                chunks=value.shape, zarr_format=3,
                                compressors=compressors(value.dtype))
        arr[...] = value
        raw += value.nbytes
        comp += sum(len(v.to_bytes()) for k, v in store._store_dict.items()
                    if "/c" in "/" + k or k.startswith("c"))
    return raw, comp


def _human_bytes(n):
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB"):
        if abs(n) < 1000 or unit == "EB":
            return f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} EB"  # pragma: no cover


def _human_seconds(s):
    if not math.isfinite(s):
        return "?"
    for unit, div in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600),
                      ("minutes", 60)):
        if s >= div:
            return f"{s / div:.3g} {unit}"
    return f"{s:.3g} s"


def estimate(spec, chunk_points=None, workers=None, sample_points=SAMPLE_POINTS):
    """{"points", "chunks", "chunk_shape", "raw_bytes", "compression_ratio",
    "store_bytes", "seconds_per_point", "workers", "seconds"}; writes nothing."""
    from coordsweep import kernels
    points = spec.size
    layout = Layout.for_grid(spec.shape, chunk_points)
    n = int(min(points, sample_points))
    kernels.solve(**_first_points(spec, 1), **spec.outputs)  # compile / load: not timed
    t = time.perf_counter()
    outputs = kernels.solve(**_first_points(spec, n), **spec.outputs)
    dt = time.perf_counter() - t
    raw, comp = _compressed_size(outputs)
    ratio = raw / comp if comp else float("nan")
    workers = int(workers or os.cpu_count() or 1)
    per_point = dt / n
    raw_bytes = bytes_per_point(spec.n_sectors, spec.outputs) * points
    return {
        "points": points, "chunks": layout.nchunks, "chunk_shape": layout.chunks,
        "raw_bytes": raw_bytes, "compression_ratio": ratio,
        "store_bytes": raw_bytes / ratio if ratio == ratio else raw_bytes,
        "seconds_per_point": per_point, "workers": workers,
        "seconds": per_point * points / workers, "sample_points": n,
    }


def format_estimate(est):
    return (f"{est['points']:,} points in {est['chunks']:,} chunks of "
            f"{'x'.join(map(str, est['chunk_shape'])) or '1'}; store about "
            f"{_human_bytes(est['store_bytes'])} ({_human_bytes(est['raw_bytes'])} "
            f"uncompressed, compression {est['compression_ratio']:.2g}x measured on "
            f"{est['sample_points']:,} solved points); time about "
            f"{_human_seconds(est['seconds'])} on {est['workers']} workers "
            f"({est['seconds_per_point'] * 1e6:.3g} us a point on one core)")


def check_size(spec, chunk_points=None, workers=None):
    """SpecError when the grid exceeds [run] max_points (with the estimates)."""
    limit = max_points(spec)
    if spec.size <= limit:
        return
    if spec.size > HARD_MAX_POINTS:  # (no estimate: its indices would overflow int64)
        raise SpecError(f"{spec.source}: the grid has {spec.size:,} points "
                        f"({' x '.join(f'{n}[{s:,}]' for n, s in spec.dim_sizes)}), more "
                        f"than run.max_points = {limit:,.0f}; no grid may exceed "
                        f"{HARD_MAX_POINTS:.0e} points")
    est = estimate(spec, chunk_points, workers)
    raise SpecError(f"{spec.source}: the grid has {spec.size:,} points, more than "
                    f"run.max_points = {limit:,.0f}: {format_estimate(est)}. To run it "
                    "anyway, raise the limit in the spec ([run] max_points = ...)")


def dry_run_text(spec, store=None, chunk_points=None, workers=None):
    """`coordsweep run --dry-run`: the plan and the estimates; writes nothing."""
    from coordsweep.engine.store import zarrstore as zstore
    if chunk_points is None:
        chunk_points = spec.run.get("chunk_points")
    store = zstore.location(spec, store)
    limit = max_points(spec)
    if spec.size <= limit:
        spec.check_grid()
    elif spec.size > HARD_MAX_POINTS:
        check_size(spec)  # refused, without estimates
    est = estimate(spec, chunk_points, workers)
    where = "exists" if zstore.exists(store) else "would be created"
    lines = [f"coordsweep run --dry-run: {spec.name or spec.source} -> {store} ({where})",
             f"  points            {est['points']:,} over axes "
             + (" x ".join(f"{a.name}[{a.size:,}]" for a in spec.axes) or "(none)"),
             f"  chunks            {est['chunks']:,} of "
             f"{'x'.join(map(str, est['chunk_shape'])) or '1'} points",
             f"  store size        about {_human_bytes(est['store_bytes'])} "
             f"({_human_bytes(est['raw_bytes'])} uncompressed; compression "
             f"{est['compression_ratio']:.2g}x measured on {est['sample_points']:,} points)",
             f"  time              about {_human_seconds(est['seconds'])} on "
             f"{est['workers']} worker{'s' if est['workers'] != 1 else ''} "
             f"({est['seconds_per_point'] * 1e6:.3g} us a point, "
             "timed on one sample chunk)",
             f"  max_points        {limit:,.0f}"
             + ("" if spec.size <= limit else "  (EXCEEDED: the run would be refused)"),
             "  nothing was written"]
    return "\n".join(lines)
