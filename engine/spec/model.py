"""Sweep specs: parse and validate the TOML of CONTRACT.md, build grid blocks.

``parse_spec`` / ``load_spec`` check the structure of a spec (keys, types,
sector names, axes) and raise ``SpecError`` with a one-line message naming
the offending key, sector and value. They do not check MODEL.md's domains:
``Spec.base_point()`` does that for the base point (``coordsweep solve``)
and ``Spec.check_grid()`` for every grid point (``coordsweep run``), so a
base value that every axis overrides does not block a run.

Grid points are numbered in C order over the axes, in spec order, then
the ``sample`` dimension of a ``[design]`` (engine/spec/designs.py), whose
parameters are applied after the axes. ``Spec.block(start, stop)`` builds
the kernel inputs of a range of flat indices without materialising the
whole grid (or design).
"""
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import numpy as np

from coordsweep.engine.spec.domains import check_domains, format_violation
from coordsweep.engine.errors import SpecError
from coordsweep.kernels.params import (DEFAULTS, GLOBAL_PARAMS, REQUIRED_SECTOR, SECTOR_DEFAULTS,
                                       SECTOR_PARAMS)

MAX_SECTORS = 24
SECTOR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")

TOP_KEYS = ("name", "model", "axes", "design", "run")
MODEL_KEYS = GLOBAL_PARAMS + ("sectors",)
SECTOR_KEYS = ("name",) + SECTOR_PARAMS + ("ca_weight",)
SECTOR_REQUIRED = ("name",) + REQUIRED_SECTOR
AXIS_KEYS = ("start", "stop", "num", "values", "spacing")
RUN_KEYS = ("store", "chunk_points", "max_points", "cluster", "solver",  # cluster: engine/run/cluster.py
            "refine")  # refine: engine/spec/refine.py
#: the scale axes and the kernel input each one scales
SCALED_PARAM = {"externality_scale": "externality", "cost_scale": "cost",
                "ca_spread": "productivity"}
SCALE_AXES = tuple(SCALED_PARAM)
#: [run.cluster] keys (= the --jobs ... command-line options; engine/run/cluster.py)
CLUSTER_KEYS = ("kind", "jobs", "cores", "memory", "walltime", "queue", "account",
                "job_extra", "host")
SPACINGS = ("linear", "log")


def _tile_rows(row, out):
    """Every row of `out` (p, n), C-contiguous, set to `row` (n,): the row
    written once, then doubled by contiguous copies (a broadcast assignment
    of a short row costs about five times more). Returns out."""
    n = out.shape[1]
    flat = out.reshape(-1)
    if flat.size:
        flat[:n] = row
    k = n
    while k < flat.size:
        m = min(k, flat.size - k)
        flat[k:k + m] = flat[:m]
        k += m
    return out


#: a start/stop/num axis up to this many values is materialised when parsed
#: (np.linspace / np.geomspace, 80 MB at most); a longer one only when its
#: values are read, so a spec with a huge axis is refused by the size check
#: (engine/run/preflight.py), not by a MemoryError
EAGER_AXIS_VALUES = 10_000_000


class AxisRange(tuple):
    """start, stop, num of a ``start/stop/num`` axis not yet materialised."""
    __slots__ = ()

    def __new__(cls, start, stop, num):
        return super().__new__(cls, (float(start), float(stop), int(num)))


