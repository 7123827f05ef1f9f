"""Test setup: this directory (the reference oracle, shared helpers) on
sys.path; the package itself is the installed ``coordsweep``."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(scope="session")
def kern():
    """The kernels package (imported lazily so reference-only tests run
    without it; a missing package makes the kernel tests error, not skip)."""
    from coordsweep import kernels
    return kernels
