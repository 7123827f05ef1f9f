"""What an analysis of a store looks at: one output (of one sector), or the
indicator of one of its categories, or of a threshold on it.

``Target.parse(var, sector, category, where, sector_names)`` checks the
names (``UsageError`` naming what is wrong); ``of_store(ds)`` gives the
analysed values over the store's dims, ``of_outputs(out)`` the same values
from the kernels' outputs of fresh points (``{name: (P,) or (P, N)}``), so
a discovered box is checked with the very indicator that found it.

- categorical outputs (``regime``, ``target_*``) take ``category``: a
  regime name, a sector name;
- ``n_equilibria`` takes ``category = "multiple"`` (n_equilibria > 1) or a
  count;
- booleans (``has_partial``, ``coop_*``) are 0/1, or with ``category``
  ``"true"`` or ``"false"`` the indicator of that value;
- outputs per listed equilibrium (``eq_*``) take ``equilibrium``, a rank
  (0: the best);
- ``where = "VAR>0.5"`` (or ``">0.5"`` with ``var``; operators
  ``< <= > >= == !=``) is the indicator of a threshold on a number.
"""
import operator
import re

import numpy as np

from coordsweep.engine.errors import UsageError
from coordsweep.kernels.codes import REGIME_NAMES
from coordsweep.kernels.outputs import EQUILIBRIUM_DIM, OUTPUT

#: every output (the optional groups too, where a store holds them)
PER = {o.name: o.per for o in OUTPUT.values()}
DTYPE = {o.name: np.dtype(o.dtype) for o in OUTPUT.values()}
OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
       "<": operator.lt, ">": operator.gt}
#: the categories of a boolean output (``--category``), any case
BOOL_CATEGORIES = {"true": True, "false": False, "1": True, "0": False}
_WHERE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)?\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")


