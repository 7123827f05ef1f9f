"""Sampling designs (CONTRACT.md "Sampling designs"): parse ``[design]``,
generate the design's points reproducibly from the seed, store them.

A design is one more dimension, ``sample``, after the sweep axes: the spec's
``shape`` / ``dims`` / ``block(start, stop)`` treat it like an axis whose
values are rows of the design matrix, so chunking, resume and bit-identity
are the grid's. Design parameters take the same names as axes
(``externality.agro``, ``cost_scale``, ``labor_share`` ...) and are applied
the same way, after the axes.

Methods and their generators (each row of the design is the same float64
numbers as the named sampler gives for the same settings):

- ``sobol``: Saltelli's scheme on a scrambled Sobol' sequence, as
  ``SALib.sample.sobol.sample(problem, N, calc_second_order=..., seed=seed)``;
  rows are built from the base Sobol' rows they need
  (``scipy.stats.qmc.Sobol.fast_forward``), so a chunk never holds more
  than its own rows;
- ``random``: ``numpy.random.default_rng(seed).random((n, D))``, a chunk's
  rows by advancing the PCG64 stream;
- ``lhs``: ``scipy.stats.qmc.LatinHypercube(d=D, seed=seed).random(n)``;
- ``morris``: ``SALib.sample.morris.sample(problem, N, num_levels=levels,
  seed=seed)``.

``lhs`` and ``morris`` cannot produce a row without the whole design: a
process generates it once from the design's definition and keeps it (a
small cache keyed by that definition, so a spec never depends on a store).
The store side (the points as coordinates along ``sample``) is
engine/store/designcoords.py.

Bounds are in parameter units; ``spacing = "log"`` samples uniformly in
log(value): the SALib/scipy unit sample is scaled to [log low, log high]
and exponentiated.
"""
import math
import warnings
from dataclasses import dataclass

import numpy as np

METHODS = ("sobol", "lhs", "random", "morris")
DESIGN_KEYS = ("method", "samples", "seed", "second_order", "levels", "params")
PARAM_KEYS = ("low", "high", "spacing")
DIM = "sample"
#: lhs and morris designs are generated whole (in every process that reads
#: rows): at most this many values (rows x parameters, 2 GiB of float64)
WHOLE_MAX_VALUES = 1 << 28


@dataclass(eq=False)
class DesignParam:
    """One design parameter; kind / param / sector as for an Axis."""

    name: str
    low: float
    high: float
    spacing: str  # linear | log
    kind: str
    param: str | None = None
    sector: int | None = None

    @property
    def bounds(self):
        """Bounds in the space SALib/scipy sample uniformly in."""
        if self.spacing == "log":
            return [math.log(self.low), math.log(self.high)]
        return [self.low, self.high]


