"""A build of the kernels with a user's function in a solver slot.

Numba resolves a jitted function's globals (and closure variables) when it
compiles it. To put a user's ``@njit`` wage function into the block kernel
like the built-ins, every kernel function is copied (same code, fresh
globals and closure cells in which every reference to a kernel function
points at its copy, and the placeholder ``wages.user_wage`` at the user's
function) and compiled again. The copies are not cached on disk (a user's
function is not part of the kernels' source stamp): one compile per
process and user function.
"""
import sys
import types

from numba.core.registry import CPUDispatcher

from coordsweep.kernels.jit import JIT_OPTIONS, KERNEL_MODULES

_BUILDS = {}


def _kernel_modules():
    """Every module that has defined a kernel function so far (the caller,
    having imported what it relinks, has loaded them all)."""
    return tuple(sys.modules[name] for name in KERNEL_MODULES)


def _is_kernel(obj, names):
    return isinstance(obj, CPUDispatcher) and obj.py_func.__module__ in names


def build(overrides):
    """{placeholder dispatcher: replacement} -> {name: copy} of every kernel
    function reachable from the kernel modules' globals (by the name it
    has in its module; the kernels' names are unique)."""
    import numba
    key = tuple(sorted((id(k), id(v)) for k, v in overrides.items()))
    if key in _BUILDS:
        return _BUILDS[key]
    mods = _kernel_modules()
    names = {m.__name__ for m in mods}
    # every kernel dispatcher: module globals, and what factories closed over
    found = {}
    todo = [(n, o) for m in mods for n, o in vars(m).items() if _is_kernel(o, names)]
    while todo:
        name, obj = todo.pop()
        if id(obj) in found:
            continue
        found[id(obj)] = (name, obj)
        for cell in obj.py_func.__closure__ or ():
            try:
                c = cell.cell_contents
            except ValueError:
                continue
            if _is_kernel(c, names):
                todo.append((c.__name__, c))
    replace = {id(k): v for k, v in overrides.items()}
    gdicts = {m.__name__: dict(vars(m)) for m in mods}
    copies = {}  # id of the original -> (copy, its closure cells, the copy's cells)
    for oid, (name, obj) in found.items():
        if oid in replace:
            continue
        f = obj.py_func
        closure = None
        if f.__closure__:
            closure = tuple(types.CellType() for _ in f.__closure__)
        new = types.FunctionType(f.__code__, gdicts[f.__module__], f.__name__,
                                 f.__defaults__, closure)
        new.__kwdefaults__ = f.__kwdefaults__
        options = {k: v for k, v in obj.targetoptions.items() if k != "nopython"}
        copies[oid] = (numba.njit(**{**JIT_OPTIONS, **options})(new), f.__closure__, closure)
    disp = {oid: c[0] for oid, c in copies.items()}

    def target(o):
        return replace.get(id(o)) or disp.get(id(o), o)

    for oid, (_, old_cells, new_cells) in copies.items():
        for old, new in zip(old_cells or (), new_cells or ()):
            try:
                new.cell_contents = target(old.cell_contents)
            except ValueError:
                pass
    for g in gdicts.values():
        for name, obj in list(g.items()):
            if isinstance(obj, CPUDispatcher):
                g[name] = target(obj)
            elif isinstance(obj, types.ModuleType) and obj.__name__ in names:
                # `from coordsweep.kernels import many` then many.f(...)
                mod = types.ModuleType(obj.__name__)
                mod.__dict__.update({n: target(o) for n, o in vars(obj).items()})
                g[name] = mod
    out = {found[oid][0]: d for oid, d in disp.items()}
    _BUILDS[key] = out
    return out