class Target:
    """One analysed quantity (see the module doc)."""

    def __init__(self, var, sector=None, sector_index=None, kind="value", code=None,
                 op=None, threshold=None, category=None, label=None, equilibrium=None):
        self.var, self.sector, self.sector_index = var, sector, sector_index
        self.equilibrium = equilibrium
        self.kind, self.code, self.op, self.threshold = kind, code, op, threshold
        self.category = category
        self.label = label or var

    @property
    def binary(self):
        """True when the values are 0/1 (an indicator or a boolean)."""
        return self.kind != "value" or DTYPE.get(self.var) == np.bool_

    @classmethod
    def parse(cls, var, sector=None, category=None, sector_names=(), where=None, *,
              store_vars=None, equilibria=0, equilibrium=None):
        """Check the names; ``store_vars``: the variables the store holds
        (an optional output may be absent), ``equilibria``: the length of
        its equilibrium list."""
        t = cls._parse(var, sector, category, sector_names, where)
        if store_vars is not None and t.var not in store_vars:
            raise UsageError(f"--var {t.var}: not in this store (an optional output: the "
                             "spec's [outputs] table did not ask for it)")
        if PER[t.var] == EQUILIBRIUM_DIM:
            if equilibrium is None or not 0 <= int(equilibrium) < equilibria:
                raise UsageError(f"--var {t.var} is per listed equilibrium: pass --select "
                                 f"{EQUILIBRIUM_DIM}=RANK or --equilibrium RANK (0 .. "
                                 f"{equilibria - 1}; 0: the best)")
            t.equilibrium = int(equilibrium)
            t.label = t.label.replace(t.var, f"{t.var} of equilibrium {t.equilibrium}", 1)
        elif equilibrium is not None:
            raise UsageError(f"--equilibrium (--select {EQUILIBRIUM_DIM}=RANK): {t.var} is not "
                             "per listed equilibrium")
        return t

    @classmethod
    def _parse(cls, var, sector, category, sector_names, where):
        per = PER
        sector_names = list(sector_names)
        op = threshold = None
        if where is not None:
            m = _WHERE.match(where)
            if m is None:
                raise UsageError(f"--where {where!r}: expected VAR OP NUMBER, e.g. "
                                 "\"coordination_gap>0.01\" (OP one of < <= > >= == !=)")
            wvar, op, num = m.groups()
            try:
                threshold = float(num)
            except ValueError:
                raise UsageError(f"--where {where!r}: {num!r} is not a number") from None
            if wvar and var and wvar != var:
                raise UsageError(f"--where {where!r} names {wvar}, --var names {var}")
            var = wvar or var
            if var is None:
                raise UsageError(f"--where {where!r}: name the variable (\"VAR{op}{num}\") "
                                 "or pass --var")
            if category is not None:
                raise UsageError("--where and --category: pass one of them")
        if var is None:
            raise UsageError("--var: required (or --where \"VAR>NUMBER\")")
        if var not in per:
            raise UsageError(f"--var {var!r}: not an output (outputs: {', '.join(per)})")
        if var == "status":
            raise UsageError("--var status: a bit field, not a number; its counts are in every "
                             "result")
        label, index = var, None
        if per[var] == "sector":
            if sector is None:
                raise UsageError(f"--var {var} is per sector: pass --sector "
                                 f"(one of {', '.join(sector_names)})")
            if sector not in sector_names:
                raise UsageError(f"--sector {sector!r}: not a sector of the store "
                                 f"({', '.join(sector_names)})")
            index = sector_names.index(sector)
            label = f"{var} of {sector}"
        elif sector is not None:
            raise UsageError(f"--sector: {var} is one number per point, not per sector")

        if op is not None:
            if var == "regime" or var.startswith("target_"):
                raise UsageError(f"--where: {var} is categorical: pass --category instead")
            return cls(var, sector, index, "compare", op=op, threshold=threshold,
                       category=f"{op}{num}", label=f"{label} {op} {num}")
        categories = None
        if var == "regime":
            categories = list(REGIME_NAMES)
        elif var.startswith("target_"):
            categories = sector_names
        if categories is not None:
            if category is None:
                raise UsageError(f"--var {var} is categorical: pass --category (one of "
                                 f"{', '.join(categories)}) to analyse its indicator")
            if category not in categories:
                raise UsageError(f"--category {category!r}: not a category of {var} "
                                 f"({', '.join(categories)})")
            return cls(var, sector, index, "category", code=categories.index(category),
                       category=category, label=f"{label} == {category}")
        if var == "n_equilibria" and category is not None:
            if category == "multiple":
                return cls(var, sector, index, "compare", op=">", threshold=1,
                           category=category, label="n_equilibria > 1")
            if category.isdigit():
                return cls(var, sector, index, "category", code=int(category),
                           category=category, label=f"n_equilibria == {int(category)}")
            raise UsageError(f"--category {category!r}: n_equilibria takes 'multiple' "
                             "(more than one equilibrium) or a count")
        if DTYPE[var] == np.bool_ and category is not None:
            value = BOOL_CATEGORIES.get(category.strip().lower())
            if value is None:
                raise UsageError(f"--category {category!r}: {var} is a boolean, its "
                                 "categories are true and false")
            return cls(var, sector, index, "category", code=value, category=category,
                       label=f"{label} == {'true' if value else 'false'}")
        if category is not None:
            raise UsageError(f"--category: {var} is not categorical")
        return cls(var, sector, index, "value", label=label)

    def apply(self, values):
        """The analysed values (float64) from the variable's values."""
        if self.kind == "category":
            return (values == self.code).astype(np.float64)
        if self.kind == "compare":
            with np.errstate(invalid="ignore"):
                return OPS[self.op](values, self.threshold).astype(np.float64)
        return values.astype(np.float64)

    def nan_of(self, values):
        """Points where the variable itself is not finite (a threshold on
        NaN is no answer)."""
        v = np.asarray(values)
        if self.var == "eq_mask":  # an empty slot of the list: no cooperation set
            from coordsweep.engine.store.conventions import EQ_MASK_FILL
            return v == EQ_MASK_FILL
        if v.dtype.kind != "f":
            return np.zeros(v.shape, bool)
        return ~np.isfinite(v) if self.kind == "value" else np.isnan(v)

    def raw_of_store(self, ds):
        da = ds[self.var]
        if self.sector_index is not None:  # (by position: sector names or codes)
            da = da.isel(sector=self.sector_index)
        if self.equilibrium is not None:
            da = da.isel({EQUILIBRIUM_DIM: self.equilibrium})
        return da

    def of_store(self, ds):
        """DataArray (float64) over the store's sweep dims."""
        da = self.raw_of_store(ds)
        if self.kind == "category":
            return (da == self.code).astype(np.float64)
        if self.kind == "compare":
            return OPS[self.op](da, self.threshold).astype(np.float64)
        return da.astype(np.float64)

    def raw_of_outputs(self, out):
        v = np.asarray(out[self.var])
        if self.sector_index is not None:
            return v[:, self.sector_index]
        return v[:, self.equilibrium] if self.equilibrium is not None else v

    def of_outputs(self, out):
        """(P,) float64 from the kernels' outputs of P points."""
        return self.apply(self.raw_of_outputs(out))
