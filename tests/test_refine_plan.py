"""The refinement planner (engine/spec/refine.py) against a slow pure-Python
reference of the same rule, and against the true map on synthetic
categorical maps; [run.refine] parsing."""
import itertools
import math

import numpy as np
import pytest

from coordsweep.engine.errors import SpecError
from coordsweep.engine.spec import refine as zrefine


# --- a slow reference ----------------------------------------------------------

def reference(shape, raxes, coarse, f, min_level=0):
    """{point: value} of every point (solved or filled) and the set of
    solved points, by loops over cells: level by level, solve the corners
    of the active cells; a uniform cell fills its closed box (finer levels
    override coarser ones, solved points are never filled); a cell whose
    corners differ is split in two along every refined axis. The first
    `min_level` levels split every cell, whatever its corners."""
    others = [k for k in range(len(shape)) if k not in raxes]
    steps = []
    s = coarse
    while s >= 1:
        steps.append(s)
        s //= 2
    solved, filled = {}, {}

    def ncells(n, s):
        return max(1, math.ceil((n - 1) / s))

    for oidx in itertools.product(*[range(shape[k]) for k in others]):
        def point(ridx):
            p = [0] * len(shape)
            for k, v in zip(others, oidx):
                p[k] = v
            for k, v in zip(raxes, ridx):
                p[k] = v
            return tuple(p)

        cells = list(itertools.product(*[range(ncells(shape[a], coarse)) for a in raxes]))
        for level, s in enumerate(steps):
            for c in cells:
                bounds = [(ci * s, min((ci + 1) * s, shape[a] - 1)) for ci, a in zip(c, raxes)]
                for corner in itertools.product(*bounds):
                    p = point(corner)
                    if p not in solved:
                        solved[p] = f(p)
            nxt = []
            for c in cells:
                bounds = [(ci * s, min((ci + 1) * s, shape[a] - 1)) for ci, a in zip(c, raxes)]
                vals = {solved[point(corner)] for corner in itertools.product(*bounds)}
                if level < min_level:
                    vals = {None, 1}  # split whatever the corners
                if len(vals) == 1:
                    v = vals.pop()
                    for q in itertools.product(*[range(lo, hi + 1) for lo, hi in bounds]):
                        filled[point(q)] = v
                elif s > 1:
                    h = s // 2
                    choices = [[j for j in (2 * ci, 2 * ci + 1) if j < ncells(shape[a], h)]
                               for ci, a in zip(c, raxes)]
                    nxt.extend(itertools.product(*choices))
            cells = nxt
    final = {p: solved.get(p, filled.get(p)) for p in itertools.product(*map(range, shape))}
    return final, set(solved)


def run_planner(shape, raxes, coarse, f, ncols, min_level=0):
    ref = zrefine.Refinement(on=("x",), sectors=None, axes=tuple(raxes), coarse=coarse,
                             min_level=min_level)
    plan = zrefine.Planner(shape, ref, [np.int16] * ncols)
    solved_levels = []
    for level in range(ref.levels):
        idx = plan.points(level)
        assert not plan.solved[idx].any()
        solved_levels.append(idx)
        pts = np.unravel_index(idx, shape)
        keys = np.array([f(tuple(int(c[i]) for c in pts)) for i in range(len(idx))],
                        np.int16).reshape(len(idx), ncols)
        plan.record(idx, keys)
    plan.finish()
    assert plan.n_solved == int(plan.solved.sum())
    values = np.stack(plan.values, axis=1).reshape(shape + (ncols,))
    return values, plan.solved.reshape(shape), solved_levels


def truth(shape, f, ncols):
    out = np.empty(shape + (ncols,), np.int16)
    for p in itertools.product(*map(range, shape)):
        out[p] = f(p)
    return out


