"""Counting results: how many points say what, over an array, a chunk or
a whole store read chunk by chunk (the run summary, ``inspect``,
``plot`` and ``report`` count with these). What the stored values mean
is engine/analysis/flags.py; the store's shape, engine/analysis/geometry.py.
"""
from collections import Counter, namedtuple

import numpy as np

from coordsweep.engine.analysis.flags import COMPUTED_STATUS_NAMES, STATUS_NAMES
from coordsweep.kernels.codes import NOT_COMPUTED, REGIME_NAMES


def valid(a):
    """Where an array holds a value (not NaN, the mark of a masked point)."""
    a = np.asarray(a)
    return np.isfinite(a) if a.dtype.kind == "f" else np.ones(a.shape, bool)


def code_counts(values):
    """({code: count} in ascending code order, number of NaN entries) of an
    array of integer codes (NaN: not computed)."""
    v = np.asarray(values)
    if v.dtype.kind in "iu" and v.dtype.itemsize == 1:  # (regime codes: one pass)
        h = np.bincount(v.view(np.uint8).ravel(), minlength=256)
        order = np.argsort(_BYTE_VALUES[v.dtype.kind], kind="stable")
        return {int(_BYTE_VALUES[v.dtype.kind][k]): int(h[k]) for k in order if h[k]}, 0
    ok = valid(v)
    c = v[ok].astype(np.int64).ravel()
    missing = int(v.size - c.size)
    if c.size and int(c.max()) - int(c.min()) <= max(4096, c.size):   # small codes: fast
        lo = int(c.min())
        counts = np.bincount(c - lo)
        return {int(k) + lo: int(counts[k]) for k in np.flatnonzero(counts)}, missing
    codes, counts = np.unique(c, return_counts=True)
    return dict(zip(codes.tolist(), counts.tolist())), missing


def regime_counts(regime):
    """Per sector (last axis of ``regime``), ``code_counts`` of its regimes:
    a list of ({regime code: points}, points not computed)."""
    a = np.asarray(regime)
    a = a.reshape(-1, a.shape[-1])
    return [code_counts(a[:, j]) for j in range(a.shape[1])]


StatusCounts = namedtuple("StatusCounts", "computed ok bits unknown missing")
StatusCounts.__doc__ = """Counts over the computed points of a status array:
computed points, points with status 0, {bit name: points with the bit set},
points with bits the names lack, and points not computed (NaN, or the
NOT_COMPUTED bit set: the store's fill value)."""


def status_counts(status, bits=None):
    """:class:`StatusCounts` of a status array; ``bits`` ({mask: name},
    default the kernels' bits) are the bits counted."""
    bits = STATUS_NAMES if bits is None else bits
    a = np.asarray(status).ravel()
    if a.dtype.kind in "iu" and a.dtype.itemsize == 1:  # (a status array: one pass)
        return _byte_status_counts(a, bits)
    ok = valid(a)
    s = a[ok].astype(np.int64)
    s = s[(s & NOT_COMPUTED) == 0]
    return StatusCounts(
        computed=int(s.size), ok=int((s == 0).sum()),
        bits={name: int(((s & bit) != 0).sum()) for bit, name in bits.items()},
        unknown=int(((s & ~sum(bits)) != 0).sum()), missing=int(a.size - s.size))


#: the values of the 256 bytes as signed ("i") and unsigned ("u") 1-byte
#: integers, by the byte's unsigned value
_BYTE_VALUES = {"u": np.arange(256, dtype=np.int64),
                "i": np.arange(256, dtype=np.int64).astype(np.uint8).view(np.int8)
                .astype(np.int64)}


def _byte_status_counts(a, bits):
    """status_counts of a 1-byte integer array: from one histogram of its
    256 values rather than a pass over the points for every bit (about
    five times less time on a chunk of 10^5 points)."""
    h = np.bincount(a.view(np.uint8), minlength=256)
    v = _BYTE_VALUES[a.dtype.kind]
    h = np.where((v & NOT_COMPUTED) == 0, h, 0)  # (only the computed points count)
    computed = int(h.sum())
    return StatusCounts(
        computed=computed, ok=int(h[v == 0].sum()),
        bits={name: int(h[(v & bit) != 0].sum()) for bit, name in bits.items()},
        unknown=int(h[(v & ~sum(bits)) != 0].sum()), missing=int(a.size - computed))


def status_line(c):
    """'ok 9,990 of 10,000 computed points; path_shape 10' (and how many
    points are not computed yet) of :class:`StatusCounts`."""
    parts = [f"ok {c.ok:,} of {c.computed:,} computed points"]
    parts += [f"{name} {count:,}" for name, count in c.bits.items() if count]
    if c.missing:
        parts.append(f"not computed yet {c.missing:,}")
    return "; ".join(parts)


def chunk_counts(regime, n_equilibria, status):
    """The counts of one chunk that :func:`summary` adds up: (per sector a
    Counter of regime codes, points with > 1 equilibrium, points with
    status 0, Counter of status bit names)."""
    per_sector = [Counter(c) for c, _ in regime_counts(regime)]
    multi = int((np.asarray(n_equilibria) > 1).sum())
    c = status_counts(status, COMPUTED_STATUS_NAMES)
    return per_sector, multi, c.ok, Counter(c.bits)


def summary(store, layout, known=None):
    """Counts over a complete store, read chunk by chunk (bounded memory).
    known: {chunk id: chunk_counts(...)} of chunks counted already (from
    the outputs a run wrote): those are not read again."""
    from coordsweep.engine.store import zarrstore as zstore
    known = known or {}
    per_sector = None   # a Counter of regime codes per sector (-1: not computed)
    multi = 0
    status_ok = 0
    status_bits = Counter({name: 0 for name in COMPUTED_STATUS_NAMES.values()})
    group = None
    for cid in range(layout.nchunks):
        counts = known.get(cid)
        if counts is None:
            if group is None:
                group = zstore.open_group(store)
            region = layout.region(cid)
            counts = chunk_counts(group["regime"][region + (slice(None),)],
                                  group["n_equilibria"][region], group["status"][region])
        sectors, m, ok, bits = counts
        per_sector = sectors if per_sector is None else [
            a + b for a, b in zip(per_sector, sectors)]
        multi += m
        status_ok += ok
        status_bits.update(bits)
    per_sector = np.array([[counts[k] for k in range(len(REGIME_NAMES))]
                           for counts in per_sector], dtype=np.int64)
    return {
        "points": layout.size,
        "share_multiple_equilibria": multi / layout.size,
        "regime_counts": {name: int(per_sector[:, k].sum())
                          for k, name in enumerate(REGIME_NAMES)},
        "regime_counts_per_sector": per_sector,
        "status_ok": status_ok,
        "status_bits": dict(status_bits),
    }
