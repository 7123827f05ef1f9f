"""Machine-readable facts about a store: ``coordsweep inspect --json``."""
import numpy as np

from coordsweep.engine.store import conventions
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.analysis.results import COMPUTED_STATUS_NAMES, VERSION_ATTRS, status_counts

PROVENANCE = ("date_created", "created", "completed", "history", "source", *VERSION_ATTRS,
              "spec_source")


def _plain(v):
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None if np.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def inspect_dict(store):
    """What ``coordsweep inspect`` prints, as one JSON-ready dict:
    ``{"store", "title", "complete", "chunks_done", "chunks_total",
    "dims": {name: size}, "coords": {axis: [values]}, "sectors", "points",
    "computed_points", "ok_points", "status_bits": {bit name: points},
    "variables": {name: {"dtype", "dims", "long_name", "units"}},
    "provenance": {...}, "spec"}``."""
    attrs = zstore.read_attrs(store)
    ds = zstore.open_dataset(store)
    done = zstore.done_chunks(store)
    status = np.asarray(ds.status.values).ravel()
    c = status_counts(status, COMPUTED_STATUS_NAMES)
    point_dims = list(ds.status.dims)
    return {
        "store": str(store),
        "title": attrs.get("title", ""),
        "complete": bool(done.all()),
        "chunks_done": int(done.sum()),
        "chunks_total": int(done.size),
        "dims": {d: int(n) for d, n in ds.sizes.items() if d != "chunk"},
        "coords": {d: _plain(np.asarray(ds[d].values)) for d in point_dims if d in ds.coords},
        "sectors": [str(s) for s in np.asarray(ds.sector.values).tolist()]
        if "sector" in ds.coords else [],
        "points": int(status.size),
        "computed_points": c.computed,
        "ok_points": c.ok,
        "status_bits": c.bits,
        "variables": {name: {"dtype": str(var.dtype), "dims": list(var.dims),
                             "long_name": var.attrs.get("long_name", ""),
                             "units": var.attrs.get("units")}
                      for name, var in ds.data_vars.items() if name != "chunk_done"},
        "provenance": {k: _plain(attrs[k]) for k in PROVENANCE if k in attrs},
        "attrs_complete": conventions.is_complete(attrs),
        "spec": attrs.get("spec", ""),
    }