def lines_map(shape, rng, nlines=3, ncols=2):
    """Categories = which side of each of a few random hyperplanes a point
    lies (one column per group of lines): a cell whose corners agree lies
    on one side of every line (cells are convex), so refinement is exact."""
    d = len(shape)
    normals = rng.normal(size=(nlines, d))
    through = rng.uniform(0, 1, (nlines, d)) * (np.asarray(shape) - 1)
    offsets = (normals * through).sum(axis=1)
    groups = np.array_split(np.arange(nlines), ncols)

    def f(p):
        side = (normals @ np.asarray(p, float) > offsets).astype(int)
        return tuple(int(sum(side[k] << i for i, k in enumerate(g))) for g in groups)
    return f


def planned_as_reference(shape, raxes, coarse, f, ncols, min_level=0):
    """run_planner's plan, asserted to be the reference's point for point
    (the points solved, and the value of every point the reference
    decides); returns run_planner's values, solved, levels."""
    values, solved, levels = run_planner(shape, raxes, coarse, f, ncols, min_level)
    final, ref_solved = reference(shape, raxes, coarse, f, min_level)
    assert {tuple(map(int, p)) for p in np.argwhere(solved)} == ref_solved
    for p, v in final.items():
        assert tuple(values[p]) == v, p
    return values, solved, levels


CASES = [
    ((37, 50), (0, 1), 8),
    ((33, 33), (0, 1), 16),
    ((65,), (0,), 4),
    ((9, 10, 11), (0, 1, 2), 4),
    ((4, 21, 18), (1, 2), 8),     # an axis not refined: slices on their own
    ((19, 3, 26), (0, 2), 4),
    ((2, 40), (0, 1), 32),        # an axis shorter than a cell
    ((30, 1), (0, 1), 2),         # a refined axis of one point
]


@pytest.mark.parametrize("shape,raxes,coarse", CASES)
def test_planner_matches_reference_on_lines(shape, raxes, coarse):
    rng = np.random.default_rng(sum(shape) + coarse)
    f = lines_map(shape, rng)
    values, solved, _ = planned_as_reference(shape, raxes, coarse, f, 2)
    # lines: exact everywhere
    np.testing.assert_array_equal(values, truth(shape, f, 2))


@pytest.mark.parametrize("seed", range(6))
def test_planner_matches_reference_random_maps(seed):
    """Arbitrary maps (blobs of random sizes, islands included): the plan is
    the reference's, point for point, right or wrong."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(2, 30 if d < 3 else 12)) for _ in range(d))
    coarse = int(2 ** rng.integers(1, 4))
    raxes = tuple(sorted(rng.choice(d, size=int(rng.integers(1, d + 1)), replace=False)))
    centres = rng.uniform(0, 1, (4, d)) * np.asarray(shape)
    radii = rng.uniform(0.5, 0.4 * max(shape), 4)

    def f(p):
        inside = np.linalg.norm(centres - np.asarray(p, float), axis=1) < radii
        return (int(np.flatnonzero(inside)[0]) if inside.any() else -1,)
    values, solved, _ = planned_as_reference(shape, raxes, coarse, f, 1)


@pytest.mark.parametrize("seed", range(6))
def test_min_level_matches_reference(seed):
    """min_level: the first levels solved whole, then the adaptive rule;
    the plan is the reference's, point for point."""
    rng = np.random.default_rng(100 + seed)
    d = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(2, 30 if d < 3 else 12)) for _ in range(d))
    coarse = int(2 ** rng.integers(1, 4))
    min_level = int(rng.integers(0, int(math.log2(coarse)) + 1))
    raxes = tuple(sorted(rng.choice(d, size=int(rng.integers(1, d + 1)), replace=False)))
    centres = rng.uniform(0, 1, (4, d)) * np.asarray(shape)
    radii = rng.uniform(0.5, 0.4 * max(shape), 4)

    def f(p):
        inside = np.linalg.norm(centres - np.asarray(p, float), axis=1) < radii
        return (int(np.flatnonzero(inside)[0]) if inside.any() else -1,)
    values, solved, levels = planned_as_reference(shape, raxes, coarse, f, 1, min_level)
    # the sub-grid of step coarse / 2^min_level is solved whole
    step = coarse >> min_level
    sub = np.ones(shape, bool)
    for a in raxes:
        on = np.zeros(shape[a], bool)
        on[::step] = True
        on[-1] = True
        sub &= on.reshape([-1 if k == a else 1 for k in range(d)])
    assert solved[sub].all()


