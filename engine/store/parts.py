"""Which parts of a job array a store still misses (``inspect``)."""
from coordsweep.engine.spec.parts import part_chunks


def missing_parts(attrs, done):
    """{k: chunks missing} of the parts of a store created with --part."""
    m = attrs.get("parts")
    if not m:
        return {}
    out = {}
    for k in range(1, m + 1):
        miss = int((~done[part_chunks(done.size, k, m)]).sum())
        if miss:
            out[k] = miss
    return out


def describe_parts(attrs, done):
    """The inspect line on parts ("" for a store not created with --part)."""
    m = attrs.get("parts")
    if not m:
        return ""
    miss = missing_parts(attrs, done)
    if not miss:
        return f"parts: {m} (run {attrs.get('run_id', '?')}), none missing"
    return (f"parts: {m} (run {attrs.get('run_id', '?')}), missing: "
            + ", ".join(f"{k}/{m} ({n} chunks)" for k, n in miss.items()))
