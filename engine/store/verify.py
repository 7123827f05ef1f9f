"""`coordsweep inspect STORE --verify`: read every chunk, check it against
the completion record (CONTRACT.md "Command line").

A chunk is *bad* when the completion record says it is done but one of
its variables' zarr chunks is missing from the store or does not decode
(zarr raises: truncated or damaged compressed data, wrong size), or its
record element itself does not decode. A chunk that is not recorded as
done is *not computed* (yet). ``run --resume --repair`` unmarks the bad
chunks and computes them again.
"""
import numpy as np

from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.spec.layout import Layout
from coordsweep.kernels.codes import NOT_COMPUTED
from coordsweep.kernels.outputs import OUTPUT


def _layout(store):
    attrs = zstore.read_attrs(store)
    import zarr
    with zstore._quiet():
        group = zarr.open_group(str(store), mode="r")
        shape = tuple(group["n_equilibria"].shape)
    return Layout(shape, tuple(attrs["chunk_shape"]))


def check(store, layout=None):
    """{"bad": {chunk id: reason}, "not_computed": [chunk ids], "chunks": n}."""
    import zarr
    layout = layout or _layout(store)
    done = zstore.done_chunks(store)
    bad = {}
    with zstore._quiet():
        group = zarr.open_group(str(store), mode="r")
        record = group["chunk_done"]
        # every output the store holds (the optional groups where asked for)
        names = set(group.array_keys())
        arrays = {o.name: group[o.name] for o in OUTPUT.values() if o.name in names}
        for cid in range(layout.nchunks):
            try:
                record[cid]
            except Exception as exc:  # noqa: BLE001
                bad[cid] = f"completion record does not decode ({type(exc).__name__})"
                continue
            if not done[cid]:
                continue
            coords = np.unravel_index(cid, layout.grid) if layout.grid else ()
            for name, arr in arrays.items():
                extra = arr.ndim - len(layout.region(cid))  # sector, equilibrium
                key = tuple(int(i) for i in coords) + (0,) * extra
                try:
                    ckey = arr.metadata.encode_chunk_key(key)
                    present = _exists(arr, ckey)
                except Exception:  # noqa: BLE001 - other zarr versions: decode only
                    present = True
                if not present:
                    bad[cid] = f"{name}: chunk {'/'.join(map(str, key))} is missing"
                    break
                region = layout.region(cid)
                try:
                    value = arr[region + (slice(None),) * extra]
                except Exception as exc:  # noqa: BLE001 - any decode failure
                    bad[cid] = f"{name}: does not decode ({type(exc).__name__}: {exc})"
                    break
                if name == "status" and np.any(np.asarray(value) & NOT_COMPUTED):
                    bad[cid] = "status: points recorded as done read as not computed"
                    break
    not_computed = [int(c) for c in np.flatnonzero(~done) if int(c) not in bad]
    return {"bad": bad, "not_computed": not_computed, "chunks": layout.nchunks}


def _exists(arr, ckey):
    from zarr.core.sync import sync
    store = arr.store_path.store
    path = arr.store_path.path
    full = f"{path}/{ckey}" if path else ckey
    return sync(store.exists(full))


def bad_chunks(store, layout=None):
    return sorted(check(store, layout)["bad"])


def unmark(store, chunk_ids):
    """Set the record of `chunk_ids` to not done (they are computed again)."""
    import zarr
    with zstore._quiet():
        group = zarr.open_group(str(store), mode="r+")
        for cid in chunk_ids:
            group["chunk_done"][int(cid)] = 0
        group.attrs.update({"complete": 0})
        if group.metadata.consolidated_metadata is not None:  # an older store
            zarr.consolidate_metadata(str(store))


def _ranges(ids):
    ids = sorted(ids)
    out = []
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ", ".join(out)


def report(store):
    """(text, ok): the verification as text; ok when every chunk is done and good."""
    res = check(store)
    return format_check(res), not res["bad"] and not res["not_computed"]


def format_check(res):
    """The result of check() as text."""
    lines = [f"verify: {res['chunks']} chunks read; {len(res['bad'])} bad, "
             f"{len(res['not_computed'])} not computed"]
    for cid, why in sorted(res["bad"].items()):
        lines.append(f"  bad chunk {cid}: {why}")
    if res["not_computed"]:
        lines.append(f"  not computed: chunks {_ranges(res['not_computed'])}")
    if res["bad"]:
        lines.append("  run `coordsweep run SPEC --store STORE --resume --repair` "
                     "to compute the bad chunks again")
    return "\n".join(lines)
