"""Sampling designs (CONTRACT.md "Sampling designs", engine/spec/designs.py):
sizes per method, points within bounds, reproducible from the seed,
identical to SALib's / scipy's own samplers, chunk by chunk as well as
whole; the design as the `sample` dimension after the axes; bad designs
exit 2 and write nothing."""
import os

import numpy as np
import pytest
from scipy.stats import qmc
from SALib.sample import morris as salib_morris
from SALib.sample import sobol as salib_sobol

from coordsweep.engine.errors import SpecError
from coordsweep.engine.spec.model import parse_spec

from engine_helpers import coordsweep, write_spec
from specs import TWO_SECTORS, spec_text

MODEL = spec_text("design test", TWO_SECTORS, labor=None)

PARAMS = """\
[design.params."externality.manu"]
low = 0.0
high = 2.0
[design.params.cost_scale]
low = 0.1
high = 3.0
spacing = "log"
[design.params.labor_share]
low = 0.4
high = 0.7
[design.params.productivity]
low = 0.5
high = 1.5
"""
D = 4


def design_spec(method, samples, seed=7, extra="", axes=""):
    text = (MODEL + axes + f'[design]\nmethod = "{method}"\nsamples = {samples}\n'
            f"seed = {seed}\n{extra}" + PARAMS)
    return parse_spec(text)


@pytest.mark.parametrize("method,samples,extra,size", [
    ("sobol", 64, "", 64 * (D + 2)),
    ("sobol", 64, "second_order = true\n", 64 * (2 * D + 2)),
    ("lhs", 100, "", 100),
    ("random", 100, "", 100),
    ("morris", 10, "", 10 * (D + 1)),
    ("morris", 10, "levels = 6\n", 10 * (D + 1)),
])
def test_sizes_bounds_and_seed(method, samples, extra, size):
    spec = design_spec(method, samples, extra=extra)
    d = spec.design
    assert d.size == size and spec.shape == (size,) and spec.dims == ("sample",)
    x = d.rows(0, d.size)
    assert x.shape == (size, D)
    for k, p in enumerate(d.params):
        assert np.all(x[:, k] >= p.low) and np.all(x[:, k] <= p.high), p.name
        # the design fills its range, not a corner of it
        assert x[:, k].max() - x[:, k].min() > 0.5 * (p.high - p.low), p.name
    # reproducible from the seed, and the seed matters
    assert np.array_equal(x, design_spec(method, samples, extra=extra).design.rows(0, size))
    assert not np.array_equal(x, design_spec(method, samples, seed=8,
                                             extra=extra).design.rows(0, size))


