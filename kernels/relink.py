"""A build of the kernels with a user's function in a solver slot.

Numba resolves a jitted function's globals when it compiles it. To put a
user's ``@njit`` wage function into the block kernel like the built-ins,
every kernel function is copied (same code, fresh globals in which every
reference to a kernel function points at its copy, and the placeholder
``wages.user_wage`` at the user's function) and compiled again. The
copies are not cached on disk (a user's function is not part of the
kernels' source stamp): one compile per process and user function.
"""
import types

import numba

from coordsweep.kernels.jit import JIT_OPTIONS

_BUILDS = {}


def _kernel_modules():
    from coordsweep.kernels import economy, many, point, rootfind, variants, wages
    return (wages, economy, rootfind, many, variants, point)


def build(overrides):
    """{placeholder dispatcher: replacement dispatcher} -> {name: copy} of
    every kernel function (module-qualified names are not needed: the
    kernels' function names are unique)."""
    key = tuple(sorted((id(k), id(v)) for k, v in overrides.items()))
    if key in _BUILDS:
        return _BUILDS[key]
    mods = _kernel_modules()
    originals = {}
    for m in mods:
        for name, obj in vars(m).items():
            if isinstance(obj, numba.core.registry.CPUDispatcher) and \
                    obj.py_func.__module__ == m.__name__:
                originals[id(obj)] = (m, name, obj)
    copies = {}
    gdicts = {}
    for m in mods:
        gdicts[m.__name__] = dict(vars(m))
    for oid, (m, name, obj) in originals.items():
        f = obj.py_func
        if oid in {id(k) for k in overrides}:
            continue
        g = gdicts[m.__name__]
        new = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
        new.__kwdefaults__ = f.__kwdefaults__
        copies[oid] = numba.njit(**JIT_OPTIONS)(new)
    replace = {id(k): v for k, v in overrides.items()}
    for g in gdicts.values():
        for name, obj in list(g.items()):
            if id(obj) in replace:
                g[name] = replace[id(obj)]
            elif id(obj) in copies:
                g[name] = copies[id(obj)]
            elif isinstance(obj, types.ModuleType) and obj.__name__ in gdicts:
                # `from coordsweep.kernels import many` then many.f(...)
                mod = types.ModuleType(obj.__name__)
                mod.__dict__.update({n: (replace.get(id(o)) or copies.get(id(o), o))
                                     for n, o in vars(obj).items()})
                g[name] = mod
    out = {originals[oid][1]: c for oid, c in copies.items()}
    _BUILDS[key] = out
    return out