def test_min_level_catches_the_island_coarse_alone_misses():
    """A 3 x 3 island inside a 16 x 16 coarse cell touching no coarse point:
    missed with coarse 16 alone, found with min_level 2 (the sub-grid of
    step 4 solved whole touches it), and then the map is exact."""
    shape = (65, 65)

    def f(p):
        return (int(20 <= p[0] <= 22 and 40 <= p[1] <= 42) + 2 * int(p[0] + p[1] > 90),)
    true = truth(shape, f, 1)
    values, solved, _ = run_planner(shape, (0, 1), 16, f, 1)
    assert (values != true)[20:23, 40:43].all()
    values, solved2, levels = run_planner(shape, (0, 1), 16, f, 1, min_level=2)
    np.testing.assert_array_equal(values, true)
    assert solved2[20:23, 40:43].any() and solved2.sum() > solved.sum()
    assert [len(x) for x in levels[:3]] == [5 * 5, 9 * 9 - 5 * 5, 17 * 17 - 9 * 9]


def test_island_smaller_than_a_cell_is_missed():
    """The stated assumption, violated: a 3 x 3 island inside a 16 x 16
    coarse cell, touching no coarse point, is filled over."""
    shape = (65, 65)

    def f(p):
        return (int(20 <= p[0] <= 22 and 40 <= p[1] <= 42) + 2 * int(p[0] + p[1] > 90),)
    values, solved, _ = run_planner(shape, (0, 1), 16, f, 1)
    true = truth(shape, f, 1)
    wrong = values != true
    assert wrong[20:23, 40:43].all() and wrong.sum() == 9
    assert not solved[20:23, 40:43].any()
    # the diagonal boundary is refined, and only near it
    assert solved.mean() < 0.5


def test_levels_solve_each_point_once_and_boundaries_only():
    shape = (129, 129)

    def f(p):
        return (int(p[0] * 0.7 + p[1] > 100),)
    values, solved, levels = run_planner(shape, (0, 1), 32, f, 1)
    allidx = np.concatenate(levels)
    assert len(np.unique(allidx)) == len(allidx) == solved.sum()
    assert len(levels[0]) == 5 * 5
    np.testing.assert_array_equal(values, truth(shape, f, 1))
    assert solved.mean() < 0.12


# --- [run.refine] ------------------------------------------------------------

DIMS = ["externality_scale", "cost_scale"]
SECTORS = ["agro", "manu", "tech"]


def parse(table, dims=DIMS, axes=DIMS):
    return zrefine.parse(table, dims, axes, SECTORS)


def test_parse_defaults_and_table():
    r = parse({"on": ["regime", "target_best"], "sectors": ["tech", "manu"]})
    assert r.axes == (0, 1) and r.coarse == zrefine.DEFAULT_COARSE
    assert r.sectors == (1, 2)
    assert r.columns(3) == [("regime", 1), ("regime", 2), ("target_best", None)]
    assert r.table(DIMS, SECTORS)["sectors"] == ["manu", "tech"]
    r = parse({"on": ["has_partial"], "axes": ["cost_scale"], "coarse": 2})
    assert r.axes == (1,) and r.steps == (2, 1)
    assert parse({"on": ["regime"], "coarse": 32}).steps == (32, 16, 8, 4, 2, 1)
    assert r.min_level == 0 and r.table(DIMS, SECTORS)["min_level"] == 0
    r = parse({"on": ["regime"], "coarse": 8, "min_level": 3})
    assert r.min_level == 3 and r.table(DIMS, SECTORS)["min_level"] == 3


