"""Huge grids: the domain check never visits the grid, `run --dry-run`
estimates without writing, `[run] max_points` refuses up front
(test_huge_grid_is_refused_up_front: a spec of 10^5 x 10^5 x 10^3 points,
a typo in `num`, is refused at once with its size).
"""
import math
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_helpers import coordsweep, five_sector_spec, main_inprocess, write_spec

HUGE = (100_000, 100_000, 1_000)


def huge_spec(extra_run="", last_cost=2.0):
    return f"""\
name = "huge"
[model]
labor_share = 0.6
[[model.sectors]]
name = "a"
price = 1.0
productivity = 1.0
externality = 0.5
cost = 0.1
[[model.sectors]]
name = "b"
price = 1.0
productivity = 1.2
externality = 0.3
cost = 0.2
[axes.externality_scale]
start = 0.0
stop = 2.0
num = {HUGE[0]}
[axes.cost_scale]
start = 0.0
stop = {last_cost!r}
num = {HUGE[1]}
[axes."productivity.a"]
start = 0.5
stop = 2.0
num = {HUGE[2]}
{extra_run}"""


def test_huge_grid_is_refused_up_front(tmp_path):
    spec = write_spec(tmp_path, huge_spec())
    store = tmp_path / "huge.zarr"
    proc = coordsweep("run", spec, "--store", store, "--scheduler", "synchronous",
                      timeout=180)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    line = lines[0]
    assert f"{math.prod(HUGE):,} points" in line
    assert "run.max_points = 10,000,000,000" in line
    assert "[run] max_points" in line            # how to raise it
    assert re.search(r"store about [\d.]+ [kMGTPE]?B", line)
    assert re.search(r"time about [\d.]+ \w+", line)
    assert not os.path.exists(store)


def test_huge_grid_domain_check_finds_the_first_bad_point(tmp_path):
    """10^13 points, max_points raised: the bad cost (the last cost_scale
    value is negative) is reported at the lowest flat index, without
    visiting the grid."""
    text = huge_spec("[run]\nmax_points = 1e14\n", last_cost=-1.0)
    spec = write_spec(tmp_path, text)
    proc = coordsweep("run", spec, "--store", tmp_path / "h.zarr", "--dry-run",
                      timeout=180)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    # cost_scale = linspace(0, -1, 1e5): index 1 is the first negative value
    first_bad = float(np.linspace(0.0, -1.0, HUGE[1])[1])
    assert "cost of sector 'a'" in proc.stderr
    assert (f"at grid point externality_scale=0.0, cost_scale={first_bad!r}, "
            "productivity.a=0.5") in proc.stderr
    assert not os.path.exists(tmp_path / "h.zarr")


def test_dry_run_writes_nothing_and_estimates(tmp_path):
    from coordsweep.engine.spec.layout import Layout
    from coordsweep.engine.run.runner import run_sweep
    spec = write_spec(tmp_path, five_sector_spec(20, 20, 20))
    store = tmp_path / "dry.zarr"
    code, out, err = main_inprocess("run", spec, "--store", store, "--dry-run",
                                    "--chunk-points", 400)
    assert code == 0, err
    assert not os.path.exists(store)
    assert re.search(r"points +8,000 over axes", out) and "nothing was written" in out
    assert f"{Layout.for_grid((20, 20, 20), 400).nchunks:,} of" in out
    assert re.search(r"on \d+ workers? \(", out)
    code, one, err = main_inprocess("run", spec, "--store", store, "--dry-run",
                                    "--scheduler", "synchronous", "--workers", "2")
    assert code == 0 and " on 1 worker (" in one, (one, err)
    m = re.search(r"store size +about ([\d.]+) ([kMG]?B)", out)
    est = float(m.group(1)) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[m.group(2)]
    run_sweep(spec, str(store), scheduler="synchronous", progress=False, chunk_points=400)
    actual = sum(os.path.getsize(os.path.join(d, f))
                 for d, _, fs in os.walk(store) for f in fs)
    assert actual / 3 < est < actual * 3, (est, actual)


def test_max_points_is_checked_in_the_spec(tmp_path):
    text = five_sector_spec(4, 4, 4) + "\n[run]\nmax_points = \"many\"\n"
    code, out, err = main_inprocess("run", write_spec(tmp_path, text), "--store",
                                    tmp_path / "x.zarr")
    assert code == 2 and "run.max_points" in err
    text = five_sector_spec(4, 4, 4) + "\n[run]\nmax_points = 10\n"
    code, out, err = main_inprocess("run", write_spec(tmp_path, text), "--store",
                                    tmp_path / "x.zarr", "--scheduler", "synchronous")
    assert code == 2 and "64 points, more than run.max_points = 10" in err
    assert not os.path.exists(tmp_path / "x.zarr")


# --- the fast check agrees with the point-by-point scan ------------------------------------
AXIS_NAMES = ["externality_scale", "cost_scale", "ca_spread", "labor_share", "labor",
              "scale", "scale.s0", "externality", "cost.s1", "productivity.s0",
              "subsidy", "cost_subsidy.s1", "price.s1"]
VALUES = st.sampled_from([-2.0, -1.0, -1e-300, 0.0, 1e-300, 0.05, 0.3, 0.39, 0.4, 0.5,
                          0.6, 0.99, 1.0, 1.5, 3.0, 1e200, 1e300])


@st.composite
def grid_specs(draw):
    names = draw(st.lists(st.sampled_from(AXIS_NAMES), min_size=1, max_size=3, unique=True))
    lines = ["[model]", f"labor_share = {draw(st.sampled_from([0.3, 0.6, 0.95]))!r}"]
    for j in range(2):
        lines += ["[[model.sectors]]", f'name = "s{j}"', "price = 1.0",
                  "productivity = 1.0",
                  f"externality = {draw(st.sampled_from([0.0, 0.5, 1e300, -0.1]))!r}",
                  f"cost = {draw(st.sampled_from([0.0, 0.1, 1e300]))!r}",
                  f"scale = {draw(st.sampled_from([0.0, 0.2, 0.5]))!r}"]
    for name in names:
        vals = draw(st.lists(VALUES, min_size=1, max_size=6))
        lines += [f'[axes."{name}"]', "values = [" + ", ".join(map(repr, vals)) + "]"]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=grid_specs())
def test_fast_domain_check_equals_exhaustive_scan(text):
    from coordsweep.engine.errors import SpecError
    from coordsweep.engine.spec import gridcheck
    from coordsweep.engine.spec.model import parse_spec
    spec = parse_spec(text)

    def message(check):
        try:
            check()
        except SpecError as exc:
            return str(exc)
        return None
    assert message(spec.check_grid) == message(lambda: gridcheck.check_exhaustive(spec))
    assert message(lambda: spec.check_grid(block_points=1)) == message(spec.check_grid)


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 3, 4)])
def test_points_equal_block(shape):
    """Spec.points (multi-indices) builds the same inputs as Spec.block."""
    from coordsweep.engine.spec.model import parse_spec
    text = five_sector_spec(*(list(shape) + [1] * (3 - len(shape))))
    spec = parse_spec(text)
    n = spec.size
    idx = np.unravel_index(np.arange(n), spec.shape)
    a, b = spec.block(0, n), spec.points(idx)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
