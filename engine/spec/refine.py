"""Adaptive refinement: the ``[run.refine]`` table and the level-by-level plan.

A refined run solves the coarse sub-grid (every ``coarse``-th index along
the refined axes, and each axis's last index), then, level by level, the
points of the next finer sub-grid inside or on the edge of every cell whose
corners differ in a refined output, halving the cells down to the full
resolution. Cells whose corners agree are filled with the corners' values
(the refined outputs only). ``min_level`` (default 0) solves the first
levels whole: every point of the sub-grid of step ``coarse / 2^min_level``
is solved, whatever the corners, and the adaptive levels start from there
(a smaller cell to miss an island in, for more points solved). Axes not refined, and a design's ``sample``,
are swept as usual: each slice is refined on its own (they are batch
dimensions of the cells).

Cells. Along a refined axis of length n at step s the cell c spans the
indices [c s, min((c + 1) s, n - 1)] (closed); there are
max(1, ceil((n - 1) / s)) of them, the last one partial when n - 1 is not a
multiple of s. The children of cell c at step s are the cells 2c and
2c + 1 at step s / 2 that exist.

Fill. A point never solved takes the value of the finest uniform cell
that contains it (closed: its corners, edges and interior). Uniform cells
of one level that share a point share the corners of the face holding it,
so they agree; a finer cell overrides a coarser one.

The assumption: a region of another category smaller than a coarse cell
and touching no point of the coarse sub-grid (nor of a finer sub-grid
inside a cell that is refined) can be missed. ``coordsweep inspect STORE
--verify-fill N`` checks filled points against the kernel.

Pure NumPy; the run (engine/run/refine.py) solves the points and records
their values here.
"""
import math
from dataclasses import dataclass

import numpy as np

from coordsweep.engine.errors import SpecError
from coordsweep.kernels.outputs import OUTPUTS

#: the outputs a refinement may follow: integer and boolean ones (status,
#: a bit field of failures, is not a map)
REFINABLE = tuple(name for name, per, dtype, _, _ in OUTPUTS
                  if np.dtype(dtype).kind in "biu" and name != "status")
_PER = {name: per for name, per, _, _, _ in OUTPUTS}
_DTYPE = {name: np.dtype(dtype) for name, _, dtype, _, _ in OUTPUTS}

KEYS = ("on", "sectors", "axes", "coarse", "min_level")
MAX_AXES = 3
DEFAULT_COARSE = 16

ASSUMPTION = ("a region of another category smaller than a cell of the last level solved "
              "whole (step coarse / 2^min_level) that touches no solved point can be "
              "missed; `coordsweep inspect STORE --verify-fill N` solves N filled points "
              "and compares")


@dataclass(frozen=True)
class Refinement:
    """A validated [run.refine]: output names, sector indices (None: all),
    the refined dimensions (positions in the spec's dims), the coarse step,
    the levels solved whole (0: only the coarse sub-grid)."""
    on: tuple
    sectors: tuple | None
    axes: tuple
    coarse: int
    min_level: int = 0

    @property
    def steps(self):
        """Cell sizes of the levels: coarse, coarse / 2, ..., 1 (level k
        solves the points of the sub-grid of step steps[k])."""
        return tuple(self.coarse >> k for k in range(int(math.log2(self.coarse)) + 1))

    @property
    def levels(self):
        return len(self.steps)

    def columns(self, n_sectors):
        """The key columns compared at the corners: (output, sector or None)."""
        cols = []
        sectors = self.sectors if self.sectors is not None else tuple(range(n_sectors))
        for name in self.on:
            if _PER[name] == "point":
                cols.append((name, None))
            else:
                cols.extend((name, j) for j in sectors)
        return cols

    def table(self, dims, sector_names):
        """As recorded in the store's ``refine`` attribute (names, not positions)."""
        return {"on": list(self.on),
                "sectors": None if self.sectors is None
                else [sector_names[j] for j in self.sectors],
                "axes": [dims[k] for k in self.axes],
                "coarse": int(self.coarse), "min_level": int(self.min_level)}


def column_dtype(name, n_sectors):
    """The planner's dtype of a key column (the smallest that holds the values)."""
    kind = _DTYPE[name].kind
    if kind == "b" or name == "regime":
        return np.dtype(np.int8)
    if name.startswith("target_"):
        return np.dtype(np.int16) if n_sectors < 32000 else np.dtype(np.int32)
    return np.dtype(np.int64)


