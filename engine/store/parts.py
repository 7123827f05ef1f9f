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
