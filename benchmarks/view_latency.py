"""First paint and slider steps of `coordsweep view`, in a real browser.

    python benchmarks/view_latency.py                    # 10^7-point store vs a small one
    python benchmarks/view_latency.py --big STORE --small STORE --repeats 5
    python benchmarks/view_latency.py --screenshot docs/figures/view.png

The big store is benchmarks/grid_3sectors_1e7.toml's grid (200 x 200 x 250
points, 3 sectors, its default chunks of 2 x 200 x 250 points), written
with *synthetic* outputs (smooth functions of the axes, regimes in bands;
``--big`` takes a real store instead); the small one is a real run of a
5 x 6 x 8 grid of the same sectors. Both are made in a temporary directory
unless given.

For each store, interleaved (small, big, small, big, ...), ``--repeats``
times, each a fresh `coordsweep view --no-browser --port 0` process and a
fresh page of Debian's chromium (driven by Playwright, as tests/test_view.py
does):

- first paint: from the start of navigation to the end of the first map
  drawn (``performance.now()`` in the page at the end of ``draw``, which the
  page stores in ``window.__lastDraw``), the server already up;
- slider step: the slider of the axis not on the map focused, ArrowRight,
  until the new map is drawn (in the page's clock; median of 10 steps),
  with the default map axes (the last two: one chunk a slice) and with the
  first two axes on the map (a slice crosses every chunk of the store);
- the same for a float output (``welfare_nc``) and the regime of a sector.

Reports medians (ms). The machine is shared: compare the two stores
measured in the same run, not numbers of different runs.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def make_synthetic(path, spec_path=HERE / "grid_3sectors_1e7.toml"):
    """A complete store of the spec's grid and layout with synthetic outputs."""
    import numpy as np

    from coordsweep.engine.spec.layout import Layout
    from coordsweep.engine.spec.model import load_spec
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.kernels.outputs import OUTPUTS
    spec = load_spec(spec_path)
    layout = Layout.for_grid(spec.shape)
    zstore.create(path, spec, layout)
    token = zstore.read_attrs(path)["run_token"]
    nsec = spec.n_sectors
    values = [np.asarray(a.values, float) for a in spec.axes]
    for cid in range(layout.nchunks):
        start, stop = layout.flat_range(cid)
        idx = np.unravel_index(np.arange(start, stop), spec.shape)
        v = [values[k][i] for k, i in enumerate(idx)]
        base = np.sin(3 * v[0]) + np.cos(2 * v[1]) + 0.3 * v[2]
        out = {}
        for name, per, dtype, _, _ in OUTPUTS:
            shape = (stop - start,) if per == "point" else (stop - start, nsec)
            b = base if per == "point" else base[:, None] + np.arange(nsec)[None, :]
            if name == "regime":
                a = (np.floor(2 * b) % 6)
            elif name == "status":
                a = np.zeros(shape)
            elif np.dtype(dtype).kind in "iub":
                a = np.floor(b) % 3
            else:
                a = b * (1 + 0.01 * len(name))
            out[name] = np.broadcast_to(a, shape).astype(dtype)
        zstore.write_chunk(path, layout, cid, out, nsec, token=token)
    zstore.finalize(path)
    return path


def make_small(path, nums=(6, 5, 8)):
    """A real run of the big grid's sectors and axes with ``nums`` points."""
    import coordsweep
    text = (HERE / "grid_3sectors_1e7.toml").read_text() \
        .replace('name = "three sectors, 1e7 points"', 'name = "three sectors"')
    for old, new in zip(("num = 200\n", "num = 200\n", "num = 250\n"), nums):
        text = text.replace(old, f"num = {new}\n", 1)
    coordsweep.run(coordsweep.load_spec(text), store=str(path), scheduler="synchronous",
                   progress=False)
    return path