def parse(table, dims, axis_names, sector_names, where="[run.refine]", error=SpecError):
    """A Refinement from the [run.refine] table; `error` (one line) on bad
    values. dims: the spec's dimensions; axis_names: those that may be
    refined (the grid axes, not a design's sample)."""
    if not isinstance(table, dict):
        raise error(f"{where} must be a table, got {type(table).__name__}")
    unknown = [k for k in table if k not in KEYS]
    if unknown:
        raise error(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    if "on" not in table:
        raise error(f"{where}: missing required key 'on' (the outputs whose boundaries "
                    f"are refined, e.g. on = [\"regime\"])")
    on = table["on"]
    if isinstance(on, str):
        on = [on]
    if not isinstance(on, list) or not on or not all(isinstance(v, str) for v in on):
        raise error(f"{where}: 'on' must be a non-empty list of output names")
    for name in on:
        if name not in _PER:
            raise error(f"{where}: unknown output {name!r} in 'on' "
                        f"(refinable: {', '.join(REFINABLE)})")
        if name not in REFINABLE:
            raise error(f"{where}: {name!r} is not categorical (refinable: integer or "
                        f"boolean outputs: {', '.join(REFINABLE)})")
    if len(set(on)) != len(on):
        raise error(f"{where}: 'on' names an output twice")
    sectors = table.get("sectors")
    if sectors is not None:
        if isinstance(sectors, str):
            sectors = [sectors]
        if not isinstance(sectors, list) or not sectors \
                or not all(isinstance(v, str) for v in sectors):
            raise error(f"{where}: 'sectors' must be a non-empty list of sector names")
        for s in sectors:
            if s not in sector_names:
                raise error(f"{where}: unknown sector {s!r} in 'sectors' "
                            f"(sectors: {', '.join(sector_names)})")
        if len(set(sectors)) != len(sectors):
            raise error(f"{where}: 'sectors' names a sector twice")
        if not any(_PER[n] == "sector" for n in on):
            raise error(f"{where}: 'sectors' needs a per-sector output in 'on' "
                        f"(regime, coop_best_eq, coop_fb)")
        sectors = tuple(sorted(sector_names.index(s) for s in sectors))
    axes = table.get("axes")
    if axes is None:
        if not axis_names:
            raise error(f"{where}: the spec has no axis to refine")
        if len(axis_names) > MAX_AXES:
            raise error(f"{where}: the spec has {len(axis_names)} axes; name 1 to "
                        f"{MAX_AXES} of them in 'axes'")
        axes = list(axis_names)
    if isinstance(axes, str):
        axes = [axes]
    if not isinstance(axes, list) or not all(isinstance(v, str) for v in axes):
        raise error(f"{where}: 'axes' must be a list of axis names")
    if not 1 <= len(axes) <= MAX_AXES:
        raise error(f"{where}: 'axes' names {len(axes)} axes; refinement takes 1 to "
                    f"{MAX_AXES}")
    for a in axes:
        if a not in axis_names:
            raise error(f"{where}: unknown axis {a!r} in 'axes' "
                        f"(axes: {', '.join(axis_names) or 'none'})")
    if len(set(axes)) != len(axes):
        raise error(f"{where}: 'axes' names an axis twice")
    coarse = table.get("coarse", DEFAULT_COARSE)
    if isinstance(coarse, bool) or not isinstance(coarse, int) or coarse < 2 \
            or coarse & (coarse - 1):
        raise error(f"{where}: 'coarse' must be a power of 2 >= 2, got {coarse!r}")
    levels = int(coarse).bit_length()  # log2(coarse) + 1
    min_level = table.get("min_level", 0)
    if isinstance(min_level, bool) or not isinstance(min_level, int) \
            or not 0 <= min_level < levels:
        raise error(f"{where}: 'min_level' must be an integer from 0 to {levels - 1} "
                    f"(log2 of coarse {coarse}: every point solved), got {min_level!r}")
    return Refinement(on=tuple(on), sectors=sectors,
                      axes=tuple(sorted(dims.index(a) for a in axes)), coarse=int(coarse),
                      min_level=int(min_level))


def of_spec(spec, error=SpecError):
    """The spec's Refinement (its run["refine"] table), or None."""
    table = spec.run.get("refine")
    if table is None:
        return None
    return parse(table, list(spec.dims), [a.name for a in spec.axes],
                 list(spec.sector_names), error=error)


def key_columns(outputs, columns):
    """(m, C) int64: the refined outputs at solved points, as the planner compares them."""
    m = len(outputs[columns[0][0]]) if columns else 0
    out = np.empty((m, len(columns)), np.int64)
    for j, (name, sector) in enumerate(columns):
        v = np.asarray(outputs[name])
        out[:, j] = v if sector is None else v[:, sector]
    return out


def params_at(spec, flat):
    """Kernel inputs at sorted flat grid indices: engine/spec/blocks.py's
    points (the same float operations), a design's rows read by sample
    index (the samples of scattered points are not consecutive)."""
    from coordsweep.engine.spec import blocks
    from coordsweep.engine.spec.axes import apply_axis
    flat = np.asarray(flat, np.int64)
    p = len(flat)
    if not spec.shape:
        return blocks.base_arrays(spec, p)
    idx = np.unravel_index(flat, spec.shape)
    if spec.design is None or p == 0:
        return blocks.points(spec, idx)
    params = blocks.base_arrays(spec, p)
    s = idx[-1]
    lo, hi = int(s.min()), int(s.max())
    with np.errstate(over="ignore", invalid="ignore"):
        for axis, i in zip(spec.axes, idx):
            vals, index = (axis.values, i) if len(axis) < p else (axis.take(i), None)
            apply_axis(params, axis, spec.ca_weight, vals, 1, p, 1, index)
        rows = spec.design.rows(lo, hi + 1)[s - lo]
        for k, dp in enumerate(spec.design.params):
            apply_axis(params, dp, spec.ca_weight, rows[:, k], 1, p, 1)
    return params


# --- the plan --------------------------------------------------------------

def _ncells(n, s):
    return max(1, -(-(n - 1) // s))


class Planner:
    """The levels of one refinement over a grid of `shape`.

    ``points(k)`` gives the flat (C-order) indices to solve at level k
    (sorted, none solved before); ``record(idx, keys)`` takes their key
    columns (an (m, C) integer array, columns as Refinement.columns), which
    level k + 1 needs. After the last level, ``column(j, a, b)`` gives key
    column j at the points [a, b) (solved or filled; ``values``: every
    column at every point) and ``solved`` which points were solved.
    Deterministic: the same results give the same plan (a resumed run
    replays the recorded levels).

    A point holds one small code (``codes``) of the distinct combinations
    of key values seen (code 0: none yet, every column -1): the corners of
    a cell are compared, and cells filled, on one array, a byte a point
    while there are fewer than 256 combinations (the paper-1 map: 4.2 MB
    at 2049 x 2049 instead of 21 MB of columns, whose first writing cost
    more than the comparisons)."""

    def __init__(self, shape, refinement, dtypes):
        self.shape = tuple(int(n) for n in shape)
        self.ref = refinement
        self.raxes = tuple(refinement.axes)
        self.oaxes = tuple(k for k in range(len(self.shape)) if k not in self.raxes)
        self.size = math.prod(self.shape)
        self.strides = np.array([math.prod(self.shape[k + 1:]) for k in range(len(self.shape))],
                                np.int64)
        self.solved = np.zeros(self.size, bool)
        self.n_solved = 0   # (solved.sum())
        self.dtypes = [np.dtype(dt) for dt in dtypes]
        self.codes = np.zeros(self.size, np.uint8)
        self._keys = {(-1,) * len(self.dtypes): 0}   # key values -> code
        self._table = None   # per column, its value of every code (column_table)
        self.active = None   # (K, D) cells of the last planned level
        self.next_level = 0

    def column_table(self):
        """[array of column j's value by code] (in the column's dtype)."""
        if self._table is None:
            keys = np.array(sorted(self._keys, key=self._keys.get), np.int64) \
                .reshape(len(self._keys), len(self.dtypes))
            self._table = [keys[:, j].astype(dt) for j, dt in enumerate(self.dtypes)]
        return self._table

    def column(self, j, a=0, b=None):
        """Key column j at the points [a, b)."""
        return self.column_table()[j][self.codes[a:b]]

    @property
    def values(self):
        """Every key column at every point."""
        return [self.column(j) for j in range(len(self.dtypes))]

    # cells: (K, D) int64; refined axes hold the cell index at step s,
    # other axes the point index
    def _bounds(self, cells, s):
        lo, hi = cells.copy(), cells.copy()
        for a in self.raxes:
            n = self.shape[a]
            lo[:, a] = cells[:, a] * s
            hi[:, a] = np.minimum((cells[:, a] + 1) * s, n - 1)
        return lo, hi

    def _corners(self, cells, s):
        """(K, 2^r) flat indices of the cells' corners."""
        lo, hi = self._bounds(cells, s)
        r = len(self.raxes)
        base = lo @ self.strides
        out = np.empty((len(cells), 1 << r), np.int64)
        for off in range(1 << r):
            flat = base.copy()
            for bit, a in enumerate(self.raxes):
                if off >> bit & 1:
                    flat += (hi[:, a] - lo[:, a]) * self.strides[a]
            out[:, off] = flat
        return out

    def _all_cells(self, s):
        ranges = [np.arange(_ncells(self.shape[k], s)) if k in self.raxes
                  else np.arange(self.shape[k]) for k in range(len(self.shape))]
        if not ranges:
            return np.zeros((1, 0), np.int64)
        grids = np.meshgrid(*ranges, indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)

    def points(self, level):
        """Flat indices to solve at `level` (levels in order, each after the
        previous one's ``record``)."""
        if level != self.next_level:
            raise ValueError(f"level {level} planned out of order (next: {self.next_level})")
        steps = self.ref.steps
        self.next_level = level + 1
        if level <= self.ref.min_level:
            # solved whole: every point of the sub-grid (sorted, C order)
            self.active = None
            flat = self._subgrid(steps[level])
            return flat[~self.solved[flat]]
        s = steps[level - 1]
        if self.active is None:
            self.active = self._all_cells(s)
        differ = self._evaluate(self.active, s)
        self.active = self._children(self.active[differ], s)
        # sorted, each once, none solved before (a sort of the corners, not
        # a pass over the whole grid)
        corners = self._corners(self.active, steps[level]).ravel()
        return np.unique(corners[~self.solved[corners]])

    def _subgrid(self, s):
        """Sorted flat indices of the sub-grid of step s: every s-th index
        and the last one along the refined axes, every index along the others."""
        flat = np.zeros(1, np.int64)
        for k, n in enumerate(self.shape):
            if k in self.raxes:
                i = np.arange(0, n, s, dtype=np.int64)
                if i[-1] != n - 1:
                    i = np.append(i, n - 1)
            else:
                i = np.arange(n, dtype=np.int64)
            flat = (flat[:, None] + (i * self.strides[k])[None, :]).ravel()
        return flat

    def finish(self):
        """Fill after the last level (its cells are one point wide: only
        their uniform ones matter, for nothing is left inside them)."""
        if self.next_level != self.ref.levels:
            raise ValueError("finish before the last level")
        if self.active is not None:  # (None: the last level was solved whole)
            self._evaluate(self.active, self.ref.steps[-1])
        self.active = np.zeros((0, len(self.shape)), np.int64)

    def record(self, idx, keys):
        idx = np.asarray(idx, np.int64)
        keys = np.asarray(keys, np.int64).reshape(len(idx), len(self.dtypes))
        self.n_solved += int(len(idx) - np.count_nonzero(self.solved[idx]))
        self.solved[idx] = True
        if not len(idx):
            return
        # (as the columns hold them: in their dtypes)
        keys = np.stack([keys[:, j].astype(dt).astype(np.int64)
                         for j, dt in enumerate(self.dtypes)], axis=1) \
            if self.dtypes else keys
        distinct, inverse = _distinct_rows(keys)
        code = np.empty(len(distinct), np.int64)
        for i, row in enumerate(map(tuple, distinct.tolist())):
            c = self._keys.get(row)
            if c is None:
                c = self._keys[row] = len(self._keys)
                self._table = None
            code[i] = c
        if len(self._keys) - 1 > np.iinfo(self.codes.dtype).max:
            self.codes = self.codes.astype(np.min_scalar_type(2 * len(self._keys)))
        self.codes[idx] = code[inverse.reshape(-1)]

    def _evaluate(self, cells, s):
        """Which cells' corners differ; the uniform ones are filled."""
        corners = self._corners(cells, s)
        if not self.solved[corners].all():
            raise ValueError("a cell corner was not solved before its level was planned")
        v = self.codes[corners]
        differ = (v != v[:, :1]).any(axis=1)
        if s == self.ref.steps[self.ref.min_level]:  # every cell of the grid
            self._fill_dense(corners[:, 0], s)
        else:
            self._fill(cells[~differ], corners[~differ, 0], s)
        return differ

    def _fill_dense(self, source, s):
        """The fill of the first adaptive level, where every cell of the
        grid is evaluated (`source`: their first corners, in the C order
        of the cells): each point not solved takes the cell it falls in
        when the cells are half-open (the last one closed). That is the
        closed cells' fill wherever a cell is uniform; in a cell whose
        corners differ every point is written again by a finer level
        (solved, or filled by a finer cell), so the end result does not
        depend on what is written there now. One repeat of the cells'
        values along each refined axis, no per-point index."""
        cshape = tuple(_ncells(n, s) if k in self.raxes else n
                       for k, n in enumerate(self.shape))
        counts = {a: np.minimum(s, self.shape[a] - 1 - np.arange(cshape[a]) * s)
                  + (np.arange(cshape[a]) == cshape[a] - 1) for a in self.raxes}
        # a slab of cells along the first refined axis at a time: no
        # temporary array of the grid's size
        a0 = self.raxes[0]
        solved = self.solved.reshape(self.shape)
        cells = [self.codes[source].reshape(cshape)]
        grids = [self.codes.reshape(self.shape)]
        for c in range(cshape[a0]):
            lo = c * s
            at = (slice(None),) * a0 + (slice(lo, lo + int(counts[a0][c])),)
            keep = ~solved[at]
            for dense, grid in zip(cells, grids):
                slab = np.repeat(dense[(slice(None),) * a0 + (slice(c, c + 1),)],
                                 counts[a0][c:c + 1], axis=a0)
                for a in self.raxes[1:]:
                    slab = np.repeat(slab, counts[a], axis=a)
                np.copyto(grid[at], slab, where=keep)

    def _children(self, cells, s):
        h = s // 2
        r = len(self.raxes)
        out = []
        for off in range(1 << r):
            child = cells.copy()
            ok = np.ones(len(cells), bool)
            for bit, a in enumerate(self.raxes):
                child[:, a] = 2 * cells[:, a] + (off >> bit & 1)
                ok &= child[:, a] < _ncells(self.shape[a], h)
            out.append(child[ok])
        return np.concatenate(out) if out else cells[:0]

    def _fill(self, cells, source, s):
        """Every point of the closed cells not solved takes the value at
        `source` (a corner of its cell)."""
        if not len(cells):
            return
        r = len(self.raxes)
        per = (s + 1) ** r
        batch = max(1, (1 << 22) // per)
        offs = np.arange(s + 1, dtype=np.int64)
        for b in range(0, len(cells), batch):
            c, src = cells[b:b + batch], source[b:b + batch]
            lo, hi = self._bounds(c, s)
            flat = (lo @ self.strides).reshape((-1,) + (1,) * r)
            for bit, a in enumerate(self.raxes):
                shape = [1] * (r + 1)
                shape[bit + 1] = s + 1
                pos = np.minimum(lo[:, a:a + 1] + offs[None, :], hi[:, a:a + 1])
                pos = (pos - lo[:, a:a + 1]) * self.strides[a]
                shape[0] = len(c)
                flat = flat + pos.reshape(shape)
            flat = flat.reshape(len(c), per)
            keep = ~self.solved[flat]
            rows = np.broadcast_to(np.arange(len(c))[:, None], flat.shape)[keep]
            target = flat[keep]
            self.codes[target] = self.codes[src][rows]


def _distinct_rows(keys):
    """(the distinct rows of the (m, C) int64 `keys`, each row's index in
    them): one integer a row when the columns' ranges allow (a sort of m
    numbers), else numpy's sort of the rows."""
    lo, hi = keys.min(axis=0), keys.max(axis=0)
    span = [int(h) - int(low) + 1 for low, h in zip(lo, hi)]
    if math.prod(span) < 1 << 62:
        flat = np.zeros(len(keys), np.int64)
        for j, n in enumerate(span):
            flat = flat * n + (keys[:, j] - lo[j])
        _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
        return keys[first], inverse.reshape(-1)
    distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
    return distinct, inverse.reshape(-1)


def record(refinement, spec, levels_done=0, points_solved=0):
    """The store's ``refine`` attribute: the table, progress, the assumption."""
    return {**refinement.table(list(spec.dims), list(spec.sector_names)),
            "levels": refinement.levels, "levels_done": int(levels_done),
            "points_solved": int(points_solved), "assumption": ASSUMPTION}