class Axis:
    """One sweep axis (one dimension of the grid). Compares by identity.

    ``values``: float64 coordinate values, in order (a long start/stop/num
    range is materialised on first use; ``len(axis)`` and :meth:`take`
    never materialise it)."""

    def __init__(self, name, values, kind, param=None, sector=None, spacing="values"):
        self.name = name  # as written: "externality_scale", "productivity.agro", "cost"
        self.kind = kind  # externality_scale | cost_scale | ca_spread | sector_param | global_param
        self.param = param  # sector_param / global_param: the parameter
        self.sector = sector  # "<param>.<sector>": sector index; None = all
        self.spacing = spacing  # linear | log | values
        if isinstance(values, AxisRange):
            self._range, self._values = values, None
        else:
            self._range, self._values = None, np.asarray(values, dtype=np.float64)

    @property
    def size(self):
        """The number of values (a Python int: may exceed what len() allows)."""
        return self._range[2] if self._values is None else len(self._values)

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"Axis({self.name!r}, {self.size} values, {self.kind})"

    @property
    def values(self):
        if self._values is None:
            self._values = _range_values(*self._range, self.spacing)
        return self._values

    def take(self, i):
        """Values at indices i (an integer array), without materialising a
        long range: the same float operations as np.linspace / np.geomspace
        for each index (endpoints exact)."""
        if self._values is not None:
            return self._values[i]
        start, stop, num = self._range
        i = np.asarray(i, dtype=np.int64)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.spacing == "log":
                lo, hi = math.log10(start), math.log10(stop)
                v = 10.0 ** (lo + i * ((hi - lo) / (num - 1)))
            else:
                v = start + i * ((stop - start) / (num - 1))
        v = np.where(i == 0, start, np.where(i == num - 1, stop, v))
        return v.astype(np.float64)


def _range_values(start, stop, num, spacing):
    if spacing == "log":
        values = np.geomspace(start, stop, num)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            values = np.linspace(start, stop, num)
    return np.asarray(values, dtype=np.float64)


