"""`coordsweep view`: the page in a real headless browser (Debian's
chromium driven by Playwright), found by role and name as CONTRACT.md names
its parts, checked against the store's values read independently.

The browser tests skip, saying why, where chromium or Playwright is not
installed (`.ci/run` installs both). Every server and browser is started by
the test that uses it and stopped by its PID.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import numpy as np
import pytest

from coordsweep.engine.viz.plot import REGIME_COLORS
from coordsweep.kernels import codes

CHROMIUM = next((p for p in (os.environ.get("COORDSWEEP_CHROMIUM"), "/usr/bin/chromium",
                             shutil.which("chromium"), shutil.which("chromium-browser"))
                 if p and os.path.exists(p)), None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

SECTORS = """
[model]
labor = 1.0
labor_share = 0.6
[[model.sectors]]
name = "agro"
price = 1.0
productivity = 1.2
externality = 0.2
cost = 0.10
[[model.sectors]]
name = "manu"
price = 1.0
productivity = 1.0
externality = 0.6
cost = 0.10
[[model.sectors]]
name = "tech"
price = 1.0
productivity = 0.9
externality = 1.0
cost = 0.15
"""
GRID = 'name = "view grid"\n' + SECTORS + """
[axes.labor_share]
values = [0.5, 0.6, 0.7]
[axes.cost_scale]
start = 0.1
stop = 3.0
num = 10
spacing = "log"
[axes.externality_scale]
start = 0.0
stop = 2.0
num = 12
"""
DESIGN = 'name = "view design"\n' + SECTORS + """
[axes.labor_share]
values = [0.5, 0.7]
[design]
method = "lhs"
samples = 120
seed = 3
[design.params."externality.manu"]
low = 0.0
high = 2.0
[design.params.cost_scale]
low = 0.1
high = 3.0
spacing = "log"
"""


# ---------------------------------------------------------------------------
# stores, servers, the browser

def _run(text, path, chunk_points=None):
    import coordsweep
    coordsweep.run(coordsweep.load_spec(text), store=str(path), scheduler="synchronous",
                   progress=False, chunk_points=chunk_points)
    return path


@pytest.fixture(scope="module")
def grid_store(tmp_path_factory):
    # 30-point chunks: a slice over cost_scale x externality_scale spans 4 of them
    return _run(GRID, tmp_path_factory.mktemp("view") / "grid.zarr", chunk_points=30)


@pytest.fixture(scope="module")
def design_store(tmp_path_factory):
    return _run(DESIGN, tmp_path_factory.mktemp("view") / "design.zarr")


class Server:
    """`coordsweep view STORE --no-browser --port 0`, owned by the test."""

    def __init__(self, store, *extra):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "coordsweep", "view", str(store), "--no-browser",
             "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url:
            self.proc.kill()
            raise AssertionError(f"no URL printed: {self.proc.communicate()[1]}")

    def interrupt(self, timeout=30):
        """SIGINT (Ctrl-C) to its PID: (exit code, stderr)."""
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, err

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def server_for():
    made = []

    def make(store, *extra):
        s = Server(store, *extra)
        made.append(s)
        return s
    yield make
    for s in made:
        s.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("no chromium: install Debian's `chromium` package (apt-get install "
                    "chromium) or set COORDSWEEP_CHROMIUM to a Chromium binary")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed "
        "(pip install '.[test]')")
    pw = sync_api.sync_playwright().start()
    ctx = pw.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
        headless=True, args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
    try:
        yield ctx
    finally:
        ctx.close()
        pw.stop()


class Page:
    """A page of the browser with every request and console message recorded."""

    def __init__(self, ctx, url):
        self.page = ctx.new_page()
        self.requests, self.console, self.errors = [], [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("websocket", lambda w: self.requests.append(w.url))
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.wait_drawn(0)

    def drawn(self):
        return int(self.page.evaluate("Number(document.body.dataset.drawn || 0)"))

    def wait_drawn(self, before):
        self.page.wait_for_function(f"Number(document.body.dataset.drawn || 0) > {before}",
                                    timeout=30_000)

    def combo(self, name):
        return self.page.get_by_role("combobox", name=name, exact=True)

    def choose(self, name, value):
        before = self.drawn()
        self.combo(name).select_option(value)
        self.wait_drawn(before)

    def pixels(self):
        """{#rrggbb: count} of the pixels inside the map's frame (exact colours)."""
        return self.page.evaluate("""() => {
            const c = document.querySelector('[aria-label="map"]');
            const [x0, y0, w, hh] = c.dataset.plotbox.split(',').map(Number);
            const d = c.getContext('2d').getImageData(x0, y0, w, hh).data;
            const h = {};
            for (let i = 0; i < d.length; i += 4) {
                const k = '#' + [d[i], d[i+1], d[i+2]].map(v => v.toString(16).padStart(2, '0')).join('');
                h[k] = (h[k] || 0) + 1;
            }
            return h;
        }""")

    def legend_text(self):
        return self.page.get_by_label("legend").inner_text()

    def close(self):
        self.page.close()


def _same_origin(url, server_url):
    s = urlsplit(url)
    return s.scheme in ("data", "blob", "about") or \
        (s.hostname == "127.0.0.1" and s.port == urlsplit(server_url).port)


def _finish(page, server):
    """No request left the server, no console error; Ctrl-C stops it."""
    page.close()
    assert page.requests
    assert [u for u in page.requests if not _same_origin(u, server.url)] == []
    assert [m for m in page.console if m[0] in ("error", "warning")] == []
    assert page.errors == []
    rc, err = server.interrupt()
    assert rc in (0, 130), err
    assert "Traceback" not in err


def _regime_colour_counts(px):
    return {code: px.get(colour, 0) for code, colour in REGIME_COLORS.items()}


# ---------------------------------------------------------------------------
# the grid store

def test_grid_store_in_the_browser(browser, grid_store, server_for):
    import xarray as xr
    ds = xr.open_zarr(str(grid_store), consolidated=False)
    sectors = [str(s) for s in ds.attrs["sector_names"]]
    server = server_for(grid_store)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.url)
    p = Page(browser, server.url)
    page = p.page

    # the choices are comboboxes named as the contract says, with the store's names
    opts = lambda name: p.combo(name).locator("option").all_inner_texts()  # noqa: E731
    assert "regime" in opts("variable") and "coordination_gap" in opts("variable")
    assert opts("sector") == sectors
    assert opts("x") == opts("y") == ["labor_share", "cost_scale", "externality_scale"]
    assert p.combo("variable").input_value() == "regime"
    x, y = p.combo("x").input_value(), p.combo("y").input_value()
    assert (x, y) == ("externality_scale", "cost_scale")
    slider = page.get_by_role("slider", name="labor_share", exact=True)
    assert slider.count() == 1
    assert page.get_by_role("slider").count() == 1       # x and y have none
    assert page.get_by_role("img", name="map", exact=True).count() == 1

    # the map shows the slice's regimes in plot's colours, and nothing else's
    def expected(sector, k_labor):
        reg = ds["regime"].isel(labor_share=k_labor, sector=sectors.index(sector)).values
        return {int(c): int(n) for c, n in zip(*np.unique(reg, return_counts=True))}

    def check_regimes(sector, k_labor):
        want = expected(sector, k_labor)
        got = _regime_colour_counts(p.pixels())
        for code in REGIME_COLORS:
            assert (got[code] > 0) == (code in want), (sector, k_labor, code, got, want)
        text = p.legend_text()
        for code, n in want.items():   # every category named, with its count in the slice
            assert f"{codes.REGIME_NAMES[code]} ({n})" in text
        return got

    first = check_regimes("agro", 1)
    for name in codes.REGIME_NAMES:   # the legend names every category
        assert name in p.legend_text()

    # changing the sector, the slider (keyboard) and the variable changes the map
    assert expected("agro", 1) != expected("tech", 1)   # (what the checks rely on)
    p.choose("sector", "tech")
    second = check_regimes("tech", 1)
    assert second != first
    assert expected("tech", 1) != expected("tech", 2)
    before = p.drawn()
    slider.focus()
    page.keyboard.press("ArrowRight")
    p.wait_drawn(before)
    assert slider.input_value() == "2"
    third = check_regimes("tech", 2)
    assert third != second
    px_regime = p.pixels()
    p.choose("variable", "coordination_gap")
    px_gap = p.pixels()
    assert px_gap != px_regime
    assert not any(px_gap.get(c, 0) for c in REGIME_COLORS.values())
    assert "coordination_failure" not in p.legend_text()
    # swapping the map's axes gives labor_share its map place and cost_scale a slider
    p.choose("y", "labor_share")
    assert page.get_by_role("slider", name="cost_scale", exact=True).count() == 1
    assert page.get_by_role("slider", name="labor_share", exact=True).count() == 0

    # a point: every output there; solving it again agrees with the store and
    # shows what the store does not hold (the list of equilibria)
    p.choose("y", "cost_scale")
    m = page.get_by_role("img", name="map", exact=True)
    m.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    info = page.locator("#pointinfo")
    info.get_by_text("welfare_best_eq").wait_for()
    assert "computed" in info.inner_text()
    page.get_by_role("button", name=re.compile("solve", re.I)).click()
    page.get_by_text("Not in the store").wait_for(timeout=120_000)
    solved = page.locator("#solveinfo").inner_text()
    assert "eq_mask" in solved and "differs" not in solved
    assert re.search(r"\bsame\b", solved)
    _finish(p, server)


