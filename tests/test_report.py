"""engine.report: the self-contained HTML page, its figures and its tables."""
import base64
import html
import re
import struct
import warnings
from html.parser import HTMLParser

import numpy as np
import pytest

import plot_fixtures as pf
import specs
from coordsweep.engine.viz.report import write_report, report_figures, KEY_VARIABLES
from coordsweep.kernels.codes import REGIME_NAMES, STATUS_BITS

warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")

PNG_SIG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Collects <img> attributes, figure captions, tables (cell texts), <pre> text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.imgs, self.captions, self.tables, self.pres = [], [], [], []
        self._cell = self._cap = self._pre = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "figcaption":
            self._cap = []
        elif tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "figcaption":
            self.captions.append("".join(self._cap))
            self._cap = None
        elif tag == "pre":
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        for buf in (self._cell, self._cap, self._pre):
            if buf is not None:
                buf.append(data)

    def table(self, first_header):
        for t in self.tables:
            if t and t[0] and t[0][0] == first_header:
                return t
        raise AssertionError(f"no table starting with {first_header!r}")


def png_size(data):
    assert data[:8] == PNG_SIG
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def decode_img(src):
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:40]
    return base64.b64decode(src[len(prefix):], validate=True)


@pytest.fixture(scope="module")
def report3(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep3")
    ds = pf.to_store(pf.make_dataset(), d / "s.zarr")
    index = write_report(ds, d / "out")
    return ds, index, index.read_text(encoding="utf-8")


def test_report_embeds_every_figure_as_a_valid_png(report3):
    ds, index, text = report3
    assert index.name == "index.html" and index.exists()
    page = Page(text)
    figs = report_figures(ds)
    # 3 regime maps (one per sector) + n_equilibria, coordination_gap,
    # provision_gap, target_best, best_target_rule, gain_best, welfare_best_eq
    assert len(figs) == 3 + 7
    assert [f["name"] for f in figs[:3]] == ["regime-agro", "regime-textiles", "regime-software"]
    assert len(page.imgs) == len(figs) == len(page.captions)
    assert text.count("<img") == len(figs)
    for img, fig in zip(page.imgs, figs):
        data = decode_img(img["src"])
        assert png_size(data) == (800, 600)
        # the same figure is also a PNG file next to index.html
        assert img["data-file"] == f"{fig['name']}.png"
        assert (index.parent / img["data-file"]).read_bytes() == data


def test_report_captions_say_what_and_where(report3):
    ds, _, text = report3
    page = Page(text)
    cap = dict(zip([f["name"] for f in report_figures(ds)], page.captions))
    # the third axis (labor_share: 0.5, 0.6, 0.7) is fixed at its middle value
    for c in page.captions:
        assert "labor_share = 0.6" in c and "middle value" in c
        assert "externality_scale (horizontal)" in c and "cost_scale (vertical)" in c
    assert "sector textiles" in cap["regime-textiles"]
    assert "coordination_failure" in cap["regime-agro"]
    assert "stable equilibria" in cap["n_equilibria"]
    # boundary lines are drawn (and said) on categorical maps only
    assert "Black lines mark where the category changes." in cap["regime-agro"]
    assert "Black lines" not in cap["coordination_gap"]
    # category shares of the slice in the caption: known fixture content
    i1, i0 = np.meshgrid(np.arange(11), np.arange(21), indexing="ij")
    neq = 1 + (i0 + 2 * i1) % 4
    assert f"1 {100 * (neq == 1).mean():.1f}%" in cap["n_equilibria"]


def test_report_spec_escaped_and_provenance(report3):
    ds, _, text = report3
    page = Page(text)
    assert page.pres == [pf.SPEC_TEXT]                   # exact text after unescaping
    assert html.escape(pf.SPEC_TEXT) in text
    assert "<test>" not in text                          # raw '<' of the spec never leaks
    prov = {r[0]: r[1] for r in page.table("")[1:]}
    for k, v in pf.VERSIONS.items():
        assert prov[k] == v
    assert prov["created"] == "2025-01-02T03:04:05+00:00"
    assert prov["complete"] == "True"
    assert prov["chunks done / total"] == "4 / 4"
    assert "incomplete" not in text


def test_report_regime_table_counts(report3):
    ds, _, text = report3
    t = Page(text).table("sector")
    assert t[0] == ["sector"] + list(REGIME_NAMES)
    reg = ds["regime"].values
    for row, s in zip(t[1:], ["agro", "textiles", "software"]):
        assert row[0] == s
        k = ["agro", "textiles", "software"].index(s)
        counts = [int(c.split()[0]) for c in row[1:]]
        assert counts == [int((reg[..., k] == r).sum()) for r in range(6)]
        assert sum(counts) == 21 * 11 * 3


def test_report_equilibria_and_status_tables(report3):
    ds, _, text = report3
    page = Page(text)
    t = page.table("number of stable equilibria")
    neq = ds["n_equilibria"].values
    vals, cnt = np.unique(neq, return_counts=True)
    assert [(int(r[0]), int(r[1])) for r in t[1:]] == list(zip(vals.tolist(), cnt.tolist()))
    share = re.search(r'<span class="share-multi">([0-9.]+)%</span>', text).group(1)
    assert float(share) == pytest.approx(100 * (neq > 1).mean(), abs=0.05)
    st = {r[0]: int(r[3]) for r in page.table("status")[1:]}
    # fixture: PATH_SHAPE where i0 == 1 (11 x 3 points); WAGE|NON_FINITE at i0 == 2, i1 == 0
    assert st["path_shape"] == 33
    assert st["wage_not_converged"] == 3 and st["non_finite"] == 3
    assert st["path_not_converged"] == 0 and st["invalid_input"] == 0
    assert st["ok"] == 21 * 11 * 3 - 36
    assert set(st) == {"ok"} | {n for _, n, _ in STATUS_BITS}


def test_report_target_table(report3):
    ds, _, text = report3
    tables = [tb for tb in Page(text).tables if tb[0][0] == "sector"]
    t = next(tb for tb in tables if tb[0][1:] == ["target_ca", "target_cluster", "target_best"])
    tb = ds["target_best"].values
    for k, row in enumerate(t[1:]):
        assert int(row[3].split()[0]) == int((tb == k).sum())
    assert int(t[3][2].split()[0]) == 21 * 11 * 3             # target_cluster = last sector


def test_report_one_axis_store_uses_line_plots(tmp_path):
    ds = pf.one_axis_dataset()
    index = write_report(ds, tmp_path / "r1")
    page = Page(index.read_text(encoding="utf-8"))
    figs = report_figures(ds)
    assert len(figs) == 2 + 7 and all(f["y"] is None for f in figs)
    assert len(page.imgs) == len(figs)
    for img in page.imgs:
        assert png_size(decode_img(img["src"])) == (800, 600)
    assert all("Shown along cost_scale." in c for c in page.captions)


def test_report_incomplete_store(tmp_path):
    made = pf.make_dataset(complete=False)
    made.attrs["chunks_done"] = 0  # (as an interrupted run leaves it: the record counts)
    ds = pf.to_store(made, tmp_path / "inc.zarr")
    index = write_report(ds, tmp_path / "r")
    text = index.read_text(encoding="utf-8")
    page = Page(text)
    assert "incomplete" in text and "missing chunks: 2" in text
    prov = {r[0]: r[1] for r in page.table("")[1:]}
    assert prov["chunks done / total"] == "3 / 4"
    t = page.table("sector")
    assert t[0][-1] == "missing (not computed)"
    n_missing = len(pf.missing_rows(ds)) * 11 * 3
    full = pf.make_dataset()["regime"].values
    keep = np.ones(21, bool)
    keep[pf.missing_rows(ds)] = False
    for k, row in enumerate(t[1:]):
        assert int(row[-1]) == n_missing
        counts = [int(c.split()[0]) for c in row[1:-1]]
        assert counts == [int((full[keep][..., k] == r).sum()) for r in range(6)]


def test_report_without_title_or_spec_and_from_a_path(tmp_path):
    ds = pf.make_dataset(title=None)
    del ds.attrs["spec"]
    pf.to_store(ds, tmp_path / "s.zarr")
    index = write_report(str(tmp_path / "s.zarr"), tmp_path / "r")
    text = index.read_text(encoding="utf-8")
    assert "<h1>coordsweep results</h1>" in text
    assert "(no spec recorded)" in text
    assert len(Page(text).imgs) == 10


def test_key_variables_are_outputs():
    from coordsweep.kernels.outputs import OUTPUT_NAMES
    assert set(KEY_VARIABLES) <= set(OUTPUT_NAMES)


# --------------------------------------------------------------------------- real store

SMALL_SPEC = specs.spec_text(
    "report test <two sectors>", specs.TWO_SECTORS,
    axes={"externality_scale": (0.0, 2.0, 7), "cost_scale": (0.0, 3.0, 5),
          "labor_share": [0.5, 0.6, 0.7]})


def test_report_of_a_real_sweep(tmp_path):
    run_sweep = pytest.importorskip("coordsweep.engine.run.runner").run_sweep
    from coordsweep.engine.spec.model import parse_spec
    ds = run_sweep(parse_spec(SMALL_SPEC), store=str(tmp_path / "real.zarr"),
                   scheduler="synchronous", progress=False).dataset
    index = write_report(ds, tmp_path / "report")
    text = index.read_text(encoding="utf-8")
    page = Page(text)
    assert len(page.imgs) == 2 + 7
    for img in page.imgs:
        assert png_size(decode_img(img["src"])) == (800, 600)
    assert page.pres == [ds.attrs["spec"]]
    assert "&lt;two sectors&gt;" in text
    prov = {r[0]: r[1] for r in page.table("")[1:]}
    assert prov["coordsweep_version"] == ds.attrs["coordsweep_version"]
    assert prov["numba_version"] == ds.attrs["numba_version"]
    t = page.table("sector")
    reg = ds["regime"].values
    for k, row in enumerate(t[1:]):
        assert [int(c.split()[0]) for c in row[1:]] == \
            [int((reg[..., k] == r).sum()) for r in range(6)]
    assert all("labor_share = 0.6" in c for c in page.captions)
