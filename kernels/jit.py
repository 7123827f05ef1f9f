"""The one jit decorator of the kernels, with every option in one place.

``@jit`` is ``numba.njit(nogil=True)`` (serial: dask supplies the
parallelism; ``fastmath`` stays off, it would delete the NaN checks;
``error_model="numpy"``: a float division by zero gives inf/NaN as IEEE
and C do, caught by the NaN checks and flagged, instead of a
ZeroDivisionError that would end the whole block, and without a branch
before every division) with
on-disk caching, switched off by ``COORDSWEEP_NUMBA_CACHE=0``.

No reference counting (numba's ``_nrt=False``): the kernels allocate no
arrays; they work in the arrays the Python entry points pass them, which
outlive every call. With numba's runtime on, every call that passes the
workspace (a namedtuple of five arrays) increments and decrements five
reference counts, out-of-line calls to ``NRT_incref``/``NRT_decref``: 12%
of the samples of a perf profile of the 3-sector grid; ``solve_block``'s
pass took 0.85 µs a point with the runtime and 0.54 without
(benchmarks/bench_kernels.py).
Without the runtime numba refuses, at compile time, a kernel function that
allocates an array, and :class:`KernelDispatcher` refuses one that returns
an array or takes one from a jitted call, so the rule is checked, not
hoped for. The few functions
that do allocate (kernels/many.py's meet-in-the-middle buffers) say
``@jit(_nrt=True)``; they may call and be called by the others (a view
passed to them is counted up and down again, balanced; they return no
arrays to them).

Fewer specialisations, a shorter first compile: a kernel function called
from another with a constant argument (``f(x, 0)``, ``g(ws, True)``) is
compiled for the argument's *non-literal* type (int64, bool), so each
function has one machine code, not one per constant it is called with
(numba otherwise specialises on ``Literal[int](0)`` and compiles again).

Numba's own cache checks only the source file of the function it
compiled: after an edit of a function it calls in another module it would
load stale machine code. Here every cached function is stamped with a
hash of *all* the kernel sources (``kernels/*.py``), so an edit anywhere in
the kernels recompiles them all, and nobody deletes cache files by hand.
"""
import hashlib
import os
from pathlib import Path

import numba

#: options of every kernel function
JIT_OPTIONS = {"nogil": True, "error_model": "numpy", "_nrt": False}
#: debug: COORDSWEEP_DEBUG_MAXITER=N caps every root finder's iterations at N
#: (forced non-convergence, for the fault tests); None = the normal caps
DEBUG_MAXITER = (int(os.environ["COORDSWEEP_DEBUG_MAXITER"])
                 if os.environ.get("COORDSWEEP_DEBUG_MAXITER", "").strip() else None)


def maxiter(normal):
    """An iteration cap: `normal`, or the debug cap when one is set."""
    return normal if DEBUG_MAXITER is None else DEBUG_MAXITER


#: on-disk caching of compiled kernels (COORDSWEEP_NUMBA_CACHE=0 turns it off;
#: never with a debug cap, whose machine code must not reach the cache)
CACHE = os.environ.get("COORDSWEEP_NUMBA_CACHE", "1").strip().lower() not in (
    "0", "false", "no", "off", "") and DEBUG_MAXITER is None


def _tree_stamp():
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


TREE_STAMP = _tree_stamp()


def stale_cache_files(directory):
    """The files of numba's cache in `directory` that no kernel of these
    sources can load: each index (``*.nbi``) written by another numba
    version or stamped with another TREE_STAMP (other kernel sources), or
    that cannot be read, and the data files (``*.nbc``) of its entries.
    numba never deletes them: every edit of the kernels leaves an index
    and its machine code behind under the functions' old line numbers.
    A current index and its data are never listed, so a process that
    loads or adds an entry meanwhile is not disturbed (and numba compiles
    again what it finds missing)."""
    import pickle
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    stale = []
    for name in names:
        if not name.endswith(".nbi"):
            continue
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:  # (numba's IndexDataCacheFile layout)
                current = (pickle.load(f) == numba.__version__
                           and pickle.loads(f.read())[0] == TREE_STAMP)
        except Exception:  # noqa: BLE001 - an index nobody can read is stale
            current = False
        if not current:
            stem = name[:-len("nbi")]
            stale.append(path)
            stale.extend(os.path.join(directory, n) for n in names
                         if n.startswith(stem) and n.endswith(".nbc"))
    return stale