class Server:
    def __init__(self, store):
        self.proc = subprocess.Popen([sys.executable, "-m", "coordsweep", "view", str(store),
                                      "--no-browser", "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def drawn(page):
    return int(page.evaluate("Number(document.body.dataset.drawn || 0)"))


def wait_drawn(page, before):
    page.wait_for_function(f"Number(document.body.dataset.drawn || 0) > {before}",
                           timeout=300_000)


def slider_steps(page, name, steps):
    slider = page.get_by_role("slider", name=name, exact=True)
    slider.focus()
    times = []
    for k in range(steps):
        before = drawn(page)
        t0 = page.evaluate("performance.now()")
        page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
        wait_drawn(page, before)
        times.append(page.evaluate("window.__lastDraw") - t0)
    return statistics.median(times)


def choose(page, name, value):
    before = drawn(page)
    page.get_by_role("combobox", name=name, exact=True).select_option(value)
    wait_drawn(page, before)


def measure(ctx, store, steps):
    """{measure: ms} for one server process and one page."""
    server = Server(store)
    res = {}
    try:
        page = ctx.new_page()
        page.goto(server.url)
        wait_drawn(page, 0)
        res["first_paint"] = page.evaluate("window.__lastDraw")
        axes = page.get_by_role("combobox", name="x", exact=True) \
            .locator("option").all_inner_texts()
        res["step_regime_default_axes"] = slider_steps(page, axes[0], steps)
        choose(page, "variable", "welfare_nc")
        res["step_float_default_axes"] = slider_steps(page, axes[0], steps)
        choose(page, "x", axes[0])     # the first two axes on the map
        choose(page, "y", axes[1])
        res["step_float_first_two_axes"] = slider_steps(page, axes[-1], max(2, steps // 3))
        page.close()
    finally:
        server.stop()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--big", help="a large store (default: synthetic 10^7 points)")
    ap.add_argument("--small", help="a small store (default: a real 240-point run)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--chromium", default=os.environ.get("COORDSWEEP_CHROMIUM",
                                                         "/usr/bin/chromium"))
    ap.add_argument("--screenshot", help="write a screenshot of the page (small store) here")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    tmp = Path(tempfile.mkdtemp(prefix="view-bench-"))
    try:
        if args.screenshot:
            return screenshot(args, tmp)
        small = Path(args.small) if args.small else make_small(tmp / "small.zarr")
        if args.big:
            big = Path(args.big)
        else:
            t0 = time.perf_counter()
            big = make_synthetic(tmp / "big.zarr")
            print(f"synthetic 10^7-point store written in {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr)
        results = {"small": [], "big": []}
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                str(tmp / "profile"), executable_path=args.chromium, headless=True,
                args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
            for _ in range(args.repeats):
                for name, store in (("small", small), ("big", big)):
                    results[name].append(measure(ctx, store, args.steps))
            ctx.close()
        table = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                 for name, runs in results.items()}
        print(f"{'ms (median of ' + str(args.repeats) + ')':32s} {'small':>9s} {'10^7':>9s}"
              f" {'ratio':>6s}")
        for k in table["small"]:
            s, b = table["small"][k], table["big"][k]
            print(f"{k:32s} {s:9.0f} {b:9.0f} {b / s:6.1f}")
        if args.json:
            Path(args.json).write_text(json.dumps({"runs": results, "median": table}, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def screenshot(args, tmp):
    """The page of a small store, a point picked and solved."""
    from playwright.sync_api import sync_playwright
    small = make_small(tmp / "shot.zarr", nums=(60, 48, 3))
    server = Server(small)
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                str(tmp / "profile"), executable_path=args.chromium, headless=True,
                args=CHROMIUM_ARGS, viewport={"width": 1360, "height": 800})
            page = ctx.new_page()
            page.goto(server.url)
            wait_drawn(page, 0)
            choose(page, "x", "externality_scale")
            choose(page, "y", "cost_scale")
            choose(page, "sector", "manu")
            page.get_by_role("img", name="map", exact=True).focus()
            for key in ("ArrowRight",) * 3 + ("ArrowUp",) * 2 + ("Enter",):
                page.keyboard.press(key)
            page.locator("#pointinfo").get_by_text("welfare_best_eq").wait_for()
            page.screenshot(path=args.screenshot)
            ctx.close()
    finally:
        server.stop()
    print(f"wrote {args.screenshot}")


if __name__ == "__main__":
    main()