@pytest.mark.parametrize("table,words", [
    ({"on": ["welfare_nc"]}, "'welfare_nc' is not categorical"),
    ({"on": ["status"]}, "'status' is not categorical"),
    ({"on": ["nope"]}, "unknown output 'nope'"),
    ({}, "missing required key 'on'"),
    ({"on": []}, "non-empty list"),
    ({"on": ["regime"], "axes": ["labor"]}, "unknown axis 'labor'"),
    ({"on": ["regime"], "sectors": ["steel"]}, "unknown sector 'steel'"),
    ({"on": ["target_best"], "sectors": ["manu"]}, "needs a per-sector output"),
    ({"on": ["regime"], "coarse": 12}, "power of 2 >= 2, got 12"),
    ({"on": ["regime"], "coarse": 1}, "power of 2 >= 2, got 1"),
    ({"on": ["regime"], "coarse": 8.0}, "power of 2 >= 2, got 8.0"),
    ({"on": ["regime"], "coarse": True}, "power of 2"),
    ({"on": ["regime"], "axes": []}, "takes 1 to 3"),
    ({"on": ["regime"], "other": 1}, "unknown key 'other'"),
    ({"on": ["regime"], "coarse": 8, "min_level": 4}, "'min_level' must be an integer from "
     "0 to 3"),
    ({"on": ["regime"], "min_level": -1}, "'min_level' must be an integer"),
    ({"on": ["regime"], "min_level": 1.0}, "got 1.0"),
    ({"on": ["regime"], "min_level": True}, "got True"),
])
def test_parse_errors(table, words):
    with pytest.raises(SpecError, match=None) as info:
        parse(table)
    msg = str(info.value)
    assert words in msg and "\n" not in msg


def test_more_than_three_axes():
    dims = ["a", "b", "c", "d"]
    with pytest.raises(SpecError, match="name 1 to 3"):
        parse({"on": ["regime"]}, dims, dims)
    with pytest.raises(SpecError, match="takes 1 to 3"):
        parse({"on": ["regime"], "axes": dims}, dims, dims)
    assert parse({"on": ["regime"], "axes": ["d", "a"]}, dims, dims).axes == (0, 3)


def test_sample_is_not_an_axis():
    with pytest.raises(SpecError, match="unknown axis 'sample'"):
        parse({"on": ["regime"], "axes": ["sample"]}, DIMS + ["sample"], DIMS)


def test_more_than_255_key_combinations():
    """A point holds a code of its key values: past 255 distinct
    combinations the codes widen, and the plan is still the reference's
    (blocks of 4 x 4 points, each its own category: 17 x 17 of them)."""
    shape, raxes, coarse = (65, 66), (0, 1), 4

    def f(p):
        return (p[0] // 4, p[1] // 4 - 3)
    values, solved, _ = planned_as_reference(shape, raxes, coarse, f, 2)
    np.testing.assert_array_equal(values, truth(shape, f, 2))


def test_key_values_of_any_range():
    """Key values far apart (no one-integer code of a row fits 63 bits):
    the distinct rows are found all the same, and the columns come back in
    their dtypes."""
    ref = zrefine.Refinement(on=("x",), sectors=None, axes=(0,), coarse=2)
    plan = zrefine.Planner((5,), ref, [np.int64, np.int64, np.int8])
    big = 2 ** 62
    keys = np.array([[big, -big, 1], [big, -big, 1], [-big, big, -1]], np.int64)
    idx = plan.points(0)
    assert list(idx) == [0, 2, 4]
    plan.record(idx, keys)
    rows, inverse = zrefine._distinct_rows(keys)
    assert [tuple(r) for r in rows[inverse]] == [tuple(r) for r in keys]
    idx = plan.points(1)  # (the cell [0, 2] is uniform: filled)
    assert list(idx) == [3]
    plan.record(idx, np.array([[0, 0, 0]], np.int64))
    plan.finish()
    got = np.stack(plan.values, axis=1)
    assert [v.dtype for v in plan.values] == [np.int64, np.int64, np.int8]
    np.testing.assert_array_equal(got, [[big, -big, 1], [big, -big, 1], [big, -big, 1],
                                        [0, 0, 0], [-big, big, -1]])
    np.testing.assert_array_equal(plan.column(2, 1, 4), [1, 1, 0])