@dataclass(eq=False)
class Spec:
    """A validated sweep spec (compares by identity, like Axis)."""

    name: str | None
    text: str
    labor: float
    labor_share: float
    sector_names: list
    sectors: dict  # SECTOR_PARAMS name -> (N,) float64 base values
    ca_weight: np.ndarray  # (N,) k_i
    axes: list = field(default_factory=list)
    run: dict = field(default_factory=dict)
    source: str = "<spec>"
    design: object = None  # designs.Design or None

    @property
    def dim_sizes(self):
        """(name, length) of every dimension: the axes, then ``sample``."""
        out = [(a.name, a.size) for a in self.axes]
        if self.design is not None:
            out.append(("sample", self.design.size))
        return out

    # --- derived ---------------------------------------------------------
    @property
    def n_sectors(self):
        return len(self.sector_names)

    @property
    def shape(self):
        return tuple(n for _, n in self.dim_sizes)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dims(self):
        return tuple(name for name, _ in self.dim_sizes)

    # --- kernel inputs -----------------------------------------------------
    def _base_arrays(self, p):
        """Base values broadcast to p points (fresh, writable arrays)."""
        n = self.n_sectors
        out = {
            "labor": np.full(p, self.labor, dtype=np.float64),
            "labor_share": np.full(p, self.labor_share, dtype=np.float64),
        }
        for name in SECTOR_PARAMS:
            out[name] = _tile_rows(self.sectors[name], np.empty((p, n), dtype=np.float64))
        return out

    def base_point(self):
        """Kernel inputs of the base point (P = 1, axes ignored).

        Raises SpecError when a value is outside MODEL.md's domains.
        """
        params = self._base_arrays(1)
        bad = check_domains(params, self.sector_names)
        if bad is not None:
            raise SpecError(f"{self.source}: {format_violation(bad, params)}"
                            " (base point)")
        return params

    def block(self, start, stop):
        """Kernel inputs of the grid points with flat C-order index in
        [start, stop): ``labor``, ``labor_share`` of shape (P,), sector
        parameters of shape (P, N), float64. Axes are applied in spec
        order. Domains are not checked (see check_grid)."""
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= self.size:
            raise IndexError(f"block [{start}, {stop}) outside the grid "
                             f"of {self.size} points")
        if not self.shape:
            return self._base_arrays(stop - start)
        idx = np.unravel_index(np.arange(start, stop, dtype=np.int64), self.shape)
        return self.points(idx)

    def points(self, idx):
        """Kernel inputs of the grid points with multi-indices `idx` (one
        integer array per dimension, equal lengths), axes applied in spec
        order, then a design's parameters (its sample indices must be
        consecutive, possibly wrapping once: see _design_rows)."""
        p = len(idx[0]) if idx else 1
        return self.fill(self._base_arrays(p), idx)

    def fill(self, params, idx):
        """Apply the axes (then a design) at multi-indices `idx` to `params`,
        base values of len(idx[0]) points (``_base_arrays``), in place;
        returns params (engine/spec/blocks.py fills reused buffers with it)."""
        p = len(idx[0]) if idx else 1
        if not self.shape or p == 0:
            return params
        with np.errstate(over="ignore", invalid="ignore"):
            for axis, i in zip(self.axes, idx):
                self._apply(params, axis, axis.take(i), i)
            if self.design is not None:
                rows = self._design_rows(idx[-1])
                for k, dp in enumerate(self.design.params):
                    self._apply(params, dp, rows[:, k])
        return params

    def _design_rows(self, s):
        """Design rows at sample indices s (consecutive, possibly wrapping
        once past the end: a block is a contiguous flat range)."""
        size = self.design.size
        if s.size >= size:
            return self.design.rows(0, size)[s]
        s0, s1 = int(s[0]), int(s[-1])
        if s1 >= s0:
            return self.design.rows(s0, s1 + 1)[s - s0]
        rows = np.concatenate([self.design.rows(s0, size), self.design.rows(0, s1 + 1)])
        return rows[(s - s0) % size]

    def varying_params(self):
        """Names of the kernel inputs an axis or a design parameter sets or
        scales (the others hold their base values at every grid point)."""
        params = list(self.axes) + (list(self.design.params) if self.design is not None else [])
        return {SCALED_PARAM.get(a.kind, a.param) for a in params}

    def _apply(self, params, axis, v, i=None):
        """Apply an axis (or a design parameter) with values v (P,) in place;
        i: the axis indices of v (an axis), for a table of its factors."""
        if axis.kind in ("externality_scale", "cost_scale"):
            params[SCALED_PARAM[axis.kind]] *= v[:, None]
        elif axis.kind == "ca_spread":
            if i is not None and len(axis) < len(v):
                # exp once per axis value (the same float operations, so the
                # same bits), then gathered: a block repeats each value
                table = np.exp(axis.values[:, None] * self.ca_weight[None, :])
                params["productivity"] *= table[i]
            else:
                params["productivity"] *= np.exp(v[:, None] * self.ca_weight[None, :])
        elif axis.kind == "global_param":
            params[axis.param][:] = v
        elif axis.kind == "sector_param":
            if axis.sector is None:
                params[axis.param][:] = v[:, None]
            else:
                params[axis.param][:, axis.sector] = v
        else:  # pragma: no cover - parse_spec only makes the kinds above
            raise ValueError(f"unknown axis kind {axis.kind!r}")

    def grid_coords(self, flat_index):
        """{axis name: value} of the grid point with this flat index (with
        a design: ``sample`` = its index, then the design's values)."""
        if not self.shape:
            return {}
        idx = np.unravel_index(int(flat_index), self.shape)
        out = {a.name: float(a.take(np.array([i]))[0]) for a, i in zip(self.axes, idx)}
        if self.design is not None:
            s = int(idx[-1])
            out["sample"] = s
            out.update(zip(self.design.names, map(float, self.design.rows(s, s + 1)[0])))
        return out

    def describe_point(self, flat_index):
        """'externality_scale=-1.0, cost_scale=0.5' for a flat index."""
        coords = self.grid_coords(flat_index)
        if not coords:
            return "the base point (no axes)"
        return ", ".join(f"{k}={v!r}" for k, v in coords.items())

    def check_grid(self, block_points=None):
        """Check every grid point against MODEL.md's domains; raise
        SpecError for the first offending point (lowest flat index) naming
        the parameter, sector, value and grid coordinates. Costs
        O(sum of axis lengths x 2^axes), never O(grid) (engine/spec/gridcheck.py)."""
        from coordsweep.engine.spec.gridcheck import first_violation
        self._raise_violation(first_violation(self, block_points))

    def check_grid_exhaustive(self, block_points=200_000):
        """check_grid by visiting every grid point, block by block: O(grid)
        (the reference the tests hold check_grid to)."""
        from coordsweep.engine.spec.gridcheck import scan
        self._raise_violation(scan(self, block_points))

    def _raise_violation(self, found):
        """SpecError for a (flat index, Violation, block) found by a grid check."""
        if found is not None:
            flat, bad, params = found
            raise SpecError(
                f"{self.source}: {format_violation(bad, params)} "
                f"at grid point {self.describe_point(flat)}")

    def to_toml(self) -> str:
        """The spec as TOML text, written by a TOML writer (tomli-w) from the
        parsed document: ``parse_spec(spec.to_toml())`` is the same spec.
        Comments of the original text are not kept (``spec.text`` has them)."""
        import tomli_w
        return tomli_w.dumps(tomllib.loads(self.text))

    def point_spec_text(self, index):
        """TOML text of a spec with no axes whose base point is the grid
        point with multi-index ``index`` (one integer per axis)."""
        index = tuple(int(i) for i in np.atleast_1d(np.asarray(index, dtype=np.int64)))
        if not self.shape:
            if index not in ((), (0,)):
                raise IndexError(f"grid index {index} for a spec without axes")
            flat = 0
        else:
            if len(index) != len(self.shape):
                raise IndexError(f"grid index {index} has {len(index)} entries, "
                                 f"the grid has {len(self.shape)} dimensions")
            for i, n in zip(index, self.shape):
                if not 0 <= i < n:
                    raise IndexError(f"grid index {index} outside shape {self.shape}")
            flat = int(np.ravel_multi_index(index, self.shape))
        params = self.block(flat, flat + 1)
        name = self.name if self.name is not None else "point"
        lines = [
            f"# grid point {index} ({self.describe_point(flat)})",
            f"name = {_toml_str(name)}",
            "",
            "[model]",
            f"labor = {_toml_float(params['labor'][0])}",
            f"labor_share = {_toml_float(params['labor_share'][0])}",
        ]
        for j, sname in enumerate(self.sector_names):
            lines += ["", "[[model.sectors]]", f"name = {_toml_str(sname)}"]
            for p in SECTOR_PARAMS:
                lines.append(f"{p} = {_toml_float(params[p][0, j])}")
            lines.append(f"ca_weight = {_toml_float(self.ca_weight[j])}")
        return "\n".join(lines) + "\n"


