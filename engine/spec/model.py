"""Sweep specs: parse and validate the TOML of CONTRACT.md into a Spec.

``parse_spec`` / ``load_spec`` check the structure of a spec (keys, types,
sector names, axes) and raise ``SpecError`` with a one-line message naming
the offending key, sector and value. They do not check MODEL.md's domains:
``Spec.base_point()`` does that for the base point (``coordsweep solve``)
and ``Spec.check_grid()`` for every grid point (``coordsweep run``), so a
base value that every axis overrides does not block a run.

Grid points are numbered in C order over the axes, in spec order, then
the ``sample`` dimension of a ``[design]`` (engine/spec/designs.py), whose
parameters are applied after the axes. ``Spec.block(start, stop)`` gives
the kernel inputs of a range of flat indices (engine/spec/blocks.py);
axes are engine/spec/axes.py, one point by name engine/spec/pointspec.py.

(Over 450 lines: the parser of every spec table is one class, its checks
sharing the error, key and number helpers, kept next to the Spec it builds.)
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

from coordsweep.engine.spec import blocks, gridcheck, pointspec
from coordsweep.engine.spec.axes import (EAGER_AXIS_VALUES, SCALE_AXES, Axis, AxisRange,
                                         range_values, target)
from coordsweep.engine.spec.domains import check_domains, format_violation
from coordsweep.engine.errors import SpecError
from coordsweep.kernels.params import (DEFAULTS, GLOBAL_PARAMS, MAX_SECTORS, REQUIRED_SECTOR,
                                       SECTOR_DEFAULTS, SECTOR_PARAMS)

SECTOR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")

TOP_KEYS = ("name", "model", "axes", "design", "run", "outputs")
MODEL_KEYS = GLOBAL_PARAMS + ("sectors",)
SECTOR_KEYS = ("name",) + SECTOR_PARAMS + ("ca_weight",)
SECTOR_REQUIRED = ("name",) + REQUIRED_SECTOR
AXIS_KEYS = ("start", "stop", "num", "values", "spacing")
RUN_KEYS = ("store", "chunk_points", "max_points", "cluster", "solver",  # cluster: engine/run/cluster.py
            "refine")  # refine: engine/spec/refine.py
#: [run.cluster] keys (= the --jobs ... command-line options; engine/run/cluster.py)
CLUSTER_KEYS = ("kind", "jobs", "cores", "memory", "walltime", "queue", "account",
                "job_extra", "host")
SPACINGS = ("linear", "log")
#: [outputs] keys (CONTRACT.md "Optional outputs") and their defaults
OUTPUT_KEYS = ("equilibria", "dynamics", "dynamics_seed")
NO_OUTPUTS = {"equilibria": 0, "dynamics": 0, "dynamics_seed": 0}
#: dynamics_seed: a non-negative int64 (what TOML holds)
MAX_DYNAMICS_SEED = 2**63 - 1


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
    #: [outputs]: {"equilibria": K, "dynamics": K, "dynamics_seed": S} (0: none),
    #: the keyword arguments of kernels.solve for the optional outputs
    outputs: dict = field(default_factory=lambda: dict(NO_OUTPUTS))

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

    @property
    def output_rows(self):
        """The outputs a sweep of this spec stores (kernels/outputs.py
        rows: every per-point output, then the optional groups it asks for)."""
        from coordsweep.kernels.outputs import outputs_for
        return outputs_for(self.outputs["equilibria"], self.outputs["dynamics"])

    # --- kernel inputs (engine/spec/blocks.py) --------------------------------
    def base_point(self):
        """Kernel inputs of the base point (P = 1, axes ignored).

        Raises SpecError when a value is outside MODEL.md's domains.
        """
        params = blocks.base_arrays(self, 1)
        bad = check_domains(params, self.sector_names)
        if bad is not None:
            raise SpecError(f"{self.source}: {format_violation(bad, params)}"
                            " (base point)")
        return params

    def block(self, start, stop):
        """Kernel inputs of the grid points with flat C-order index in
        [start, stop): ``labor``, ``labor_share`` of shape (P,), sector
        parameters of shape (P, N), float64 (fresh arrays). Axes are applied
        in spec order. Domains are not checked (see check_grid)."""
        return blocks.fresh(self, start, stop)

    def points(self, idx):
        """Kernel inputs of the grid points with multi-indices `idx` (one
        integer array per dimension, equal lengths)."""
        return blocks.points(self, idx)

    def points_at(self, values):
        """Kernel inputs of points anywhere in the parameter space, given
        ``{axis or design parameter: (P,) values}`` (engine/spec/blocks.py
        ``points_at``)."""
        return blocks.points_at(self, values)

    def varying_params(self):
        """Names of the kernel inputs an axis or a design parameter sets or
        scales (the others hold their base values at every grid point)."""
        params = list(self.axes) + (list(self.design.params) if self.design is not None else [])
        return {target(a) for a in params}

    # --- points named (engine/spec/pointspec.py) -----------------------------
    def grid_coords(self, flat_index):
        """{axis name: value} of the grid point with this flat index."""
        return pointspec.grid_coords(self, flat_index)

    def describe_point(self, flat_index):
        """'externality_scale=-1.0, cost_scale=0.5' for a flat index."""
        return pointspec.describe_point(self, flat_index)

    def point_spec_text(self, index):
        """TOML text of a spec with no axes whose base point is the grid
        point with multi-index ``index`` (one integer per axis)."""
        return pointspec.point_spec_text(self, index)

    def check_grid(self, block_points=None):
        """Check every grid point against MODEL.md's domains; SpecError for
        the first offending point (engine/spec/gridcheck.py, never O(grid))."""
        gridcheck.check(self, block_points)

    def to_toml(self) -> str:
        """The spec as TOML text, written by a TOML writer (tomli-w) from the
        parsed document: ``parse_spec(spec.to_toml())`` is the same spec.
        Comments of the original text are not kept (``spec.text`` has them)."""
        import tomli_w
        return tomli_w.dumps(tomllib.loads(self.text))


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
        outputs = self.parse_outputs(doc.get("outputs", {}))
        if "refine" in run:  # [run.refine]: checked against the axes and sectors
            from coordsweep.engine.spec import refine
            dims = [a.name for a in axes] + (["sample"] if design is not None else [])
            refine.parse(run["refine"], dims, [a.name for a in axes], sector_names,
                         error=self.error)
        return Spec(name=name, text=text, labor=labor, labor_share=labor_share,
                    sector_names=sector_names, sectors=sectors,
                    ca_weight=ca_weight, axes=axes, run=run, source=self.source,
                    design=design, outputs=outputs)

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
        values = range_values(start, stop, num, spacing)
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

    def parse_outputs(self, raw):
        """[outputs]: integers, K within kernels/outputs.py's bounds."""
        from coordsweep.kernels.outputs import MAX_DYNAMICS, MAX_EQUILIBRIA
        table = self.table(raw, "outputs")
        self.check_keys(table, OUTPUT_KEYS, "[outputs]")
        out = dict(NO_OUTPUTS)
        for key, top in (("equilibria", MAX_EQUILIBRIA), ("dynamics", MAX_DYNAMICS),
                         ("dynamics_seed", MAX_DYNAMICS_SEED)):
            if key not in table:
                continue
            v = table[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
                raise self.error(f"outputs.{key} must be an integer in 0..{top}, "
                                 f"got {_describe(v)}")
            out[key] = v
        return out


def _toml_key(name):
    """An axis name as a TOML key, for messages: bare when possible, quoted
    (as tomli-w writes it) otherwise."""
    if re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return name
    import tomli_w
    return tomli_w.dumps({name: 0}).rsplit(" = ", 1)[0]


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
