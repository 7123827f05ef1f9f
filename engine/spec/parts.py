"""The parts of a job array (``coordsweep run SPEC --part K/M``): part K of
M owns the chunks ``c`` with ``c % M == K - 1`` (round robin: neighbouring
chunks, often of similar cost, go to different parts); the parts of one
array share one run id."""
import hashlib
import re

import numpy as np

from coordsweep.engine.errors import UsageError


def parse_part(text):
    """"K/M" -> (K, M), 1 <= K <= M."""
    if isinstance(text, tuple):
        k, m = text
    else:
        mt = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if not mt:
            raise UsageError(f"--part {text!r}: expected K/M, e.g. 2/8")
        k, m = int(mt.group(1)), int(mt.group(2))
    if not (isinstance(k, int) and isinstance(m, int)) or m < 1 or not 1 <= k <= m:
        raise UsageError(f"--part {text!r}: K/M needs 1 <= K <= M")
    return k, m


def run_id(spec_text, parts, solver):
    """One run = one spec text, one part count and one set of solver
    variants (canonical text): the parts of one array."""
    key = f"{spec_text}\0parts={parts}\0solver={solver}"
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def part_chunks(nchunks, k, m):
    """The chunk ids of part k (1-based) of m."""
    return np.arange(k - 1, nchunks, m)
