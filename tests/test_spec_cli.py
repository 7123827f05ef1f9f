"""The command-line contract for bad specs (CONTRACT.md "Command line"):
`coordsweep solve SPEC` and `coordsweep run SPEC --store DIR` exit with
code 2 and print one line on stderr naming the offending key, sector and
value, without a traceback; `run` creates no store.
"""
import os
import subprocess
import sys

import pytest

import specs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GOOD = specs.spec_text("cli test", specs.only(specs.EDIT_SECTORS[:2], "price", "productivity",
                                                "externality", "cost"))


def edit(old, new, text=GOOD):
    return specs.edit(text, old, new)


def coordsweep(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "coordsweep", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def assert_bad_input(proc, fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("coordsweep: error:"), line
    for f in fragments:
        assert f in line, f"{f!r} not in {line!r}"


# one bad spec per validation rule: (id, TOML text, fragments stderr must name)
BAD_SPECS = [
    ("toml-syntax", edit("labor_share = 0.6", "labor_share = = 0.6"),
     ["TOML", "line 5"]),
    ("unknown-top-key", "colour = 'red'\n" + GOOD, ["unknown key", "'colour'"]),
    ("unknown-sector-key", edit("cost = 0.3", "cost = 0.3\nprize = 2.0"),
     ["unknown key", "'prize'", "'manu'"]),
    ("unknown-axis-key", GOOD + "\n[axes.cost_scale]\nvalues = [1.0]\nstep = 2\n",
     ["unknown key", "'step'", "cost_scale"]),
    ("unknown-run-key", GOOD + "\n[run]\nworkers = 3\n", ["unknown key", "'workers'"]),
    ("missing-labor-share", edit("labor_share = 0.6\n", ""), ["missing", "labor_share"]),
    ("missing-sector-cost", edit("cost = 0.3\n", ""), ["missing", "'cost'", "'manu'"]),
    ("bool-as-number", edit("externality = 0.5", "externality = true"),
     ["externality", "'manu'", "true"]),
    ("string-as-number", edit("price = 1.5", 'price = "1.5"'), ["price", "'manu'", "'1.5'"]),
    ("num-not-integer", GOOD + "\n[axes.cost_scale]\nstart = 0.0\nstop = 1.0\nnum = 2.5\n",
     ["cost_scale", "num", "2.5"]),
    ("duplicate-sector", edit('name = "manu"', 'name = "agro"'), ["duplicate", "'agro'"]),
    ("bad-sector-name", edit('name = "manu"', 'name = "man u"'), ["'man u'"]),
    ("no-sectors", "[model]\nlabor_share = 0.6\nsectors = []\n", ["model.sectors", "0", "1..24"]),
    ("unknown-axis", GOOD + "\n[axes.wage]\nvalues = [1.0]\n", ["unknown axis", "'wage'"]),
    ("unknown-axis-sector", GOOD + '\n[axes."cost.mining"]\nvalues = [1.0]\n',
     ["unknown sector", "'mining'"]),
    ("values-and-range", GOOD + "\n[axes.cost_scale]\nvalues = [1.0]\nnum = 3\n",
     ["cost_scale", "both"]),
    ("incomplete-range", GOOD + "\n[axes.cost_scale]\nstart = 0.0\nnum = 3\n",
     ["cost_scale", "'stop'"]),
    ("empty-axis", GOOD + "\n[axes.externality_scale]\nvalues = []\n",
     ["externality_scale", "empty"]),
    ("zero-num", GOOD + "\n[axes.externality_scale]\nstart = 0.0\nstop = 1.0\nnum = 0\n",
     ["externality_scale", "empty"]),
    ("bad-spacing", GOOD + "\n[axes.cost_scale]\nstart = 1.0\nstop = 2.0\nnum = 3\n"
                           "spacing = \"cubic\"\n", ["cost_scale", "spacing", "'cubic'"]),
    ("log-nonpositive", GOOD + "\n[axes.cost_scale]\nstart = 0.0\nstop = 2.0\nnum = 3\n"
                               "spacing = \"log\"\n", ["cost_scale", "log", "start = 0.0"]),
    ("nan-axis-value", GOOD + "\n[axes.cost_scale]\nvalues = [1.0, nan]\n",
     ["cost_scale", "values[1]", "nan"]),
    # base point outside MODEL.md's domains (reported by solve)
    ("negative-externality", edit("externality = 0.2", "externality = -0.2"),
     ["externality", "'agro'", "-0.2"]),
    ("labor-share-one", edit("labor_share = 0.6", "labor_share = 1.0"),
     ["labor_share", "1.0"]),
    ("scale-too-large", edit("cost = 0.3", "cost = 0.3\nscale = 0.45"),
     ["scale", "'manu'", "0.45"]),
    ("cost-subsidy-above-one", edit("cost = 0.1", "cost = 0.1\ncost_subsidy = 1.5"),
     ["cost_subsidy", "'agro'", "1.5"]),
    ("nan-price", edit("price = 1.5", "price = nan"), ["price", "'manu'", "nan"]),
]


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("specs")


def write(spec_dir, name, text):
    path = spec_dir / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_good_spec_solves(spec_dir):
    """Sanity check of the fixture: the unedited spec is accepted."""
    proc = coordsweep("solve", write(spec_dir, "good", GOOD))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("name, text, fragments", BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_solve_bad_spec_exits_2(spec_dir, name, text, fragments):
    path = write(spec_dir, name, text)
    proc = coordsweep("solve", path)
    assert_bad_input(proc, fragments)
    assert proc.stdout.strip() == ""


def test_solve_bad_spec_json(spec_dir):
    path = write(spec_dir, "json", edit("price = 1.5", "price = 0.0"))
    assert_bad_input(coordsweep("solve", path, "--json"), ["price", "'manu'", "0.0"])


def test_solve_missing_file(tmp_path):
    path = str(tmp_path / "does_not_exist.toml")
    assert_bad_input(coordsweep("solve", path), [path])


def test_solve_ignores_axes_but_checks_the_base_point(spec_dir):
    """A base value that an axis overrides still blocks solve (axes ignored)."""
    text = edit("productivity = 0.9", "productivity = -0.9")
    text += '\n[axes."productivity.manu"]\nvalues = [0.9, 1.1]\n'
    assert_bad_input(coordsweep("solve", write(spec_dir, "override", text)),
                     ["productivity", "'manu'", "-0.9"])


# --- run: grid points out of domain, no store created ------------------------------
def run_bad(spec_dir, tmp_path, name, text, fragments):
    store = tmp_path / "out.zarr"
    proc = coordsweep("run", write(spec_dir, name, text), "--store", str(store),
                      "--scheduler", "synchronous", "--quiet")
    assert_bad_input(proc, fragments)
    assert not store.exists(), "a bad spec must not create a store"
    assert os.listdir(tmp_path) == [], os.listdir(tmp_path)


def test_run_grid_point_out_of_domain(spec_dir, tmp_path):
    text = GOOD + """
[axes.externality_scale]
values = [1.0, 0.5, -1.0]

[axes.cost_scale]
values = [0.5, 2.0]
"""
    run_bad(spec_dir, tmp_path, "grid", text,
            ["externality of sector 'agro'", "-0.2", "externality_scale=-1.0",
             "cost_scale=0.5"])


def test_run_scale_out_of_domain_on_labor_share_axis(spec_dir, tmp_path):
    text = edit("cost = 0.3", "cost = 0.3\nscale = 0.3")
    text += "\n[axes.labor_share]\nvalues = [0.5, 0.6, 0.75]\n"
    run_bad(spec_dir, tmp_path, "scale", text,
            ["scale of sector 'manu'", "0.3", "labor_share=0.75"])


def test_run_structural_error(spec_dir, tmp_path):
    text = GOOD + "\n[axes.cost_scale]\nvalues = []\n"
    run_bad(spec_dir, tmp_path, "empty", text, ["cost_scale", "empty"])


def test_run_missing_spec_file(tmp_path):
    store = tmp_path / "out.zarr"
    spec = str(tmp_path / "nope.toml")
    proc = coordsweep("run", spec, "--store", str(store), "--scheduler", "synchronous")
    assert_bad_input(proc, [spec])
    assert not store.exists()
