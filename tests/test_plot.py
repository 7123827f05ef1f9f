"""engine.plot: PNG size, plotted content, categories, colours, errors.

Synthetic stores come from tests/plot_fixtures.py (known content); one test
plots a real small sweep run through engine.runner.
"""
import struct
import warnings

import matplotlib.image as mpimg
import matplotlib.colors as mcolors
import numpy as np

from coordsweep.engine.viz.plotdata import FAILED_BITS
import pytest

import plot_fixtures as pf
import specs
from coordsweep.engine.errors import UsageError
from coordsweep.engine.viz.plot import plot, is_geometric, REGIME_COLORS
from coordsweep.kernels import codes
from coordsweep.kernels.codes import REGIME_NAMES

warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")


def png_size(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    length, ctype = struct.unpack(">I4s", data[8:16])
    assert ctype == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The default 3-axis synthetic dataset, written to zarr and reopened."""
    return pf.to_store(pf.make_dataset(), tmp_path_factory.mktemp("s") / "s.zarr")


def _grid_index(ds, ax, value):
    return int(np.argmin(np.abs(ds[ax].values - value)))


# --------------------------------------------------------------------------- size

@pytest.mark.parametrize("w,h,dpi", [(800, 600, 100), (640, 480, 72), (1023, 517, 96),
                                     (300, 900, 150)])
@pytest.mark.parametrize("kind", ["regime-map", "continuous-map", "line", "step"])
def test_png_has_exact_requested_size(store, tmp_path, w, h, dpi, kind):
    out = tmp_path / "f.png"
    if kind == "regime-map":
        plot(store, x="externality_scale", y="cost_scale", var="regime", sector="agro",
             select={"labor_share": 0.6}, out=out, width=w, height=h, dpi=dpi)
    elif kind == "continuous-map":
        plot(store, x="cost_scale", y="labor_share", var="threshold_wage", sector="software",
             select={"externality_scale": 1.0}, out=out, width=w, height=h, dpi=dpi)
    elif kind == "line":
        plot(store, x="cost_scale", var="welfare_nc",
             select={"externality_scale": 1.0, "labor_share": 0.5}, out=out,
             width=w, height=h, dpi=dpi)
    else:
        plot(store, x="externality_scale", var="target_best",
             select={"cost_scale": 0.1, "labor_share": 0.7}, out=out, width=w, height=h, dpi=dpi)
    assert png_size(out) == (w, h)


# --------------------------------------------------------------------------- content

def test_regime_map_array_counts_and_legend(store, tmp_path):
    r = plot(store, x="externality_scale", y="cost_scale", var="regime", sector="textiles",
             select={"labor_share": 0.62}, out=tmp_path / "r.png")
    assert r["selection"] == {"labor_share": 0.6}           # nearest coordinate
    expected = store["regime"].sel(sector="textiles", labor_share=0.6) \
        .transpose("cost_scale", "externality_scale").values
    assert r["array"].shape == (11, 21)
    np.testing.assert_array_equal(r["array"], expected)
    # and the known content of the fixture: (i0 // 4 + i1 // 3 + s) % 6, s = 1
    i1, i0 = np.meshgrid(np.arange(11), np.arange(21), indexing="ij")
    np.testing.assert_array_equal(r["array"], (i0 // 4 + i1 // 3 + 1) % 6)
    vals, cnt = np.unique(expected, return_counts=True)
    assert r["counts"] == {REGIME_NAMES[v]: int(c) for v, c in zip(vals, cnt)}
    assert r["categories"] == dict(enumerate(REGIME_NAMES))
    assert r["legend"] == [REGIME_NAMES[v] for v in vals]   # matplotlib legend texts
    assert r["kind"] == "categorical"


def test_regime_legend_names_only_present_categories(tmp_path):
    ds = pf.two_halves_dataset()
    r = plot(ds, x="externality_scale", y="cost_scale", var="regime", sector="agro",
             out=tmp_path / "r.png")
    assert r["legend"] == ["coordination_failure", "not_worth"]
    assert r["counts"] == {"coordination_failure": 100, "not_worth": 100}
    # one boundary line: between externality_scale 0.9 and 1.0, over the 10 rows
    seg = r["boundaries"]
    assert seg.shape == (10, 2, 2)
    np.testing.assert_allclose(seg[:, :, 0], 0.95)
    ye = np.sort(np.unique(seg[:, :, 1]))
    np.testing.assert_allclose(ye, np.linspace(0.5 - 1 / 18, 1.5 + 1 / 18, 11))


def test_target_map_names_sectors(store, tmp_path):
    r = plot(store, x="externality_scale", y="cost_scale", var="target_best",
             select={"labor_share": 0.5}, out=tmp_path / "t.png")
    # fixture: target_best = i0 % 3 for i0 < 10, else 2 (the last sector)
    i0 = np.arange(21)
    col = np.where(i0 < 10, i0 % 3, 2)
    np.testing.assert_array_equal(r["array"], np.broadcast_to(col, (11, 21)))
    names = ["agro", "textiles", "software"]
    vals, cnt = np.unique(np.broadcast_to(col, (11, 21)), return_counts=True)
    assert r["counts"] == {names[v]: int(c) for v, c in zip(vals, cnt)}
    assert r["legend"] == names
    assert r["categories"] == dict(enumerate(names))


def test_status_bitfield_named_by_bits(store, tmp_path):
    r = plot(store, x="externality_scale", y="cost_scale", var="status",
             select={"labor_share": 0.7}, out=tmp_path / "s.png")
    # fixture: PATH_SHAPE on column i0 == 1 (11 cells); WAGE|NON_FINITE at (i0, i1) = (2, 0)
    assert r["counts"] == {"ok": 21 * 11 - 12, "path_shape": 11,
                           "wage_not_converged+non_finite": 1}
    assert r["array"][0, 2] == codes.WAGE_NOT_CONVERGED | codes.NON_FINITE


def test_bool_and_count_are_discrete(store, tmp_path):
    r = plot(store, x="externality_scale", y="cost_scale", var="coop_fb", sector="agro",
             select={"labor_share": 0.6}, out=tmp_path / "b.png")
    reg = store["regime"].sel(sector="agro", labor_share=0.6).transpose(
        "cost_scale", "externality_scale").values
    n_true = int(((reg == codes.COORDINATION_FAILURE) | (reg == codes.NEEDS_SUBSIDY)).sum())
    assert r["counts"] == {"false": reg.size - n_true, "true": n_true}
    r = plot(store, x="externality_scale", y="cost_scale", var="n_equilibria",
             select={"labor_share": 0.6}, out=tmp_path / "n.png")
    i1, i0 = np.meshgrid(np.arange(11), np.arange(21), indexing="ij")
    neq = 1 + (i0 + 2 * i1) % 4
    np.testing.assert_array_equal(r["array"], neq)
    assert r["legend"] == ["1", "2", "3", "4"]
    assert r["counts"] == {str(k): int((neq == k).sum()) for k in (1, 2, 3, 4)}


def test_n_equilibria_with_wide_range_gets_a_colorbar(tmp_path):
    ds = pf.make_dataset()
    ds["n_equilibria"].values[...] = np.arange(ds["n_equilibria"].size).reshape(
        ds["n_equilibria"].shape) % 40
    r = plot(ds, x="externality_scale", y="cost_scale", var="n_equilibria",
             select={"labor_share": 0.6}, out=tmp_path / "n.png")
    assert r["categories"] is None and r["counts"] is None
    assert "number of stable" in r["value_label"].replace("\n", " ")


def test_continuous_map_label_nonfinite_and_log_axis(store, tmp_path):
    r = plot(store, x="externality_scale", y="cost_scale", var="threshold_wage",
             sector="agro", select={"labor_share": 0.6}, out=tmp_path / "c.png")
    label = r["value_label"].replace("\n", " ")
    assert "highest wage at which full cooperation is a best response" in label
    assert "[price of good units per unit labour]" in label
    assert r["categories"] is None and r["counts"] is None
    reg = store["regime"].sel(sector="agro", labor_share=0.6).transpose(
        "cost_scale", "externality_scale").values
    # fixture: NaN for inert sectors, +inf for spontaneous ones
    assert r["nonfinite"] == {"nan": int((reg == 0).sum()), "+inf": int((reg == 1).sum()),
                              "-inf": 0}
    np.testing.assert_array_equal(
        r["array"], store["threshold_wage"].sel(sector="agro", labor_share=0.6)
        .transpose("cost_scale", "externality_scale").values)
    assert (r["xscale"], r["yscale"]) == ("linear", "log")     # cost_scale is geometric


def test_is_geometric():
    assert is_geometric(np.geomspace(0.01, 1, 11))
    assert not is_geometric(np.linspace(0.01, 1, 11))
    assert not is_geometric([0.0, 1.0, 10.0])
    assert not is_geometric([1.0, 10.0])                 # two values: ambiguous, linear
    assert is_geometric([1.0, 10.0], {"spacing": "log"})
    assert not is_geometric(np.geomspace(0.01, 1, 11), {"spacing": "linear"})


def test_1d_line_and_step(tmp_path):
    ds = pf.one_axis_dataset()
    r = plot(ds, x="cost_scale", var="welfare_nc", out=tmp_path / "l.png")
    # points whose status has a failure bit are masked
    failed = (ds["status"].values.astype(int) & FAILED_BITS) != 0
    np.testing.assert_array_equal(r["array"], np.where(failed, np.nan, ds["welfare_nc"].values))
    assert r["y"] is None and r["xscale"] == "log"
    r = plot(ds, x="cost_scale", var="regime", sector="software", out=tmp_path / "s.png")
    np.testing.assert_array_equal(r["array"], ds["regime"].sel(sector="software").values)
    vals, cnt = np.unique(r["array"], return_counts=True)
    assert r["counts"] == {REGIME_NAMES[v]: int(c) for v, c in zip(vals, cnt)}
    assert r["legend"] == [REGIME_NAMES[v] for v in vals]
    assert png_size(tmp_path / "s.png") == (800, 600)


def test_unsorted_axis_values_are_plotted_in_order(tmp_path):
    axes = {"productivity.agro": (np.array([1.2, 0.8, 1.0, 0.9]), "productivity of agro"),
            "cost_scale": (np.array([3.0, 1.0, 2.0]), "cost scale factor")}
    ds = pf.make_dataset(axes, sectors=("agro", "manu"))
    r = plot(ds, x="productivity.agro", y="cost_scale", var="welfare_nc", out=tmp_path / "u.png")
    np.testing.assert_array_equal(r["x"], [0.8, 0.9, 1.0, 1.2])
    np.testing.assert_array_equal(r["y"], [1.0, 2.0, 3.0])
    failed = (ds["status"].astype(int) & FAILED_BITS) != 0  # masked
    srt = ds["welfare_nc"].where(~failed).sortby(["productivity.agro", "cost_scale"])
    np.testing.assert_array_equal(r["array"], srt.transpose("cost_scale", "productivity.agro").values)


def test_length_one_axis_needs_no_select(tmp_path):
    axes = {"externality_scale": (np.linspace(0, 1, 5), "x"),
            "labor_share": (np.array([0.6]), "alpha"),
            "cost_scale": (np.linspace(0, 1, 4), "c")}
    ds = pf.make_dataset(axes)
    r = plot(ds, x="externality_scale", y="cost_scale", var="gain_best", out=tmp_path / "o.png")
    assert r["selection"] == {"labor_share": 0.6}
    assert r["array"].shape == (4, 5)


def test_sector_via_select_dict(store, tmp_path):
    r = plot(store, x="externality_scale", y="cost_scale", var="regime",
             select={"labor_share": 0.6, "sector": "software"}, out=tmp_path / "r.png")
    assert r["sector"] == "software"


def test_incomplete_store_shows_missing_not_fill_values(tmp_path):
    ds = pf.to_store(pf.make_dataset(complete=False), tmp_path / "inc.zarr")
    rows = pf.missing_rows(ds)
    r = plot(ds, x="externality_scale", y="cost_scale", var="regime", sector="agro",
             select={"labor_share": 0.6}, out=tmp_path / "r.png")
    assert np.isnan(r["array"][:, rows]).all()
    assert not np.isnan(np.delete(r["array"], rows, axis=1)).any()
    assert r["counts"]["missing"] == len(rows) * 11
    assert "missing (not computed)" in r["legend"]
    # the fill value 0 (= inert) of the unwritten chunk is not counted as inert
    full = pf.make_dataset()["regime"].sel(sector="agro", labor_share=0.6).transpose(
        "cost_scale", "externality_scale").values
    assert r["counts"].get("inert", 0) == int((np.delete(full, rows, axis=1) == 0).sum())


# --------------------------------------------------------------------------- pixels

def test_regime_map_pixels_show_both_halves(tmp_path):
    ds = pf.two_halves_dataset()
    out = tmp_path / "halves.png"
    r = plot(ds, x="externality_scale", y="cost_scale", var="regime", sector="agro",
             out=out, width=900, height=600)
    img = mpimg.imread(out)[..., :3]
    assert img.shape[:2] == (600, 900)
    left, top, right, bottom = r["axes_bbox"]
    assert 0 < left < right < 900 and 0 < top < bottom < 600
    area = img[top + 3:bottom - 3, left + 3:right - 3]
    red = np.array(mcolors.to_rgb(REGIME_COLORS[codes.COORDINATION_FAILURE]))
    sand = np.array(mcolors.to_rgb(REGIME_COLORS[codes.NOT_WORTH]))
    is_red = np.abs(area - red).max(axis=-1) < 0.03
    is_sand = np.abs(area - sand).max(axis=-1) < 0.03
    n = area.shape[0] * area.shape[1]
    assert 0.42 < is_red.sum() / n < 0.52
    assert 0.42 < is_sand.sum() / n < 0.52
    assert (is_red.sum() + is_sand.sum()) / n > 0.93      # the rest: boundary line
    cols = np.arange(area.shape[1])
    # lower externality_scale (coordination_failure) on the left
    red_cols = cols[is_red.any(axis=0)]
    sand_cols = cols[is_sand.any(axis=0)]
    assert red_cols.max() < sand_cols.min()
    assert abs(red_cols.max() / area.shape[1] - 0.5) < 0.03


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs,needles", [
    (dict(var="welfare", x="cost_scale"), ["'welfare'", "welfare_nc", "regime"]),
    (dict(var="chunk_done", x="cost_scale"), ["'chunk_done'"]),
    (dict(var="welfare_nc", x="theta"), ["'theta'", "externality_scale", "cost_scale"]),
    (dict(var="welfare_nc", x="cost_scale", y="alpha"), ["'alpha'", "labor_share"]),
    (dict(var="welfare_nc", x="cost_scale", y="cost_scale"), ["'cost_scale'"]),
    (dict(var="regime", x="cost_scale", y="labor_share", sector="fishing",
          select={"externality_scale": 1}), ["'fishing'", "agro", "textiles", "software"]),
    (dict(var="regime", x="cost_scale", y="labor_share", select={"externality_scale": 1}),
     ["sector", "agro", "textiles", "software"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share", sector="agro",
          select={"externality_scale": 1}), ["per point", "agro"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share"), ["externality_scale"]),
    (dict(var="welfare_nc", x="cost_scale"), ["externality_scale", "labor_share"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share", select={"externality_scale": 2.5}),
     ["externality_scale", "2.5", "[0, 2]"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share", select={"externality_scale": -0.1}),
     ["externality_scale", "-0.1"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share",
          select={"externality_scale": 1, "theta": 1}), ["'theta'", "labor_share"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share",
          select={"externality_scale": 1, "cost_scale": 0.1}), ["'cost_scale'", "plotted"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share", select={"externality_scale": "x"}),
     ["externality_scale", "'x'"]),
    (dict(var="welfare_nc", x="cost_scale", y="labor_share", select={"externality_scale": 1},
          width=50), ["50"]),
])
def test_usage_errors_name_the_culprit(store, tmp_path, kwargs, needles):
    out = tmp_path / "never.png"
    with pytest.raises(UsageError) as exc:
        plot(store, out=out, **kwargs)
    msg = str(exc.value)
    for needle in needles:
        assert needle in msg, (needle, msg)
    assert not out.exists()


def test_y_on_a_one_axis_store_is_an_error(tmp_path):
    ds = pf.one_axis_dataset()
    with pytest.raises(UsageError, match="one axis"):
        plot(ds, x="cost_scale", y="cost_scale", var="welfare_nc", out=tmp_path / "x.png")


# --------------------------------------------------------------------------- real store

SMALL_SPEC = specs.spec_text("plot test: two sectors", specs.TWO_SECTORS,
                             axes=specs.SCALE_AXES)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    run_sweep = pytest.importorskip("coordsweep.engine.run.runner").run_sweep
    from coordsweep.engine.spec.model import parse_spec
    d = tmp_path_factory.mktemp("real")
    return run_sweep(parse_spec(SMALL_SPEC), store=str(d / "small.zarr"),
                     scheduler="synchronous", progress=False).dataset


def test_real_store_regime_map(real_store, tmp_path):
    ds = real_store
    out = tmp_path / "real.png"
    r = plot(ds, x="externality_scale", y="cost_scale", var="regime", sector="manu", out=out)
    assert png_size(out) == (800, 600)
    expected = ds["regime"].sel(sector="manu").transpose("cost_scale", "externality_scale").values
    np.testing.assert_array_equal(r["array"], expected)
    vals, cnt = np.unique(expected, return_counts=True)
    assert r["counts"] == {REGIME_NAMES[v]: int(c) for v, c in zip(vals, cnt)}
    assert r["legend"] == [REGIME_NAMES[v] for v in vals]
    # MODEL.md: theta = 0 (externality_scale = 0) makes every sector inert,
    # and cost 0 with theta > 0 makes it spontaneous
    assert (expected[:, 0] == codes.INERT).all()
    assert (expected[0, 1:] == codes.SPONTANEOUS).all()
    r = plot(ds, x="cost_scale", var="coordination_gap", select={"externality_scale": 2.0},
             out=tmp_path / "gap.png")
    np.testing.assert_array_equal(r["array"], ds["coordination_gap"].sel(externality_scale=2.0).values)
    assert np.all(r["array"] >= 0)