def test_missing_chunks_are_shown_and_followed(browser, grid_store, server_for, tmp_path):
    """An incomplete store: missing chunks drawn and named as missing; the
    page follows the store as the chunks land."""
    import zarr
    store = tmp_path / "running.zarr"
    shutil.copytree(grid_store, store)
    group = zarr.open_group(str(store), mode="r+")
    done = np.asarray(group["chunk_done"][...])
    gone = np.arange(1, done.size, 2)     # every other chunk not written yet
    undone = done.copy()
    undone[gone] = 0
    group["chunk_done"][...] = undone
    group.attrs["complete"] = 0
    server = server_for(store)
    p = Page(browser, server.url)
    text = p.legend_text()
    assert "missing (not computed yet)" in text
    assert "running" in p.page.get_by_role("status").first.inner_text()
    # the chunks land: the page redraws by itself, nothing missing any more
    before = p.drawn()
    group["chunk_done"][...] = done
    p.wait_drawn(before)
    p.page.wait_for_function("!document.getElementById('legend').innerText.includes('missing')",
                             timeout=30_000)
    _finish(p, server)


# ---------------------------------------------------------------------------
# the design store

def test_design_store_in_the_browser(browser, design_store, server_for):
    import xarray as xr
    ds = xr.open_zarr(str(design_store), consolidated=False)
    server = server_for(design_store)
    p = Page(browser, server.url)
    page = p.page
    params = ["externality.manu", "cost_scale"]
    opts = lambda name: p.combo(name).locator("option").all_inner_texts()  # noqa: E731
    assert opts("x") == opts("y") == params
    assert {p.combo("x").input_value(), p.combo("y").input_value()} == set(params)
    slider = page.get_by_role("slider", name="labor_share", exact=True)
    assert slider.count() == 1 and page.get_by_role("slider").count() == 1
    # the scatter: one dot a sample, coloured by regime as plot colours it
    sectors = [str(s) for s in ds.attrs["sector_names"]]

    def present(sector, k):
        reg = ds["regime"].isel(labor_share=k, sector=sectors.index(sector)).values
        return set(np.unique(reg).tolist())

    def check(sector, k):
        got = _regime_colour_counts(p.pixels())
        want = present(sector, k)
        for code in REGIME_COLORS:
            assert (got[code] > 0) == (code in want), (sector, k, code, got, want)
        for code in want:
            assert codes.REGIME_NAMES[code] in p.legend_text()
        return got

    first = check("agro", 1)
    p.choose("sector", "manu")
    second = check("manu", 1)
    assert second != first
    before = p.drawn()
    slider.focus()
    page.keyboard.press("ArrowLeft")
    p.wait_drawn(before)
    third = check("manu", 0)
    assert third != second
    px = p.pixels()
    p.choose("variable", "welfare_best_eq")
    assert p.pixels() != px
    # a sample's outputs, by keyboard
    page.get_by_role("img", name="map", exact=True).focus()
    page.keyboard.press("Enter")
    page.locator("#pointinfo").get_by_text("welfare_best_eq").wait_for()
    assert "sample = 0" in page.locator("#pointinfo").inner_text()
    _finish(p, server)


