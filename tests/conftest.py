"""Test setup: the repository root (packages kernels, engine) and this
directory (the reference oracle) on sys.path."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)


@pytest.fixture(scope="session")
def kern():
    """The kernels package (imported lazily so reference-only tests run
    without it; a missing package makes the kernel tests error, not skip)."""
    import kernels
    return kernels