def _salib_space(d, x):
    """SALib/scipy samples live in the sampling space: exp for log params."""
    return d._finish(np.array(x, dtype=np.float64))


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_is_salibs_saltelli_sample(second_order):
    spec = design_spec("sobol", 128, extra=f"second_order = {str(second_order).lower()}\n")
    d = spec.design
    ref = _salib_space(d, salib_sobol.sample(d.problem(), 128, calc_second_order=second_order,
                                            seed=7))
    assert np.array_equal(d.rows(0, d.size), ref)
    # any chunk of rows, built from the base rows it needs, is the same numbers
    for start, stop in [(0, 1), (5, 6), (37, 301), (d.size - 7, d.size), (100, 100 + d.size // 3)]:
        assert np.array_equal(d.rows(start, stop), ref[start:stop]), (start, stop)


def test_lhs_random_morris_are_the_libraries_samples():
    d = design_spec("lhs", 200).design
    ref = _salib_space(d, qmc.scale(qmc.LatinHypercube(d=D, seed=7).random(200),
                                    *np.array(d.problem()["bounds"]).T))
    assert np.allclose(d.rows(0, 200), ref, rtol=1e-15, atol=0)
    # Latin: each parameter's sampling-space range is cut into 200 strata, one point each
    u = (d.to_sampling_space(d.rows(0, 200)) - np.array(d.problem()["bounds"])[:, 0]) \
        / np.ptp(np.array(d.problem()["bounds"]), axis=1)
    for k in range(D):
        assert np.array_equal(np.sort(np.floor(u[:, k] * 200)), np.arange(200))

    d = design_spec("random", 300).design
    unit = np.random.default_rng(7).random((300, D))
    assert np.array_equal(d.rows(0, 300), d._scale(unit.copy()))
    assert np.array_equal(d.rows(123, 257), d.rows(0, 300)[123:257])

    d = design_spec("morris", 12, extra="levels = 6\n").design
    ref = _salib_space(d, salib_morris.sample(d.problem(), 12, num_levels=6, seed=7))
    assert np.array_equal(d.rows(0, d.size), ref)
    assert np.array_equal(d.rows(17, 40), ref[17:40])


def test_log_spacing_is_uniform_in_log():
    d = design_spec("random", 4000).design
    c = d.rows(0, 4000)[:, d.names.index("cost_scale")]
    logs = np.log(c)
    # uniform in log: each half of [log 0.1, log 3] holds about half the points
    mid = 0.5 * (np.log(0.1) + np.log(3.0))
    assert 0.46 < np.mean(logs < mid) < 0.54
    assert 0.8 < np.mean(c < np.sqrt(0.3)) / 0.5 < 1.2


def test_design_applies_after_axes_as_sample_dimension():
    axes = '[axes."cost.agro"]\nvalues = [0.1, 0.2, 0.3]\n'
    spec = design_spec("sobol", 8, axes=axes)
    d = spec.design
    assert spec.shape == (3, d.size) and spec.dims == ("cost.agro", "sample")
    rows = d.rows(0, d.size)
    # every contiguous range, also ones wrapping from one axis value to the next
    for start, stop in [(0, spec.size), (d.size - 5, d.size + 7), (3, 2 * d.size + 1)]:
        b = spec.block(start, stop)
        flat = np.arange(start, stop)
        i, s = np.unravel_index(flat, spec.shape)
        assert np.array_equal(b["cost"][:, 0], (np.array([0.1, 0.2, 0.3])[i]
                                                 * rows[s, d.names.index("cost_scale")]))
        assert np.array_equal(b["externality"][:, 1], rows[s, d.names.index("externality.manu")])
        assert np.array_equal(b["labor_share"], rows[s, d.names.index("labor_share")])
        assert np.array_equal(b["productivity"], np.repeat(
            rows[s, d.names.index("productivity")][:, None], 2, axis=1))
        assert np.all(b["externality"][:, 0] == 0.3)


@pytest.mark.parametrize("design,message", [
    ('method = "halton"\nsamples = 8\n', "design.method must be one of"),
    ('samples = 8\n', "design.method"),
    ('method = "sobol"\nsamples = 100\n', "power of 2"),
    ('method = "lhs"\nsamples = 8\nsecond_order = true\n', "second_order applies only"),
    ('method = "sobol"\nsamples = 8\nlevels = 4\n', "levels applies only"),
    ('method = "lhs"\nsamples = 0\n', "design.samples"),
    ('method = "lhs"\nsamples = 8\nsize = 3\n', "unknown key 'size'"),
    ('method = "lhs"\nsamples = 8\n[design.params.thetas]\nlow = 0\nhigh = 1\n',
     "unknown axis 'thetas'"),
    ('method = "lhs"\nsamples = 8\n[design.params."cost.steel"]\nlow = 0\nhigh = 1\n',
     "unknown sector 'steel'"),
    ('method = "lhs"\nsamples = 8\n[design.params.cost]\nlow = 1\nhigh = 1\n',
     "low = 1.0 must be below high = 1.0"),
    ('method = "lhs"\nsamples = 8\n[design.params.cost]\nlow = 0\nhigh = 1\nspacing = "log"\n',
     "log spacing needs low > 0"),
    ('method = "lhs"\nsamples = 8\n[design.params.cost]\nhigh = 1\n', "missing required key 'low'"),
    ('method = "lhs"\nsamples = 8\n', "at least one parameter"),
])
def test_bad_designs_are_spec_errors(design, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        parse_spec(MODEL + "[design]\n" + design)


def test_axis_and_design_on_one_parameter_is_an_error():
    with pytest.raises(SpecError, match="both an axis and a design parameter"):
        design_spec("lhs", 8, axes='[axes.labor_share]\nvalues = [0.5]\n')


def test_cli_refuses_bad_design_and_out_of_domain_points(tmp_path):
    # a bound outside MODEL.md's domain: Morris levels hit the bound exactly
    text = MODEL + ('[design]\nmethod = "morris"\nsamples = 4\n'
                    '[design.params."price.agro"]\nlow = 0.0\nhigh = 2.0\n')
    store = tmp_path / "out.zarr"
    proc = coordsweep("run", write_spec(tmp_path, text), "--store", store,
                      "--scheduler", "synchronous", "--quiet")
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "price of sector 'agro' is 0.0" in err[0] and "sample=" in err[0]
    assert not os.path.exists(store)
    bad = MODEL + '[design]\nmethod = "sobol"\nsamples = 8\n[design.params.cost]\nlow = 2\nhigh = 1\n'
    proc = coordsweep("run", write_spec(tmp_path, bad, "bad.toml"), "--store", store, "--quiet")
    assert proc.returncode == 2 and "must be below high" in proc.stderr
    assert not os.path.exists(store)


# --- a parsed spec is never bound to a store ----------------------------------------
@pytest.mark.parametrize("method", ["lhs", "morris"])
def test_design_rows_outlive_the_store_they_were_written_to(tmp_path, method):
    import shutil

    import coordsweep as cs
    spec = design_spec(method, 12)
    expected = spec.design.rows(0, spec.design.size).copy()
    store = tmp_path / "d.zarr"
    cs.run(spec, store=str(store), scheduler="synchronous", progress=False)
    shutil.rmtree(store)
    np.testing.assert_array_equal(spec.design.rows(0, spec.design.size), expected)
    assert cs.run(spec, progress=False).sizes["sample"] == spec.design.size


def test_another_spec_in_the_same_store_does_not_change_a_design(tmp_path):
    import coordsweep as cs
    a, b = design_spec("lhs", 12, seed=1), design_spec("lhs", 12, seed=2)
    store = str(tmp_path / "d.zarr")
    cs.run(a, store=store, scheduler="synchronous", progress=False)
    cs.run(b, store=store, mode="overwrite", scheduler="synchronous", progress=False)
    fresh = cs.run(design_spec("lhs", 12, seed=1), progress=False)
    again = cs.run(a, progress=False)
    for name in a.design.names:
        np.testing.assert_array_equal(again[name].values, fresh[name].values)
    np.testing.assert_array_equal(again.welfare_nc.values, fresh.welfare_nc.values)


def test_a_relative_store_path_then_a_change_of_directory(tmp_path, monkeypatch):
    import coordsweep as cs
    spec = design_spec("morris", 4)
    expected = spec.design.rows(0, spec.design.size).copy()
    (tmp_path / "here").mkdir()
    (tmp_path / "there").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    cs.run(spec, store="rel.zarr", scheduler="synchronous", progress=False)
    monkeypatch.chdir(tmp_path / "there")
    np.testing.assert_array_equal(spec.design.rows(0, spec.design.size), expected)