ONE_PARAM = 'name = "view one parameter"\n' + SECTORS + """
[design]
method = "random"
samples = 60
seed = 5
[design.params.cost_scale]
low = 0.05
high = 4.0
"""


def test_design_of_one_parameter_in_the_browser(browser, tmp_path, server_for):
    """x offers the one parameter, y nothing; the samples are drawn on one
    line, coloured by the store's regimes, with their legend."""
    import xarray as xr
    store = _run(ONE_PARAM, tmp_path / "one.zarr")
    ds = xr.open_zarr(str(store), consolidated=False)
    server = server_for(store)
    p = Page(browser, server.url)
    assert p.combo("x").locator("option").all_inner_texts() == ["cost_scale"]
    assert p.combo("y").locator("option").count() == 0 and p.combo("y").is_disabled()
    sectors = [str(s) for s in ds.attrs["sector_names"]]
    for sector in ("agro", "tech"):
        if sector != p.combo("sector").input_value():
            p.choose("sector", sector)
        reg = set(np.unique(ds["regime"].isel(sector=sectors.index(sector)).values).tolist())
        got = _regime_colour_counts(p.pixels())
        for code in REGIME_COLORS:
            assert (got[code] > 0) == (code in reg), (sector, code, got, reg)
        for code in reg:
            assert codes.REGIME_NAMES[code] in p.legend_text()
    assert "cannot read" not in p.page.locator("body").inner_text()
    _finish(p, server)


