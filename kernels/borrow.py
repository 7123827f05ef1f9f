"""Borrowed views of a block's arrays: no reference counting.

Every call of a kernel function that receives an array increments and
decrements the array's reference count, an atomic instruction (~20 cycles;
a profile of the 3-sector grid put a third of the kernel's time in
NRT_incref / NRT_decref: the workspace travels through a dozen calls per
GE-path search and per profile). A view made by ``numba.carray`` on the
array's data pointer has no memory-info block, so its reference counting is
a test of a null pointer. The block kernel makes such views once per block
(:func:`borrow` for an array, :func:`borrow_all` for a namedtuple of
arrays); the owning arrays (arguments of the block kernel) outlive them.
Arrays that are not C-contiguous are passed through unchanged.
"""
import numba
from numba.core import cgutils, types
from numba.extending import intrinsic, overload


@intrinsic
def _voidptr(typingctx, addr):
    """The integer address addr as a void pointer."""
    if not isinstance(addr, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(addr), codegen


def borrow(a):
    """A view of the array a without reference counting (a must outlive
    it); a itself when it is not C-contiguous. (Jit code only.)"""
    raise NotImplementedError("kernels.borrow.borrow is for jit code")


def borrow_all(t):
    """The namedtuple t with every array borrowed. (Jit code only.)"""
    raise NotImplementedError("kernels.borrow.borrow_all is for jit code")


@overload(borrow, jit_options={"nogil": True})
def _borrow(a):
    if isinstance(a, types.Array) and a.layout == "C":
        def impl(a):
            return numba.carray(_voidptr(a.ctypes.data), a.shape, a.dtype)
        return impl
    return lambda a: a


@overload(borrow_all, jit_options={"nogil": True})
def _borrow_all(t):
    if not isinstance(t, types.BaseNamedTuple):
        return None
    args = ", ".join(f"borrow(t[{k}])" for k in range(len(t)))
    ns = {"cls": t.instance_class, "borrow": borrow}
    exec(f"def impl(t):\n    return cls({args})\n", ns)  # noqa: S102 - fixed template
    return ns["impl"]
