"""Solver variants (CONTRACT.md "Solver variants"): names, parsing, codes.

A solver is one choice per slot:

- ``wage``: the labour-market root for eta > 0, in x = log w:
  ``newton`` (safeguarded Newton, the default), ``brent``, ``bisect``, or a
  user's function ``"module:function"`` (see below);
- ``equilibria``: the equilibrium set, its best member and the first best:
  ``auto`` (the default: per point, the fastest exact method for its
  number of sectors, :data:`AUTO_RULE`), ``dfs`` (pruned depth-first
  search and all 2^N profiles),
  ``brute`` (every subset of the candidates tested, no pruning), ``mitm``
  (kernels/many.py: the count by meet-in-the-middle, the best equilibrium
  and the first best by branch and bound; falls back to ``dfs`` where its
  bounds do not hold, i.e. some tau_i != 0);
- ``path``: the root searches on the GE path g_i(s): ``lockstep`` (the
  default: Brent, but the critical masses of certified increasing paths,
  the common case, are found for the whole block at once by safeguarded
  Newton in SIMD lanes, kernels/lockstep.py where every eta_i = 0,
  kernels/etapath.py elsewhere; with some eta_i > 0 and the default wage
  variant the paths the certificate does not cover are sampled in
  lock-step too),
  ``brent`` (Brent's method point by point everywhere), ``bisect`` or
  ``newton`` (safeguarded Newton with g_i's analytic slope, kept inside a
  shrinking bracket; where every eta_i = 0, elsewhere Brent answers).

A user's wage solver is a numba ``@njit`` function

    f(b, k, log_labor, lo, hi) -> (x, converged)

returning the root x of ``log(sum_i exp(b[i] - k[i] x)) = log_labor`` in
``[lo, hi]`` (b, k float64 arrays of length N, k > 0; the function is
convex and strictly decreasing in x, <= 0 at hi, >= 0 at lo up to
rounding; never called with lo = hi),
and a boolean that is False when it did not converge (the point then gets
status ``wage_not_converged``). It is compiled into the block kernel like
the built-ins (that build is not cached on disk: one compile per process).

Pure Python (no numba import): the spec parser and the CLI use it.
"""
from collections import namedtuple

SLOTS = {
    "wage": ("newton", "brent", "bisect"),
    "equilibria": ("dfs", "brute", "mitm", "auto"),
    "path": ("brent", "bisect", "newton", "lockstep"),
}
DEFAULT = {"wage": "newton", "equilibria": "auto", "path": "lockstep"}
#: ``equilibria = "auto"``: dfs up to this many sectors (where the profile
#: table of kernels/table.py holds every profile's wage and welfare), mitm
#: above. Measured on random points (engine/run/bench.py draw, one core):
#: dfs/mitm time 0.33-0.81 for N = 2..10, 3.6 at N = 11, 90 at N = 16
#: (eta = 0); 0.84-0.97 for N = 2..10, 4.5 at N = 11, 25 at N = 16 (eta > 0)
AUTO_DFS_MAX_SECTORS = 10
AUTO_RULE = (f"equilibria=auto: dfs where N <= {AUTO_DFS_MAX_SECTORS}, "
             f"mitm where N > {AUTO_DFS_MAX_SECTORS}")
#: code of a user's wage function (after the built-ins)
WAGE_USER = len(SLOTS["wage"])

Solver = namedtuple("Solver", list(SLOTS))


class SolverError(ValueError):
    """A solver choice that does not exist (one line, names the slot)."""


def parse(value=None):
    """A Solver from None (the defaults), a Solver, a dict {slot: name} or a
    string "wage=brent,equilibria=brute". Unknown slots or names raise
    SolverError."""
    return Solver(**dict(DEFAULT, **_slots(value)))


def override(base, value):
    """The Solver `base` (anything :func:`parse` takes) with the slots that
    `value` names replaced, the others kept: ``--solver equilibria=mitm``
    over a spec whose [run.solver] says ``path = "bisect"`` keeps bisect."""
    return Solver(**dict(parse(base)._asdict(), **_slots(value)))


def _slots(value):
    """{slot: name} of the slots `value` (None, a dict or a
    "SLOT=NAME,..." string) names, checked."""
    if value is None:
        return {}
    if isinstance(value, Solver):
        value = value._asdict()
    if isinstance(value, str):
        items = {}
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise SolverError(f"solver {part!r}: expected SLOT=NAME "
                                  f"(slots: {', '.join(SLOTS)})")
            k, v = part.split("=", 1)
            items[k.strip()] = v.strip()
        value = items
    if not isinstance(value, dict):
        raise SolverError(f"solver must be a table or SLOT=NAME,..., got {value!r}")
    for k, v in value.items():
        if k not in SLOTS:
            raise SolverError(f"solver slot {k!r} does not exist; slots: {', '.join(SLOTS)}")
        if not isinstance(v, str):
            raise SolverError(f"solver.{k} must be a string, got {v!r}")
        if v not in SLOTS[k] and not (k == "wage" and is_user(v)):
            extra = " or a user's module:function" if k == "wage" else ""
            raise SolverError(f"solver.{k} = {v!r}: one of {', '.join(SLOTS[k])}{extra}")
    return dict(value)


def is_user(name):
    mod, sep, fn = name.partition(":")
    return bool(sep and mod and fn and all(p.isidentifier() for p in mod.split("."))
                and fn.isidentifier())


def text(solver):
    """The canonical "wage=newton,equilibria=dfs,path=lockstep" form."""
    solver = parse(solver)
    return ",".join(f"{k}={getattr(solver, k)}" for k in SLOTS)


def record(solver):
    """What a results store records of the variants: the canonical text,
    and for ``equilibria = "auto"`` the rule that picked each point's method
    (CONTRACT.md "Solver variants")."""
    solver = parse(solver)
    out = {"solver": text(solver)}
    if solver.equilibria == "auto":
        out["solver_rule"] = AUTO_RULE
    return out


def code(slot, name):
    """The kernels' integer code of a built-in variant: its index in SLOTS
    (the kernels compare with constants made by this function, so the order
    of SLOTS is written down once)."""
    return SLOTS[slot].index(name)


def codes(solver):
    """(wage, equilibria, path) integer codes of the kernels."""
    solver = parse(solver)
    wage = WAGE_USER if is_user(solver.wage) else SLOTS["wage"].index(solver.wage)
    return (wage, SLOTS["equilibria"].index(solver.equilibria),
            SLOTS["path"].index(solver.path))


def load_user(name):
    """Import a user's "module:function"; it must be a numba @njit function."""
    import importlib
    mod, _, fn = name.partition(":")
    try:
        f = getattr(importlib.import_module(mod), fn)
    except ImportError as exc:
        raise SolverError(f"solver.wage = {name!r}: cannot import {mod!r} ({exc})") from None
    except AttributeError:
        raise SolverError(f"solver.wage = {name!r}: {mod!r} has no {fn!r}") from None
    if not hasattr(f, "py_func") or not hasattr(f, "compile"):
        raise SolverError(f"solver.wage = {name!r}: not a numba @njit function")
    return f