# ---------------------------------------------------------------------------
# without a browser

def test_not_a_store_exits_2_with_one_line(tmp_path):
    (tmp_path / "plain").mkdir()
    for path in (tmp_path / "nothing.zarr", tmp_path / "plain"):
        r = subprocess.run([sys.executable, "-m", "coordsweep", "view", str(path),
                            "--no-browser"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, r.stderr
        assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_slices_are_the_stores_values(grid_store, tmp_path):
    """The slice the page draws is the store's, sorted by coordinate, with
    the points of unwritten chunks flagged (against results.computed_mask)."""
    import xarray as xr
    import zarr

    from coordsweep.engine.analysis.geometry import computed_mask
    from coordsweep.engine.store import zarrstore
    from coordsweep.engine.viz.view import StoreView
    store = tmp_path / "part.zarr"
    shutil.copytree(grid_store, store)
    group = zarr.open_group(str(store), mode="r+")
    done = np.asarray(group["chunk_done"][...])
    done[[0, 3, 4]] = 0
    group["chunk_done"][...] = done
    view = StoreView(store)
    ds = zarrstore.open_dataset(store)
    mask = computed_mask(ds)
    assert mask is not None and not bool(mask.all())
    for var, sector in (("welfare_nc", None), ("regime", "manu")):
        for x, y in (("externality_scale", "cost_scale"), ("cost_scale", "labor_share")):
            other = ({"labor_share", "cost_scale", "externality_scale"} - {x, y}).pop()
            q = {"variable": var, "x": x, "y": y, f"i.{other}": "1"}
            if sector:
                q["sector"] = sector
            header, arrays = view.slice(q)
            vals, flags = arrays[0], arrays[-1]
            da = xr.open_zarr(str(store), mask_and_scale=False, consolidated=False)[var].isel({other: 1})
            if sector:
                da = da.isel(sector=view.sectors.index(sector))
            want = da.sortby(x).sortby(y).transpose(y, x).values.astype(float)
            miss = ~mask.isel({other: 1}).sortby(x).sortby(y).transpose(y, x).values
            assert vals.shape == want.shape == flags.shape
            np.testing.assert_array_equal(flags == 1, miss)
            np.testing.assert_array_equal(np.isnan(vals[~miss]), np.isnan(want[~miss]))
            np.testing.assert_array_equal(vals[~miss & ~np.isnan(want)],
                                          want[~miss & ~np.isnan(want)])
            assert np.isnan(vals[miss]).all()
            assert header["missing"] == int(miss.sum())
            assert header["xc"] == sorted(np.asarray(ds[x].values).tolist())


def test_a_design_of_one_parameter_is_one_line(tmp_path):
    """Without y, a design's slice holds every sample at its parameter's
    value, on one line (y = 0), in sample order."""
    import xarray as xr

    from coordsweep.engine.viz.view import StoreView
    store = _run(ONE_PARAM, tmp_path / "one.zarr")
    ds = xr.open_zarr(str(store), consolidated=False)
    view = StoreView(store)
    assert view.meta()["defaults"]["y"] is None
    header, arrays = view.slice({"variable": "welfare_nc", "x": "cost_scale"})
    vals, xs, ys, take = arrays[:4]
    assert header["y"] is None and header["ylabel"] == "" and header["total"] == 60
    np.testing.assert_array_equal(take, np.arange(60))
    np.testing.assert_array_equal(xs, ds["cost_scale"].values)
    np.testing.assert_array_equal(ys, np.zeros(60))
    np.testing.assert_array_equal(vals, ds["welfare_nc"].values)


def test_empty_equilibrium_slots_are_not_values(tmp_path):
    """eq_mask's fill (an empty slot of the list) is drawn and listed as
    'not defined', never as the number 4294967295."""
    import json

    from coordsweep.engine.store import zarrstore
    from coordsweep.engine.store.conventions import EQ_MASK_FILL
    from coordsweep.engine.viz.view import StoreView
    store = _run(GRID + "\n[outputs]\nequilibria = 8\n", tmp_path / "eq.zarr")
    view = StoreView(store)
    stored = np.asarray(zarrstore.open_dataset(store)["eq_listed"].values)
    assert (stored < 8).any()
    q = {"variable": "eq_mask", "x": "externality_scale", "y": "cost_scale",
         "i.labor_share": "1", "i.equilibrium": "7"}
    header, arrays = view.slice(q)
    vals = arrays[0]
    assert np.isnan(vals).any() and not (vals == EQ_MASK_FILL).any()
    assert str(EQ_MASK_FILL) not in json.dumps(header)
    at = np.argwhere(stored < 8)[0]
    point = view.point({f"i.{a}": str(int(i)) for a, i in zip(view.axes, at)})
    masks = point["outputs"]["eq_mask"]["value"]
    assert masks[-1] is None and masks[0] is not None and EQ_MASK_FILL not in masks


def test_solve_at_a_point_is_the_stored_point(grid_store):
    """The point the solve button solves is the stored point (the at= values)."""
    import coordsweep
    from coordsweep.engine.viz.view import StoreView
    view = StoreView(grid_store)
    q = {"i.labor_share": "2", "i.cost_scale": "7", "i.externality_scale": "4"}
    at, _ = view.at(q)
    out = coordsweep.solve(view.spec_text(), at=at)
    stored = view.point(q)["outputs"]
    for name in ("welfare_nc", "n_equilibria", "coordination_gap"):
        assert out[name] == pytest.approx(stored[name]["value"], rel=1e-12)
    assert [int(r) for r in out["regime"]] == stored["regime"]["value"]


def test_binds_loopback_and_refuses_other_host_names(grid_store):
    import http.client

    from coordsweep.engine.viz.view import serve
    import threading
    server = serve(grid_store)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request("GET", "/api/progress")
        assert c.getresponse().status == 200
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request("GET", "/api/progress", headers={"Host": f"evil.example:{port}"})
        assert c.getresponse().status == 403
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------
# a refined store (CONTRACT.md "Adaptive refinement"): filled points shown as such

def _pale(hex_colour):
    """The page's colour of a filled point: 55% of the way to white."""
    rgb = [int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{int(v + (255 - v) * 0.55 + 0.5):02x}" for v in rgb)


def test_refined_store_shows_filled_points(browser, grid_store, server_for, tmp_path):
    import xarray as xr
    import zarr
    store = tmp_path / "refined.zarr"
    shutil.copytree(grid_store, store)
    ds = xr.open_zarr(str(store), consolidated=False)
    axes = ("labor_share", "cost_scale", "externality_scale")
    shape = tuple(ds.sizes[a] for a in axes)
    computed = np.ones(shape, bool)
    computed[:, 2:6, 3:9] = False           # a block filled, not solved
    group = zarr.open_group(str(store), mode="r+")
    arr = group.create_array("computed", shape=shape, dtype=bool,
                             chunks=group["status"].chunks, dimension_names=axes)
    arr[...] = computed
    status = np.asarray(group["status"][...])
    status[~computed] |= np.int8(-128)
    group["status"][...] = status
    welfare = np.asarray(group["welfare_nc"][...])
    welfare[~computed] = np.nan
    group["welfare_nc"][...] = welfare
    sectors = [str(s) for s in ds.attrs["sector_names"]]
    reg = np.asarray(ds["regime"].isel(labor_share=1, sector=sectors.index("agro")).values)
    filled_codes = set(np.unique(reg[~computed[1]]).tolist())
    server = server_for(store)
    p = Page(browser, server.url)
    assert "refined" in p.page.get_by_role("status").first.inner_text()
    n_filled = int((~computed[1]).sum())
    assert f"filled: not solved, the value of its refinement cell's corners ({n_filled})" \
        in p.legend_text()
    px = p.pixels()
    for code in filled_codes:      # filled cells drawn pale, in their category's hue
        assert px.get(_pale(REGIME_COLORS[code]), 0) > 0
    # the point itself says it was filled
    page = p.page
    page.get_by_role("img", name="map", exact=True).focus()
    for key in ("ArrowRight",) * 4 + ("ArrowUp",) * 3 + ("Enter",):
        page.keyboard.press(key)
    page.locator("#pointinfo").get_by_text("welfare_best_eq").wait_for()
    assert "filled (not solved" in page.locator("#pointinfo").inner_text()
    _finish(p, server)


def _refined_on_manu(tmp_path):
    """A refined store of sweeps/paper_1 (33 x 33): regime of manu refined."""
    from engine_helpers import shrink
    text = open(os.path.join(os.path.dirname(__file__), "..", "sweeps",
                             "paper_1_coordination_failures.toml")).read()
    text = shrink(text, 33, {"on": ["regime"], "sectors": ["manu"], "coarse": 8})
    return _run(text, tmp_path / "refined.zarr")


def test_outputs_a_refinement_does_not_fill_are_not_solved(tmp_path):
    """On a refined store (regime of manu only), the points the refinement
    filled are filled for manu's regime and not solved for everything it
    does not fill: no value, no category (n_equilibria's fill value -1 is
    not one), and the point's outputs say so; the solve button lists them
    as not in the store."""
    import coordsweep
    from coordsweep.engine.viz.view import FILLED, UNSOLVED, StoreView
    store = _refined_on_manu(tmp_path)
    ds = coordsweep.open_store(str(store))
    computed = ds["computed"].values
    assert 0 < computed.sum() < computed.size
    view = StoreView(store)
    q = {"x": "externality_scale", "y": "cost_scale"}
    header, arrays = view.slice({**q, "variable": "regime", "sector": "manu"})
    assert header["filled"] == int((~computed).sum()) and header["unsolved"] == 0
    for var, sector in (("n_equilibria", None), ("regime", "agro"), ("welfare_nc", None)):
        header, arrays = view.slice({**q, "variable": var, **({"sector": sector} if sector
                                                              else {})})
        vals, flags = arrays[0], arrays[-1]
        assert header["filled"] == 0 and header["unsolved"] == int((~computed).sum())
        assert (flags == UNSOLVED).sum() == (~computed).sum() and not (flags == FILLED).any()
        assert np.isnan(vals[flags == UNSOLVED]).all()
        if header.get("discrete"):
            assert all(e["code"] >= 0 for e in header["legend"] if e["count"]), header["legend"]
    point = view.point({f"i.{a}": str(int(i)) for a, i in
                        zip(view.axes, np.argwhere(~computed)[0])})
    out = point["outputs"]
    assert point["state"].startswith("filled")
    assert out["n_equilibria"]["not_solved"] and out["n_equilibria"]["value"] is None
    manu = view.sectors.index("manu")
    assert out["regime"]["not_solved"]
    assert [v is not None for v in out["regime"]["value"]] == \
        [j == manu for j in range(len(view.sectors))]
    assert "not_solved" not in out["status"]


def test_not_solved_points_in_the_browser(browser, tmp_path, server_for):
    """The legend counts the points a refinement does not fill as not
    solved (not as the fill value's category), and a point says so."""
    import coordsweep
    store = _refined_on_manu(tmp_path)
    unsolved = int((~coordsweep.open_store(str(store))["computed"].values).sum())
    server = server_for(store)
    p = Page(browser, server.url)
    p.choose("variable", "n_equilibria")
    legend = p.legend_text()
    assert f"not solved: the refinement fills only its refined outputs ({unsolved})" in legend
    assert not re.search(r"(?m)^-1\b", legend), legend
    _finish(p, server)


def test_the_equilibrium_slider_moves_the_list_only(browser, tmp_path, server_for):
    """The equilibrium slider is there for a store with the list; it is
    disabled for an output without that dimension and, for eq_welfare,
    moves the map to the next rank of the list."""
    store = _run(GRID + "\n[outputs]\nequilibria = 4\n", tmp_path / "eq.zarr")
    server = server_for(store)
    p = Page(browser, server.url)
    slider = p.page.get_by_role("slider", name="equilibrium", exact=True)
    assert slider.count() == 1
    assert p.combo("variable").input_value() == "regime" and slider.is_disabled()
    p.choose("variable", "eq_welfare")
    assert slider.is_enabled()
    before, px = p.drawn(), p.pixels()
    slider.focus()
    p.page.keyboard.press("ArrowRight")
    p.wait_drawn(before)
    assert p.pixels() != px
    p.choose("x", "labor_share")  # (the sliders are made again)
    assert slider.is_enabled()
    p.choose("variable", "welfare_nc")
    assert slider.is_disabled()
    _finish(p, server)


def test_another_host_is_said(grid_store, server_for):
    """Binding beyond loopback only when asked, and then a warning."""
    s = server_for(grid_store, "--host", "0.0.0.0")
    assert s.url.startswith("http://0.0.0.0:")
    rc, err = s.interrupt()
    assert rc in (0, 130)
    assert "warning: serving on 0.0.0.0" in err and "Traceback" not in err