@dataclass(eq=False)
class Design:
    method: str
    samples: int
    seed: int
    params: list
    second_order: bool = False
    levels: int = 4

    def key(self):
        """What defines the design's points (hashable)."""
        return (self.method, self.samples, self.seed, self.second_order, self.levels,
                tuple((p.name, p.low, p.high, p.spacing) for p in self.params))

    @property
    def names(self):
        return [p.name for p in self.params]

    @property
    def n_params(self):
        return len(self.params)

    @property
    def rows_per_base(self):
        """Sobol: rows per base sample; Morris: rows per trajectory; else 1."""
        d = self.n_params
        if self.method == "sobol":
            return 2 * d + 2 if self.second_order else d + 2
        if self.method == "morris":
            return d + 1
        return 1

    @property
    def size(self):
        return self.samples * self.rows_per_base

    def problem(self):
        """The SALib problem (bounds in the sampling space)."""
        return {"num_vars": self.n_params, "names": self.names,
                "bounds": [p.bounds for p in self.params]}

    def to_sampling_space(self, x):
        """Parameter values -> the space the unit sample was scaled into."""
        x = np.array(x, dtype=np.float64, copy=True)
        for k, p in enumerate(self.params):
            if p.spacing == "log":
                x[..., k] = np.log(x[..., k])
        return x

    def _finish(self, scaled):
        """Scaled (sampling-space) rows -> parameter values."""
        for k, p in enumerate(self.params):
            if p.spacing == "log":
                scaled[:, k] = np.exp(scaled[:, k])
        return scaled

    def _scale(self, unit):
        """Unit rows -> parameter values, with SALib's arithmetic
        (``u * (high - low) + low``, in place) so values match bit for bit."""
        b = np.array([p.bounds for p in self.params], dtype=np.float64)
        lo, hi = b[:, 0], b[:, 1]
        np.add(np.multiply(unit, hi - lo, out=unit), lo, out=unit)
        return self._finish(unit)

    # --- rows ------------------------------------------------------------------
    def rows(self, start, stop):
        """Rows [start, stop) of the design, (stop - start, D) float64 values."""
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= self.size:
            raise IndexError(f"design rows [{start}, {stop}) outside 0..{self.size}")
        if start == stop:
            return np.empty((0, self.n_params), dtype=np.float64)
        if self.method == "sobol":
            return self._scale(self._saltelli_unit(start, stop))
        if self.method == "random":
            rng = np.random.default_rng(self.seed)
            rng.bit_generator.advance(start * self.n_params)
            return self._scale(rng.random((stop - start, self.n_params)))
        return _whole(self)[start:stop].copy()

    def full(self):
        """The whole design (lhs, morris: generated once per process)."""
        if self.method in ("lhs", "morris"):
            return _whole(self)
        return self.rows(0, self.size)

    def _generate(self):
        if self.method == "lhs":
            from scipy.stats import qmc
            unit = qmc.LatinHypercube(d=self.n_params, seed=self.seed).random(self.samples)
            return self._scale(unit)
        from SALib.sample import morris
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = morris.sample(self.problem(), self.samples, num_levels=self.levels,
                              seed=self.seed)
        return self._finish(np.ascontiguousarray(x, dtype=np.float64))

    def _saltelli_unit(self, start, stop):
        """Unit rows [start, stop) of Saltelli's scheme (SALib's order:
        per base sample A, A with column k from B (k = 1..D), [B with
        column k from A], B)."""
        from scipy.stats import qmc
        d, m = self.n_params, self.rows_per_base
        i0, i1 = start // m, (stop - 1) // m + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # n not a power of 2 for a chunk
            qrng = qmc.Sobol(d=2 * d, scramble=True, seed=self.seed)
            if i0:
                qrng.fast_forward(i0)
            base = qrng.random(i1 - i0)
        r = np.arange(start, stop, dtype=np.int64)
        ib, k = r // m - i0, r % m
        a, b = base[:, :d], base[:, d:]
        use_b = (k == m - 1) | ((k > d) & (k < m - 1))
        out = np.where(use_b[:, None], b[ib], a[ib])
        ab = np.flatnonzero((k >= 1) & (k <= d))
        out[ab, k[ab] - 1] = b[ib[ab], k[ab] - 1]
        ba = np.flatnonzero((k > d) & (k < m - 1))
        out[ba, k[ba] - d - 1] = a[ib[ba], k[ba] - d - 1]
        return np.ascontiguousarray(out)

    # --- store -----------------------------------------------------------------
    def attrs(self):
        """Dataset attributes recording the design."""
        out = {"design_method": self.method, "design_samples": self.samples,
               "design_seed": self.seed, "design_points": self.size,
               "design_params": self.names,
               "design_bounds": [[p.low, p.high] for p in self.params],
               "design_spacing": [p.spacing for p in self.params]}
        if self.method == "sobol":
            # an int: netCDF (and CF) have no boolean attributes
            out["design_second_order"] = int(self.second_order)
        if self.method == "morris":
            out["design_levels"] = self.levels
        return out


#: whole lhs/morris designs of this process, by Design.key() (a few at most)
_WHOLE = {}