# --- TOML writing helpers ----------------------------------------------------
def _toml_float(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)  # '1e-05', '1e+16', '0.1' are all valid TOML floats


def _toml_str(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append(ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# --- parsing ---------------------------------------------------------------
def _describe(value):
    """A value as it appears in an error message, with its TOML type."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"{value!r} ({type(value).__name__})"


class _Parser:
    def __init__(self, source):
        self.source = source

    def error(self, msg):
        return SpecError(f"{self.source}: {msg}")

    def check_keys(self, table, allowed, where):
        for key in table:
            if key not in allowed:
                raise self.error(
                    f"unknown key {key!r} in {where} (allowed: {', '.join(allowed)})")

    def number(self, value, key):
        """A TOML int or float as a Python float (not checked for domain)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{key} must be a number, got {_describe(value)}")
        try:
            return float(value)
        except OverflowError:
            raise self.error(f"{key} is {value}, too large for a float") from None

    def finite(self, value, key):
        x = self.number(value, key)
        if not math.isfinite(x):
            raise self.error(f"{key} is {x!r}, not a finite number")
        return x

    def table(self, value, key):
        if not isinstance(value, dict):
            raise self.error(f"{key} must be a table, got {_describe(value)}")
        return value

    # --- sections --------------------------------------------------------
    def parse(self, text):
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            msg = " ".join(str(exc).split())
            raise self.error(f"TOML syntax error: {msg}") from None
        self.check_keys(doc, TOP_KEYS, "the top level")

        name = doc.get("name")
        if name is not None and not isinstance(name, str):
            raise self.error(f"name must be a string, got {_describe(name)}")

        if "model" not in doc:
            raise self.error("missing required table [model] "
                             "(with labor_share and [[model.sectors]])")
        model = self.table(doc["model"], "model")
        self.check_keys(model, MODEL_KEYS, "[model]")
        values = {}
        for p in GLOBAL_PARAMS:
            if p not in model and p not in DEFAULTS:
                raise self.error(f"missing required key 'model.{p}'")
            values[p] = self.number(model.get(p, DEFAULTS.get(p)), f"model.{p}")
        labor, labor_share = values["labor"], values["labor_share"]

        sector_names, sectors, ca_weight = self.parse_sectors(model)
        axes = self.parse_axes(doc.get("axes", {}), sector_names)
        design = None
        if "design" in doc:
            from coordsweep.engine.spec import designs
            design = designs.parse(doc["design"], self, sector_names)
            clash = [a.name for a in axes if a.name in design.names]
            if clash:
                raise self.error(f"{clash[0]!r} is both an axis and a design parameter")
        run = self.parse_run(doc.get("run", {}))
        if "refine" in run:  # [run.refine]: checked against the axes and sectors
            from coordsweep.engine.spec import refine
            dims = [a.name for a in axes] + (["sample"] if design is not None else [])
            refine.parse(run["refine"], dims, [a.name for a in axes], sector_names,
                         error=self.error)
        return Spec(name=name, text=text, labor=labor, labor_share=labor_share,
                    sector_names=sector_names, sectors=sectors,
                    ca_weight=ca_weight, axes=axes, run=run, source=self.source,
                    design=design)

    def parse_sectors(self, model):
        if "sectors" not in model:
            raise self.error("missing required key 'model.sectors' "
                             "(one [[model.sectors]] table per sector)")
        raw = model["sectors"]
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            raise self.error("model.sectors must be an array of tables "
                             f"([[model.sectors]]), got {_describe(raw)}")
        n = len(raw)
        if not 1 <= n <= MAX_SECTORS:
            raise self.error(f"model.sectors has {n} sectors; the number of "
                             f"sectors N must be in 1..{MAX_SECTORS}")
        names = []
        first_seen = {}
        for j, sec in enumerate(raw):
            where = f"model.sectors[{j}]"
            if "name" not in sec:
                raise self.error(f"missing required key 'name' in {where}")
            sname = sec["name"]
            if not isinstance(sname, str):
                raise self.error(f"{where}.name must be a string, got {_describe(sname)}")
            if not SECTOR_NAME_RE.fullmatch(sname):
                raise self.error(f"sector name {sname!r} in {where}.name must "
                                 "match [A-Za-z0-9_-]+")
            if sname in first_seen:
                raise self.error(f"duplicate sector name {sname!r} "
                                 f"(model.sectors[{first_seen[sname]}] and {where})")
            first_seen[sname] = j
            names.append(sname)

        default_k = np.array([0.0]) if n == 1 else np.linspace(0.5, -0.5, n)
        sectors = {p: np.empty(n, dtype=np.float64) for p in SECTOR_PARAMS}
        ca_weight = default_k.astype(np.float64).copy()
        for j, sec in enumerate(raw):
            sname = names[j]
            where = f"sector {sname!r} (model.sectors[{j}])"
            self.check_keys(sec, SECTOR_KEYS, where)
            for p in SECTOR_REQUIRED:
                if p not in sec:
                    raise self.error(f"missing required key {p!r} in {where}")
            for p in SECTOR_PARAMS:
                if p in sec:
                    sectors[p][j] = self.number(sec[p], f"{p} of sector {sname!r}")
                else:
                    sectors[p][j] = SECTOR_DEFAULTS[p]
            if "ca_weight" in sec:
                ca_weight[j] = self.finite(sec["ca_weight"],
                                           f"ca_weight of sector {sname!r}")
        return names, sectors, ca_weight

    def parse_axes(self, raw, sector_names):
        raw = self.table(raw, "axes")
        axes = []
        for name, table in raw.items():
            axes.append(self.parse_axis(name, table, sector_names))
        return axes

    def axis_kind(self, name, sector_names):
        """(kind, param, sector index) for an axis name."""
        if name in SCALE_AXES:
            return name, None, None
        if name in GLOBAL_PARAMS:
            return "global_param", name, None
        if name in SECTOR_PARAMS:
            return "sector_param", name, None
        param, dot, sname = name.partition(".")
        if dot and param in SECTOR_PARAMS:
            if sname not in sector_names:
                raise self.error(
                    f"unknown sector {sname!r} in axis {name!r} "
                    f"(sectors: {', '.join(sector_names)})")
            return "sector_param", param, sector_names.index(sname)
        raise self.error(
            f"unknown axis {name!r} (valid: {', '.join(SCALE_AXES + GLOBAL_PARAMS)}, "
            f"<param> or <param>.<sector> with <param> one of "
            f"{', '.join(SECTOR_PARAMS)})")

    def named_table(self, name, table, *, prefix, what, keys, sector_names,
                    expected="a table"):
        """The checks an axis table and a design parameter's table share: a
        table, its name quoted when dotted (an unquoted [axes.cost.manu] reads
        as nested tables), a known axis name, known keys. Returns
        ``axis_kind(name)``."""
        key = f"{prefix}.{_toml_key(name)}"
        if not isinstance(table, dict):
            raise self.error(f"{key} must be {expected}, got {_describe(table)}")
        nested = [k for k, v in table.items() if isinstance(v, dict)]
        if nested:
            full = f"{name}.{nested[0]}"
            self.axis_kind(full, sector_names)  # unknown axis / sector first
            raise self.error(f"unknown key {nested[0]!r} in [{key}]: {what} named {full!r} "
                             f"must be quoted: [{prefix}.\"{full}\"]")
        kind = self.axis_kind(name, sector_names)
        self.check_keys(table, keys, f"[{key}]")
        return kind

    def parse_axis(self, name, table, sector_names):
        key = f"axes.{_toml_key(name)}"
        kind, param, sector = self.named_table(name, table, prefix="axes", what="an axis",
                                               keys=AXIS_KEYS, sector_names=sector_names)

        has_values = "values" in table
        range_keys = [k for k in ("start", "stop", "num") if k in table]
        if has_values and range_keys:
            raise self.error(f"axis {name!r} has both 'values' and "
                             f"{', '.join(repr(k) for k in range_keys)}; give either "
                             "values = [...] or start, stop, num")
        if not has_values and not range_keys:
            raise self.error(f"axis {name!r} needs values = [...] or start, stop, num")

        if has_values:
            if "spacing" in table:
                raise self.error(f"axis {name!r}: 'spacing' applies only to "
                                 "start/stop/num, not to a values list")
            vals = table["values"]
            if not isinstance(vals, list):
                raise self.error(f"{key}.values must be an array of numbers, "
                                 f"got {_describe(vals)}")
            if not vals:
                raise self.error(f"axis {name!r} is empty (values = [])")
            values = np.array([self.finite(v, f"{key}.values[{i}]")
                               for i, v in enumerate(vals)], dtype=np.float64)
            return Axis(name, values, kind, param, sector, "values")

        missing = [k for k in ("start", "stop", "num") if k not in table]
        if missing:
            raise self.error(f"axis {name!r} is missing {', '.join(repr(k) for k in missing)} "
                             "(start, stop and num go together)")
        start = self.finite(table["start"], f"{key}.start")
        stop = self.finite(table["stop"], f"{key}.stop")
        num = table["num"]
        if isinstance(num, bool) or not isinstance(num, int):
            raise self.error(f"{key}.num must be an integer >= 1, got {_describe(num)}")
        if num == 0:
            raise self.error(f"axis {name!r} is empty (num = 0)")
        if num < 0:
            raise self.error(f"{key}.num must be an integer >= 1, got {num}")
        spacing = table.get("spacing", "linear")
        if not isinstance(spacing, str) or spacing not in SPACINGS:
            raise self.error(f"{key}.spacing must be \"linear\" or \"log\", "
                             f"got {_describe(spacing)}")
        if spacing == "log":
            for k, x in (("start", start), ("stop", stop)):
                if x <= 0:
                    raise self.error(f"axis {name!r}: log spacing needs start > 0 "
                                     f"and stop > 0, got {k} = {x!r}")
        elif num > 1 and not math.isfinite(stop - start):
            raise self.error(f"axis {name!r}: stop - start = {stop - start!r} overflows; "
                             "the linear range has no finite values")
        if num > EAGER_AXIS_VALUES:  # materialised when read, after the size check
            return Axis(name, AxisRange(start, stop, num), kind, param, sector, spacing)
        values = _range_values(start, stop, num, spacing)
        if not np.all(np.isfinite(values)):
            i = int(np.argmax(~np.isfinite(values)))
            raise self.error(f"axis {name!r}: value {i} of the {spacing} range "
                             f"is {float(values[i])!r}, not a finite number")
        return Axis(name, values, kind, param, sector, spacing)

    def parse_run(self, raw):
        run = dict(self.table(raw, "run"))
        self.check_keys(run, RUN_KEYS, "[run]")
        if "store" in run and not isinstance(run["store"], str):
            raise self.error(f"run.store must be a string (a path), "
                             f"got {_describe(run['store'])}")
        if "store" in run and not run["store"]:
            raise self.error("run.store is empty")
        if "max_points" in run:
            m = run["max_points"]
            if (isinstance(m, bool) or not isinstance(m, (int, float)) or not m == m
                    or m < 1 or m == math.inf):
                raise self.error(f"run.max_points must be a number >= 1, got {_describe(m)}")
        if "chunk_points" in run:
            c = run["chunk_points"]
            if isinstance(c, bool) or not isinstance(c, int) or c <= 0:
                raise self.error(f"run.chunk_points must be an integer > 0, "
                                 f"got {_describe(c)}")
        if "cluster" in run:
            self.check_keys(self.table(run["cluster"], "run.cluster"), CLUSTER_KEYS,
                            "[run.cluster]")
        if "solver" in run:  # [run.solver]: kept as its canonical text
            from coordsweep.kernels import solvers
            try:
                run["solver"] = solvers.text(run["solver"])
            except solvers.SolverError as exc:
                raise self.error(f"run.{exc}") from None
        return run


def _toml_key(name):
    """An axis name as a TOML key: bare when possible, quoted otherwise."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_str(name)


def default_store(spec):
    """Where a run of `spec` writes unless told: its [run] store, else
    results/<spec file stem>.zarr."""
    if spec.run.get("store"):
        return spec.run["store"]
    stem = Path(str(spec.source)).stem if spec.source and spec.source != "<spec>" else "sweep"
    return os.path.join("results", f"{stem}.zarr")



def parse_spec(text, source="<spec>"):
    """Parse and validate a sweep spec (TOML text). Raises SpecError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
            if text.startswith("\ufeff"):  # a UTF-8 byte order mark
                text = text[1:]
        except UnicodeDecodeError as exc:
            raise SpecError(f"{source}: not valid UTF-8 ({exc})") from None
    return _Parser(source).parse(text)


def load_spec(path):
    """Read and parse a spec file. A missing or unreadable file is a SpecError."""
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise SpecError(f"cannot read spec file {source!r}: {reason}") from None
    return parse_spec(data, source=source)
