"""kernels/jit.py: the kernels run without numba's reference counting, and
a kernel function that would hand an array across that boundary is refused
when it is compiled (numba would box it as its parent array, or leak it)."""
import numpy as np
import pytest

from coordsweep.kernels import jit as J


@pytest.fixture
def jit(monkeypatch):
    monkeypatch.setattr(J, "CACHE", False)  # (functions of this test file: never cached)
    return J.jit


def test_kernel_functions_run_without_reference_counting(jit):
    @jit
    def total(a):
        s = 0.0
        for v in a[1:]:
            s += v
        return s

    @jit(_nrt=True)
    def counted(a):
        s = 0.0
        for v in a[1:]:
            s += v
        return s

    a = np.arange(4.0)
    assert total(a) == counted(a) == 6.0
    # the slice a[1:] is counted up and down with the runtime, not without
    assert "NRT_decref" in next(iter(counted.inspect_llvm().values()))
    assert "NRT_decref" not in next(iter(total.inspect_llvm().values()))


def test_returning_a_view_without_reference_counting_is_refused(jit):
    @jit
    def tail(a):
        return a[1:], 1

    with pytest.raises(TypeError, match=r"tail returns .*array.*_nrt=True"):
        tail(np.arange(3.0))


def test_with_reference_counting_a_view_comes_back_right(jit):
    @jit(_nrt=True)
    def tail(a):
        return a[1:], 1

    v, one = tail(np.arange(3.0))
    assert v.tolist() == [1.0, 2.0] and one == 1


def test_taking_an_array_from_a_counted_function_is_refused(jit):
    @jit(_nrt=True)
    def fresh(n):
        return np.zeros(n)

    @jit
    def user(n):
        return fresh(n).sum()

    with pytest.raises(TypeError, match=r"user .* takes array.*_nrt=True"):
        user(3)