def _whole(design):
    """The whole lhs/morris design, read-only, shared by equal designs."""
    key = design.key()
    x = _WHOLE.get(key)
    if x is None:
        x = design._generate()
        x.setflags(write=False)
        while len(_WHOLE) >= 4:
            _WHOLE.pop(next(iter(_WHOLE)))
        _WHOLE[key] = x
    return x


# --- parsing -------------------------------------------------------------------
def parse(raw, parser, sector_names):
    """A ``[design]`` table -> Design. ``parser`` is the spec parser (its
    error/number/table/check_keys/axis_kind helpers); raises SpecError."""
    raw = parser.table(raw, "design")
    parser.check_keys(raw, DESIGN_KEYS, "[design]")
    method = raw.get("method")
    if method is None:
        raise parser.error(f"missing required key 'design.method' (one of {', '.join(METHODS)})")
    if not isinstance(method, str) or method not in METHODS:
        raise parser.error(f"design.method must be one of {', '.join(METHODS)}, got "
                           f"{method!r}")

    def integer(key, minimum, default=None):
        if key not in raw:
            if default is None:
                raise parser.error(f"missing required key 'design.{key}'")
            return default
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise parser.error(f"design.{key} must be an integer >= {minimum}, got {v!r}")
        return v

    samples = integer("samples", 2 if method in ("sobol", "morris") else 1)
    if method == "sobol" and samples & (samples - 1):
        raise parser.error(
            f"design.samples = {samples}: Saltelli's scheme keeps the balance of the "
            f"Sobol' sequence only for a power of 2 (e.g. {1 << (samples.bit_length() - 1)} "
            f"or {1 << samples.bit_length()})")
    seed = integer("seed", 0, default=0)
    if "second_order" in raw and method != "sobol":
        raise parser.error("design.second_order applies only to method = \"sobol\"")
    second_order = raw.get("second_order", False)
    if not isinstance(second_order, bool):
        raise parser.error(f"design.second_order must be true or false, got {second_order!r}")
    if "levels" in raw and method != "morris":
        raise parser.error("design.levels applies only to method = \"morris\"")
    levels = integer("levels", 2, default=4)

    table = parser.table(raw.get("params", {}), "design.params")
    if not table:
        raise parser.error("[design] needs at least one parameter: "
                           "[design.params.\"<name>\"] with low and high")
    params = []
    for name, bounds in table.items():
        key = f"design.params.{name}"
        kind, param, sector = parser.named_table(
            name, bounds, prefix="design.params", what="a parameter", keys=PARAM_KEYS,
            sector_names=sector_names, expected="a table with low and high")
        for k in ("low", "high"):
            if k not in bounds:
                raise parser.error(f"missing required key {k!r} in [{key}]")
        low = parser.finite(bounds["low"], f"{key}.low")
        high = parser.finite(bounds["high"], f"{key}.high")
        if not low < high:
            raise parser.error(f"design parameter {name!r}: low = {low!r} must be below "
                               f"high = {high!r}")
        spacing = bounds.get("spacing", "linear")
        if spacing not in ("linear", "log"):
            raise parser.error(f"{key}.spacing must be \"linear\" or \"log\", got {spacing!r}")
        if spacing == "log" and low <= 0:
            raise parser.error(f"design parameter {name!r}: log spacing needs low > 0, "
                               f"got low = {low!r}")
        params.append(DesignParam(name, low, high, spacing, kind, param, sector))
    design = Design(method=method, samples=samples, seed=seed, params=params,
                    second_order=second_order, levels=levels)
    if method in ("lhs", "morris") and design.size * design.n_params > WHOLE_MAX_VALUES:
        raise parser.error(
            f"design.samples = {samples:,}: a {method} design is generated whole, and "
            f"{design.size:,} rows x {design.n_params} parameters exceed "
            f"{WHOLE_MAX_VALUES:,} values; use method = \"sobol\" or \"random\" "
            "(generated block by block) for larger designs")
    return design
