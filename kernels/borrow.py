"""Borrowed views of a block's scratch arrays: no reference counting.

Every call of a kernel function that receives an array increments and
decrements the array's reference count, an atomic instruction (~20 cycles;
a profile of the 3-sector grid put a third of the kernel's time in
NRT_incref / NRT_decref: the workspace travels through a dozen calls per
GE-path search and per profile). A view made by ``numba.carray`` on the
array's data pointer has no memory-info block, so its reference counting is
a test of a null pointer. :func:`borrow` makes such views of the scratch
arrays once per block; the owning arrays (arguments of the block kernel)
outlive them. Only for C-contiguous arrays the kernels allocate themselves.
"""
import numba
from numba.core import cgutils, types
from numba.extending import intrinsic

from coordsweep.kernels.jit import jit


@intrinsic
def _voidptr(typingctx, addr):
    """The integer address addr as a void pointer."""
    if not isinstance(addr, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(addr), codegen


@jit
def borrow(a):
    """A view of the C-contiguous array a without reference counting (a
    must outlive it)."""
    return numba.carray(_voidptr(a.ctypes.data), a.shape, a.dtype)