def _kernel_cache_class():
    """numba's FunctionCache whose locators stamp entries with TREE_STAMP
    (None where this numba's caching internals are not as expected)."""
    try:
        from numba.core import caching
        base_impl = caching.CompileResultCacheImpl

        def stamped(locator):
            return type(locator.__name__ + "Stamped", (locator,),
                        {"get_source_stamp": lambda self: TREE_STAMP})

        impl = type("KernelCacheImpl", (base_impl,),
                    {"_locator_classes": [stamped(c) for c in base_impl._locator_classes]})

        class KernelIndexFile(caching.IndexDataCacheFile):
            def _load_index(self):
                # An index written before an edit may name a type the kernels
                # no longer define: unpickling it fails before numba compares
                # the stamp. Such an index is stale: recompile, don't crash.
                try:
                    return super()._load_index()
                except Exception:  # noqa: BLE001 - any unreadable index is stale
                    return {}

        def __init__(self, py_func):
            caching.FunctionCache.__init__(self, py_func)
            self._cache_file.__class__ = KernelIndexFile

        return type("KernelCache", (caching.FunctionCache,),
                    {"_impl_class": impl, "__init__": __init__})
    except (ImportError, AttributeError):  # pragma: no cover - other numba versions
        return None


_KernelCache = _kernel_cache_class()


try:
    from numba.core import ir as _ir, types as _types
    from numba.core.registry import CPUDispatcher as _CPUDispatcher
except ImportError:  # pragma: no cover - other numba versions
    _CPUDispatcher = None

if _CPUDispatcher is not None and hasattr(_CPUDispatcher, "get_call_template"):
    class KernelDispatcher(_CPUDispatcher):
        """numba's CPU dispatcher, typing calls from other kernel functions
        with non-literal argument types. (At module level: numba's cache
        pickles the dispatchers that closures hold, by reference to this
        class.)"""

        def get_call_template(self, args, kws):
            return super().get_call_template(
                tuple(_types.unliteral(a) for a in args),
                {k: _types.unliteral(v) for k, v in kws.items()})

        def add_overload(self, cres):
            if not self.targetoptions.get("_nrt", True):
                _check_no_array_return(self.py_func, cres)
            super().add_overload(cres)
else:  # pragma: no cover - other numba versions: literal specialisations stay
    KernelDispatcher = None

_KernelDispatcher = KernelDispatcher


def _holds_array(t):
    """The numba type t is an array or a tuple holding one."""
    if isinstance(t, _types.Array):
        return True
    if isinstance(t, _types.Optional):
        return _holds_array(t.type)
    return isinstance(t, _types.BaseTuple) and any(_holds_array(e) for e in t.types)


def _check_no_array_return(py_func, cres):
    """Refuse a machine code without reference counting that returns an
    array (alone or in a tuple). Numba boxes such an array for Python as
    its parent (the whole array a view was taken of), and a caller with
    reference counting would never release it: both silent. Refused when
    compiled or loaded from the cache, naming the function."""
    name = f"{py_func.__module__}.{py_func.__qualname__}"
    if _holds_array(cres.signature.return_type):
        raise TypeError(
            f"kernel function {name} returns {cres.signature.return_type} but is "
            "compiled without reference counting: a kernel function that returns "
            "an array needs @jit(_nrt=True) (kernels/jit.py)")
    # ... nor takes one from a jitted function (which, with reference
    # counting, hands it over counted up; never counted down here)
    fndesc = getattr(cres, "fndesc", None)
    typemap = getattr(fndesc, "typemap", None) or {}
    for expr, sig in (getattr(fndesc, "calltypes", None) or {}).items():
        if (isinstance(expr, _ir.Expr) and expr.op == "call"
                and isinstance(typemap.get(expr.func.name), _types.Dispatcher)
                and _holds_array(sig.return_type)):
            raise TypeError(
                f"kernel function {name} is compiled without reference counting "
                f"but takes {sig.return_type} from the call at {expr.loc}: "
                "it needs @jit(_nrt=True) (kernels/jit.py)")


#: the modules that define kernel functions, in the order they were loaded
#: (what kernels/relink.py copies; every @jit function registers its module)
KERNEL_MODULES = {}


def jit(func=None, **overrides):
    """``@jit`` or ``@jit(option=...)``: compile a kernel function."""
    def decorate(f):
        KERNEL_MODULES.setdefault(f.__module__, None)
        dispatcher = numba.njit(**{**JIT_OPTIONS, **overrides})(f)
        if _KernelDispatcher is not None and type(dispatcher) is _KernelDispatcher.__base__:
            dispatcher.__class__ = _KernelDispatcher
        if CACHE:
            if _KernelCache is not None:
                dispatcher._cache = _KernelCache(dispatcher.py_func)
            else:  # pragma: no cover
                dispatcher.enable_caching()
        return dispatcher
    return decorate if func is None else decorate(func)
