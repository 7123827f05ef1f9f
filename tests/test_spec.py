"""Sweep specs (engine/spec/model.py, engine/spec/domains.py): validation rules, axis
semantics, grid blocks, grid checks and point specs.

Expected values are computed by hand in the tests (or by an independent
itertools.product construction of the grid), never taken from the code
under test.
"""
import itertools
import math
import re

import numpy as np
import pytest

from coordsweep.engine.spec.domains import check_domains, format_violation
from coordsweep.engine.errors import CoordsweepError, SpecError
from coordsweep.engine.spec.model import Axis, Spec, load_spec, parse_spec
from coordsweep.kernels.params import SECTOR_PARAMS
import specs

# Three sectors; every numeric line is unique so tests can edit it with
# str.replace. alpha = 0.6, so scale must lie in [0, 0.4).
BASE = specs.spec_text("test sweep", specs.EDIT_SECTORS, labor=1.25)

# base values of BASE by hand, sector order agro, manu, tech
HAND = {
    "labor": 1.25,
    "labor_share": 0.6,
    "price": [1.0, 1.5, 0.8],
    "productivity": [1.2, 0.9, 1.1],
    "externality": [0.2, 0.5, 1.0],
    "cost": [0.1, 0.3, 0.2],
    "scale": [0.0, 0.05, 0.0],
    "subsidy": [0.0, 0.1, 0.0],
    "cost_subsidy": [0.0, 0.25, 0.0],
}
NAMES = ["agro", "manu", "tech"]


def edit(old, new, text=BASE):
    return specs.edit(text, old, new)


def spec_error(text):
    """The SpecError message of parsing text (asserts one is raised)."""
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="t.toml")
    msg = str(info.value)
    assert "\n" not in msg, "a SpecError message is one line"
    assert isinstance(info.value, CoordsweepError)
    return msg


def assert_names(msg, *fragments):
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"


# --- a valid spec ------------------------------------------------------------
def test_base_spec_parses_with_defaults():
    spec = parse_spec(BASE)
    assert spec.name == "test sweep"
    assert spec.text == BASE
    assert spec.labor == 1.25 and spec.labor_share == 0.6
    assert spec.sector_names == NAMES
    assert set(spec.sectors) == set(SECTOR_PARAMS)
    for p in SECTOR_PARAMS:
        assert spec.sectors[p].dtype == np.float64
        np.testing.assert_array_equal(spec.sectors[p], HAND[p])
    assert spec.n_sectors == 3
    assert spec.axes == [] and spec.shape == () and spec.size == 1 and spec.dims == ()
    assert spec.run == {}


def test_labor_defaults_to_one_and_name_is_optional():
    spec = parse_spec(edit('name = "test sweep"\n', "", edit("labor = 1.25\n", "")))
    assert spec.labor == 1.0
    assert spec.name is None
    assert spec.base_point()["labor"].tolist() == [1.0]


def test_integers_are_accepted_as_numbers():
    spec = parse_spec(edit("price = 1.5", "price = 2"))
    assert spec.sectors["price"][1] == 2.0
    assert spec.sectors["price"].dtype == np.float64


def test_base_point_shapes_and_values():
    bp = parse_spec(BASE).base_point()
    assert set(bp) == {"labor", "labor_share", *SECTOR_PARAMS}
    assert bp["labor"].shape == (1,) and bp["labor_share"].shape == (1,)
    assert bp["labor"][0] == 1.25 and bp["labor_share"][0] == 0.6
    for p in SECTOR_PARAMS:
        assert bp[p].shape == (1, 3) and bp[p].dtype == np.float64
        np.testing.assert_array_equal(bp[p][0], HAND[p])


def test_run_table():
    spec = parse_spec(BASE + '\n[run]\nstore = "results/x.zarr"\nchunk_points = 500\n')
    assert spec.run == {"store": "results/x.zarr", "chunk_points": 500}


# --- TOML syntax ---------------------------------------------------------------
def test_toml_syntax_error_names_line():
    text = edit("labor_share = 0.6", "labor_share = = 0.6")
    line = text.splitlines().index("labor_share = = 0.6") + 1
    msg = spec_error(text)
    assert_names(msg, "t.toml", "TOML")
    assert re.search(rf"line {line}\b", msg), msg


def test_duplicate_axis_table_is_a_toml_error():
    text = BASE + "\n[axes.cost_scale]\nvalues = [1.0]\n[axes.cost_scale]\nvalues = [2.0]\n"
    assert_names(spec_error(text), "TOML", "line")


# --- unknown keys --------------------------------------------------------------
@pytest.mark.parametrize("text, fragments", [
    (BASE + "\ncolour = 1\n", ["colour"]),  # lands in the last sector table
    ("colour = 1\n" + BASE, ["'colour'", "top level"]),
    (edit("labor = 1.25", "labor = 1.25\nlab0r = 2.0"), ["'lab0r'", "[model]"]),
    (edit("scale = 0.05", "scale = 0.05\nprize = 3.0"), ["'prize'", "'manu'"]),
    (BASE + "\n[axes.cost_scale]\nvalues = [1.0]\nstep = 0.1\n", ["'step'", "cost_scale"]),
    (BASE + "\n[run]\nworkers = 4\n", ["'workers'", "[run]"]),
])
def test_unknown_keys(text, fragments):
    assert_names(spec_error(text), "unknown key", *fragments)


# --- missing required keys -----------------------------------------------------
def test_missing_labor_share():
    assert_names(spec_error(edit("labor_share = 0.6\n", "")), "missing", "labor_share")


def test_missing_model_table():
    assert_names(spec_error('name = "x"\n'), "missing", "model")


def test_missing_sectors():
    text = "[model]\nlabor_share = 0.6\n"
    assert_names(spec_error(text), "missing", "model.sectors")


@pytest.mark.parametrize("line, key, sector", [
    ("price = 1.5\n", "price", "manu"),
    ("productivity = 0.9\n", "productivity", "manu"),
    ("externality = 0.5\n", "externality", "manu"),
    ("cost = 0.3\n", "cost", "manu"),
    ("cost = 0.2\n", "cost", "tech"),
])
def test_missing_sector_keys(line, key, sector):
    assert_names(spec_error(edit(line, "")), "missing", f"'{key}'", f"'{sector}'")


def test_missing_sector_name_names_the_table():
    assert_names(spec_error(edit('name = "manu"\n', "")), "missing", "'name'",
                 "model.sectors[1]")


def test_optional_sector_keys_default_to_zero():
    spec = parse_spec(BASE)
    for p in ("scale", "subsidy", "cost_subsidy"):
        assert spec.sectors[p][0] == 0.0 and spec.sectors[p][2] == 0.0


# --- wrong types -----------------------------------------------------------------
@pytest.mark.parametrize("old, new, fragments", [
    ("labor_share = 0.6", "labor_share = true", ["labor_share", "true", "number"]),
    ("labor = 1.25", "labor = false", ["labor", "false"]),
    ("price = 1.5", 'price = "1.5"', ["price", "'manu'", "'1.5'"]),
    ("cost = 0.2", "cost = true", ["cost", "'tech'", "true"]),
    ("cost = 0.1", "cost = [0.1]", ["cost", "'agro'", "array"]),
    ("scale = 0.05", "scale = 1979-05-27", ["scale", "'manu'"]),
    ('name = "test sweep"', "name = 3", ["name", "3"]),
    ('name = "manu"', "name = 7", ["model.sectors[1].name", "7"]),
    ("cost_subsidy = 0.25", 'cost_subsidy = 0.25\nca_weight = "x"', ["ca_weight", "'manu'", "'x'"]),
])
def test_wrong_types(old, new, fragments):
    assert_names(spec_error(edit(old, new)), *fragments)


def test_huge_integer_is_an_error():
    assert_names(spec_error(edit("price = 1.5", "price = " + "9" * 400)), "price", "'manu'")


@pytest.mark.parametrize("num, shown", [("2.5", "2.5"), ("true", "true"), ("-3", "-3"),
                                        ('"10"', "'10'")])
def test_num_must_be_an_integer(num, shown):
    text = BASE + f"\n[axes.cost_scale]\nstart = 0.0\nstop = 1.0\nnum = {num}\n"
    assert_names(spec_error(text), "cost_scale", "num", "integer", shown)


@pytest.mark.parametrize("body, fragments", [
    ("values = 1.0", ["values", "array"]),
    ("values = [1.0, true]", ["values[1]", "true"]),
    ("values = [1.0, \"2\"]", ["values[1]", "'2'"]),
    ("start = true\nstop = 1.0\nnum = 3", ["start", "true"]),
    ("start = 0.0\nstop = \"1\"\nnum = 3", ["stop", "'1'"]),
])
def test_axis_value_types(body, fragments):
    text = BASE + f"\n[axes.cost_scale]\n{body}\n"
    assert_names(spec_error(text), "cost_scale", *fragments)


@pytest.mark.parametrize("body, fragments", [
    ("store = 3", ["run.store", "3"]),
    ('store = ""', ["run.store"]),
    ("chunk_points = 0", ["chunk_points", "0"]),
    ("chunk_points = -5", ["chunk_points", "-5"]),
    ("chunk_points = 1.5", ["chunk_points", "1.5"]),
    ("chunk_points = true", ["chunk_points", "true"]),
])
def test_run_types(body, fragments):
    assert_names(spec_error(BASE + f"\n[run]\n{body}\n"), *fragments)


def test_sectors_must_be_an_array_of_tables():
    text = "[model]\nlabor_share = 0.6\nsectors = [1, 2]\n"
    assert_names(spec_error(text), "model.sectors", "array of tables")
    text = "[model]\nlabor_share = 0.6\n[model.sectors]\nname = 'a'\n"
    assert_names(spec_error(text), "model.sectors", "array of tables")


# --- sector names ------------------------------------------------------------------
def test_duplicate_sector_names():
    msg = spec_error(edit('name = "tech"', 'name = "agro"'))
    assert_names(msg, "duplicate", "'agro'", "model.sectors[0]", "model.sectors[2]")


@pytest.mark.parametrize("bad", ["a b", "agro.x", "", "é", "a/b"])
def test_invalid_sector_names(bad):
    msg = spec_error(edit('name = "manu"', f'name = "{bad}"'))
    assert_names(msg, repr(bad), "[A-Za-z0-9_-]+")


def test_valid_sector_name_characters():
    spec = parse_spec(edit('name = "manu"', 'name = "Manu_2-b"'))
    assert spec.sector_names[1] == "Manu_2-b"


# --- number of sectors -----------------------------------------------------------
def sectors_text(n, alpha=0.6):
    parts = [f"[model]\nlabor_share = {alpha}\n"]
    for i in range(n):
        parts.append(f'[[model.sectors]]\nname = "s{i}"\nprice = 1.0\n'
                     f"productivity = {1.0 + i / 10}\nexternality = 0.5\ncost = 0.1\n")
    return "\n".join(parts)


@pytest.mark.parametrize("n", [0, 25, 30])
def test_number_of_sectors_outside_1_to_24(n):
    text = sectors_text(n) if n else "[model]\nlabor_share = 0.6\nsectors = []\n"
    assert_names(spec_error(text), "model.sectors", str(n), "1..24")


@pytest.mark.parametrize("n", [1, 24])
def test_number_of_sectors_at_the_limits(n):
    spec = parse_spec(sectors_text(n))
    assert spec.n_sectors == n
    assert spec.base_point()["price"].shape == (1, n)


# --- default ca_weight -------------------------------------------------------------
@pytest.mark.parametrize("n, expected", [
    (1, [0.0]),
    (2, [0.5, -0.5]),
    (3, [0.5, 0.0, -0.5]),
    (5, [0.5, 0.25, 0.0, -0.25, -0.5]),
])
def test_default_ca_weight(n, expected):
    spec = parse_spec(sectors_text(n))
    assert spec.ca_weight.dtype == np.float64 and spec.ca_weight.shape == (n,)
    np.testing.assert_allclose(spec.ca_weight, expected, rtol=0, atol=1e-15)


def test_default_ca_weight_24_sectors_is_evenly_spaced():
    k = parse_spec(sectors_text(24)).ca_weight
    assert k[0] == 0.5 and k[-1] == -0.5
    np.testing.assert_allclose(np.diff(k), -1.0 / 23, rtol=1e-12)


def test_explicit_ca_weight_and_defaults_for_the_others():
    spec = parse_spec(edit("cost_subsidy = 0.25", "cost_subsidy = 0.25\nca_weight = 2.0"))
    np.testing.assert_array_equal(spec.ca_weight, [0.5, 2.0, -0.5])


def test_non_finite_ca_weight():
    msg = spec_error(edit("cost_subsidy = 0.25", "cost_subsidy = 0.25\nca_weight = nan"))
    assert_names(msg, "ca_weight", "'manu'", "nan")


# --- axis names ------------------------------------------------------------------
@pytest.mark.parametrize("axis", ["foo", "labor.agro", '"labor.agro"', "ca_weight", "wage",
                                  '"externality_scale.agro"', '"sector"'])
def test_unknown_axis_names(axis):
    msg = spec_error(BASE + f"\n[axes.{axis}]\nvalues = [1.0]\n")
    assert_names(msg, "unknown axis", repr(axis.strip('"')))


def test_unknown_sector_in_axis():
    msg = spec_error(BASE + '\n[axes."productivity.nosuch"]\nvalues = [1.0]\n')
    assert_names(msg, "unknown sector", "'nosuch'", "productivity.nosuch")


def test_unquoted_dotted_axis_gets_a_hint():
    msg = spec_error(BASE + "\n[axes.productivity.agro]\nvalues = [1.0]\n")
    assert_names(msg, "productivity.agro", 'axes."productivity.agro"')


@pytest.mark.parametrize("name, kind, param, sector", [
    ("externality_scale", "externality_scale", None, None),
    ("cost_scale", "cost_scale", None, None),
    ("ca_spread", "ca_spread", None, None),
    ("labor", "global_param", "labor", None),
    ("labor_share", "global_param", "labor_share", None),
    ("subsidy", "sector_param", "subsidy", None),
    ("cost_subsidy.tech", "sector_param", "cost_subsidy", 2),
    ("price.agro", "sector_param", "price", 0),
])
def test_axis_kinds(name, kind, param, sector):
    spec = parse_spec(BASE + f'\n[axes."{name}"]\nvalues = [0.5, 0.25]\n')
    (axis,) = spec.axes
    assert isinstance(axis, Axis)
    assert (axis.name, axis.kind, axis.param, axis.sector, axis.spacing) == \
        (name, kind, param, sector, "values")
    assert axis.values.dtype == np.float64
    assert axis.values.tolist() == [0.5, 0.25]


def test_every_sector_param_is_a_valid_axis():
    for p in SECTOR_PARAMS:
        for name in (p, f"{p}.manu"):
            spec = parse_spec(BASE + f'\n[axes."{name}"]\nvalues = [0.1]\n')
            assert spec.axes[0].param == p


# --- axis definitions ------------------------------------------------------------
def axis_error(body, name="cost_scale"):
    return spec_error(BASE + f"\n[axes.{name}]\n{body}\n")


@pytest.mark.parametrize("body", [
    "values = [1.0]\nstart = 0.0",
    "values = [1.0]\nnum = 3",
    "values = [1.0]\nstart = 0.0\nstop = 1.0\nnum = 2",
])
def test_axis_with_values_and_range(body):
    assert_names(axis_error(body), "'cost_scale'", "both", "values")


@pytest.mark.parametrize("body", ["", 'spacing = "log"'])
def test_axis_with_neither_values_nor_range(body):
    assert_names(axis_error(body), "'cost_scale'", "values", "start")


@pytest.mark.parametrize("body, missing", [
    ("start = 0.0\nstop = 1.0", "'num'"),
    ("start = 0.0\nnum = 3", "'stop'"),
    ("num = 3", "'start'"),
])
def test_axis_with_incomplete_range(body, missing):
    assert_names(axis_error(body), "'cost_scale'", "missing", missing)


def test_empty_values_axis():
    assert_names(axis_error("values = []"), "'cost_scale'", "empty", "values = []")


def test_zero_num_axis():
    assert_names(axis_error("start = 0.0\nstop = 1.0\nnum = 0"), "'cost_scale'", "empty",
                 "num = 0")


@pytest.mark.parametrize("spacing, shown", [('"cubic"', "'cubic'"), ('"Log"', "'Log'"),
                                            ("1", "1"), ('"values"', "'values'")])
def test_bad_spacing(spacing, shown):
    msg = axis_error(f"start = 1.0\nstop = 2.0\nnum = 3\nspacing = {spacing}")
    assert_names(msg, "cost_scale", "spacing", shown)


def test_spacing_with_values_list_is_an_error():
    assert_names(axis_error('values = [1.0, 2.0]\nspacing = "log"'), "'cost_scale'", "spacing")


@pytest.mark.parametrize("start, stop, bad", [("0.0", "1.0", "start = 0.0"),
                                              ("-1.0", "1.0", "start = -1.0"),
                                              ("1.0", "0.0", "stop = 0.0"),
                                              ("2.0", "-0.5", "stop = -0.5")])
def test_log_spacing_needs_positive_bounds(start, stop, bad):
    msg = axis_error(f'start = {start}\nstop = {stop}\nnum = 3\nspacing = "log"')
    assert_names(msg, "'cost_scale'", "log", bad)


@pytest.mark.parametrize("body, fragments", [
    ("values = [1.0, nan]", ["values[1]", "nan"]),
    ("values = [inf]", ["values[0]", "inf"]),
    ("values = [0.5, -inf, 1.0]", ["values[1]", "-inf"]),
    ("start = nan\nstop = 1.0\nnum = 3", ["start", "nan"]),
    ("start = 0.0\nstop = inf\nnum = 3", ["stop", "inf"]),
    ("start = -1.7e308\nstop = 1.7e308\nnum = 3", ["finite"]),  # overflows in linspace
])
def test_non_finite_axis_values(body, fragments):
    assert_names(axis_error(body), "cost_scale", *fragments)


def test_axes_must_be_a_table():
    assert_names(spec_error("axes = 3\n" + BASE), "axes", "table")
    assert_names(spec_error(BASE + "\n[axes]\ncost_scale = [1.0, 2.0]\n"), "cost_scale", "table")


def test_empty_axes_table_means_no_axes():
    spec = parse_spec(BASE + "\n[axes]\n")
    assert spec.axes == [] and spec.size == 1


# --- axis values ---------------------------------------------------------------------
def test_linear_log_and_values_axes():
    text = BASE + """
[axes.externality_scale]
start = 0.0
stop = 2.0
num = 5

[axes.cost_scale]
start = 1.0
stop = 100.0
num = 3
spacing = "log"

[axes."price.tech"]
values = [3.0, 1.0, 2.0]

[axes.labor]
start = 2.0
stop = 5.0
num = 1
"""
    spec = parse_spec(text)
    assert spec.dims == ("externality_scale", "cost_scale", "price.tech", "labor")
    assert spec.shape == (5, 3, 3, 1) and spec.size == 45
    ax = spec.axes
    assert [a.spacing for a in ax] == ["linear", "log", "values", "linear"]
    np.testing.assert_allclose(ax[0].values, [0.0, 0.5, 1.0, 1.5, 2.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ax[1].values, [1.0, 10.0, 100.0], rtol=1e-14)
    assert ax[2].values.tolist() == [3.0, 1.0, 2.0]  # order kept, not sorted
    assert ax[3].values.tolist() == [2.0]  # num = 1 gives start
    for a in ax:
        assert a.values.dtype == np.float64


def test_descending_range():
    spec = parse_spec(BASE + "\n[axes.cost_scale]\nstart = 2.0\nstop = 1.0\nnum = 3\n")
    np.testing.assert_allclose(spec.axes[0].values, [2.0, 1.5, 1.0])


# --- axis semantics, by hand -------------------------------------------------------
def one_axis(name, values, extra=""):
    vals = ", ".join(repr(float(v)) for v in values)
    return parse_spec(BASE + extra + f'\n[axes."{name}"]\nvalues = [{vals}]\n')


def test_externality_scale_multiplies_every_theta():
    b = one_axis("externality_scale", [0.0, 2.0, 0.5]).block(0, 3)
    np.testing.assert_array_equal(b["externality"], [[0.0, 0.0, 0.0],
                                                     [0.4, 1.0, 2.0],
                                                     [0.1, 0.25, 0.5]])
    np.testing.assert_array_equal(b["cost"], [HAND["cost"]] * 3)
    np.testing.assert_array_equal(b["productivity"], [HAND["productivity"]] * 3)


def test_cost_scale_multiplies_every_cost():
    b = one_axis("cost_scale", [3.0, 0.0]).block(0, 2)
    np.testing.assert_allclose(b["cost"], [[0.3, 0.9, 0.6], [0.0, 0.0, 0.0]], rtol=1e-15)
    np.testing.assert_array_equal(b["externality"], [HAND["externality"]] * 2)


def test_ca_spread_with_default_weights():
    b = one_axis("ca_spread", [0.0, 1.0, -2.0]).block(0, 3)
    a = HAND["productivity"]
    expected = [[a[0], a[1], a[2]],
                [a[0] * math.exp(0.5), a[1], a[2] * math.exp(-0.5)],
                [a[0] * math.exp(-1.0), a[1], a[2] * math.exp(1.0)]]
    np.testing.assert_allclose(b["productivity"], expected, rtol=1e-15)


def test_ca_spread_with_explicit_weights():
    text = edit("cost = 0.1\n", "cost = 0.1\nca_weight = 1.0\n")
    text = edit("cost = 0.3\n", "cost = 0.3\nca_weight = 3.0\n", text)
    text = edit("cost = 0.2\n", "cost = 0.2\nca_weight = 0.0\n", text)
    spec = parse_spec(text + "\n[axes.ca_spread]\nvalues = [0.5]\n")
    a = HAND["productivity"]
    np.testing.assert_allclose(spec.block(0, 1)["productivity"][0],
                               [a[0] * math.exp(0.5), a[1] * math.exp(1.5), a[2]], rtol=1e-15)


def test_param_axis_sets_every_sector():
    b = one_axis("subsidy", [-0.5, 0.75]).block(0, 2)
    np.testing.assert_array_equal(b["subsidy"], [[-0.5] * 3, [0.75] * 3])
    np.testing.assert_array_equal(b["price"], [HAND["price"]] * 2)


def test_param_sector_axis_sets_one_sector():
    b = one_axis("cost.manu", [0.0, 7.0]).block(0, 2)
    np.testing.assert_array_equal(b["cost"], [[0.1, 0.0, 0.2], [0.1, 7.0, 0.2]])


def test_global_axes():
    b = one_axis("labor", [2.0, 3.0]).block(0, 2)
    assert b["labor"].tolist() == [2.0, 3.0] and b["labor_share"].tolist() == [0.6, 0.6]
    b = one_axis("labor_share", [0.3, 0.9]).block(0, 2)
    assert b["labor_share"].tolist() == [0.3, 0.9] and b["labor"].tolist() == [1.25, 1.25]


def test_order_productivity_sector_then_ca_spread():
    spec = parse_spec(BASE + """
[axes."productivity.agro"]
values = [2.0, 3.0]

[axes.ca_spread]
values = [1.0]
""")
    b = spec.block(0, 2)
    a = HAND["productivity"]
    # productivity.agro is set first, then ca_spread scales it (k_agro = 1/2)
    np.testing.assert_allclose(b["productivity"],
                               [[2.0 * math.exp(0.5), a[1], a[2] * math.exp(-0.5)],
                                [3.0 * math.exp(0.5), a[1], a[2] * math.exp(-0.5)]],
                               rtol=1e-15)


def test_order_ca_spread_then_productivity_sector():
    spec = parse_spec(BASE + """
[axes.ca_spread]
values = [1.0]

[axes."productivity.agro"]
values = [2.0, 3.0]
""")
    b = spec.block(0, 2)
    a = HAND["productivity"]
    # ca_spread first, then productivity.agro overrides agro's value
    np.testing.assert_allclose(b["productivity"],
                               [[2.0, a[1], a[2] * math.exp(-0.5)],
                                [3.0, a[1], a[2] * math.exp(-0.5)]],
                               rtol=1e-15)
    assert b["productivity"][0, 0] == 2.0 and b["productivity"][1, 0] == 3.0


def test_order_externality_param_then_scale_and_reverse():
    first = parse_spec(BASE + '\n[axes.externality]\nvalues = [0.4]\n'
                              '\n[axes.externality_scale]\nvalues = [3.0]\n')
    np.testing.assert_allclose(first.block(0, 1)["externality"][0], [1.2] * 3, rtol=1e-15)
    second = parse_spec(BASE + '\n[axes.externality_scale]\nvalues = [3.0]\n'
                               '\n[axes.externality]\nvalues = [0.4]\n')
    assert second.block(0, 1)["externality"][0].tolist() == [0.4] * 3


def test_order_cost_scale_and_cost_sector():
    a = parse_spec(BASE + '\n[axes."cost.tech"]\nvalues = [1.0]\n'
                          '\n[axes.cost_scale]\nvalues = [0.5]\n').block(0, 1)
    b = parse_spec(BASE + '\n[axes.cost_scale]\nvalues = [0.5]\n'
                          '\n[axes."cost.tech"]\nvalues = [1.0]\n').block(0, 1)
    np.testing.assert_allclose(a["cost"][0], [0.05, 0.15, 0.5], rtol=1e-15)
    np.testing.assert_allclose(b["cost"][0], [0.05, 0.15, 1.0], rtol=1e-15)


# --- block() vs an independent full grid -----------------------------------------------
GRID_TEXT = BASE + """
[axes."productivity.agro"]
values = [0.8, 1.0, 1.3]

[axes.ca_spread]
start = -1.0
stop = 1.0
num = 4

[axes.externality_scale]
values = [0.0, 1.5]

[axes.labor_share]
values = [0.5, 0.7]

[axes.cost]
values = [0.05, 0.4, 0.0]
"""


def manual_grid(spec_values, ca_weight):
    """The grid of GRID_TEXT built point by point with itertools.product,
    applying the axes of GRID_TEXT by hand in their order."""
    rows = []
    for pa, ca, es, ls, c in itertools.product(*spec_values):
        prod = list(HAND["productivity"])
        prod[0] = pa
        prod = [x * math.exp(ca * k) for x, k in zip(prod, ca_weight)]
        ext = [x * es for x in HAND["externality"]]
        rows.append({
            "labor": HAND["labor"], "labor_share": ls,
            "price": HAND["price"], "productivity": prod, "externality": ext,
            "cost": [c] * 3, "scale": HAND["scale"], "subsidy": HAND["subsidy"],
            "cost_subsidy": HAND["cost_subsidy"],
        })
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


@pytest.fixture(scope="module")
def grid_spec():
    return parse_spec(GRID_TEXT)


@pytest.fixture(scope="module")
def full_grid():
    values = [[0.8, 1.0, 1.3], [-1.0, -1.0 / 3, 1.0 / 3, 1.0], [0.0, 1.5], [0.5, 0.7],
              [0.05, 0.4, 0.0]]
    return manual_grid(values, [0.5, 0.0, -0.5])


def test_grid_shape(grid_spec):
    assert grid_spec.shape == (3, 4, 2, 2, 3)
    assert grid_spec.size == 144
    assert grid_spec.dims == ("productivity.agro", "ca_spread", "externality_scale",
                              "labor_share", "cost")


@pytest.mark.parametrize("start, stop", [(0, 144), (0, 1), (143, 144), (5, 77), (70, 70),
                                         (13, 14), (36, 108)])
def test_block_equals_slice_of_full_grid(grid_spec, full_grid, start, stop):
    b = grid_spec.block(start, stop)
    p = stop - start
    assert set(b) == set(full_grid)
    for k, v in b.items():
        assert v.dtype == np.float64
        assert v.shape == ((p,) if k in ("labor", "labor_share") else (p, 3))
        np.testing.assert_allclose(v, full_grid[k][start:stop], rtol=1e-14, atol=0,
                                   err_msg=k)


def test_blocks_concatenate_to_the_whole_grid(grid_spec):
    whole = grid_spec.block(0, grid_spec.size)
    parts = [grid_spec.block(s, min(s + 25, 144)) for s in range(0, 144, 25)]
    for k in whole:
        np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), whole[k])


def test_block_does_not_mutate_the_spec(grid_spec):
    before = {p: grid_spec.sectors[p].copy() for p in SECTOR_PARAMS}
    a = grid_spec.block(0, 144)
    a["productivity"][:] = -1.0
    b = grid_spec.block(0, 144)
    assert (b["productivity"] > 0).all()
    for p in SECTOR_PARAMS:
        np.testing.assert_array_equal(grid_spec.sectors[p], before[p])


@pytest.mark.parametrize("start, stop", [(-1, 3), (5, 4), (0, 145)])
def test_block_outside_the_grid(grid_spec, start, stop):
    with pytest.raises(IndexError):
        grid_spec.block(start, stop)


def test_block_without_axes_is_the_base_point():
    spec = parse_spec(BASE)
    b = spec.block(0, 1)
    bp = spec.base_point()
    for k in bp:
        np.testing.assert_array_equal(b[k], bp[k])


# --- domains of the base point -------------------------------------------------------
@pytest.mark.parametrize("old, new, fragments", [
    ("labor = 1.25", "labor = 0.0", ["labor", "0.0"]),
    ("labor = 1.25", "labor = -2.0", ["labor", "-2.0"]),
    ("labor_share = 0.6", "labor_share = 0.0", ["labor_share", "0.0"]),
    ("labor_share = 0.6", "labor_share = 1.0", ["labor_share", "1.0"]),
    ("price = 1.5", "price = 0.0", ["price", "'manu'", "0.0"]),
    ("productivity = 1.1", "productivity = -1.1", ["productivity", "'tech'", "-1.1"]),
    ("externality = 0.2", "externality = -0.5", ["externality", "'agro'", "-0.5"]),
    ("cost = 0.3", "cost = -0.01", ["cost", "'manu'", "-0.01"]),
    ("scale = 0.05", "scale = 0.4", ["scale", "'manu'", "0.4"]),
    ("scale = 0.05", "scale = -0.1", ["scale", "'manu'", "-0.1"]),
    ("subsidy = 0.1", "subsidy = -1.0", ["subsidy", "'manu'", "-1.0"]),
    ("cost_subsidy = 0.25", "cost_subsidy = 1.5", ["cost_subsidy", "'manu'", "1.5"]),
    ("cost_subsidy = 0.25", "cost_subsidy = -0.25", ["cost_subsidy", "'manu'", "-0.25"]),
    ("price = 1.5", "price = nan", ["price", "'manu'", "nan"]),
    ("cost = 0.2", "cost = inf", ["cost", "'tech'", "inf"]),
    ("labor = 1.25", "labor = inf", ["labor", "inf"]),
])
def test_base_point_domain_violations(old, new, fragments):
    spec = parse_spec(edit(old, new), source="t.toml")  # parsing does not check domains
    with pytest.raises(SpecError) as info:
        spec.base_point()
    msg = str(info.value)
    assert "\n" not in msg
    assert_names(msg, *fragments)


@pytest.mark.parametrize("old, new", [
    ("externality = 0.2", "externality = 0.0"),
    ("cost = 0.3", "cost = 0.0"),
    ("scale = 0.05", "scale = 0.0"),
    ("scale = 0.05", "scale = 0.3999"),
    ("subsidy = 0.1", "subsidy = -0.999"),
    ("cost_subsidy = 0.25", "cost_subsidy = 1.0"),
    ("cost_subsidy = 0.25", "cost_subsidy = 0.0"),
    ("labor_share = 0.6", "labor_share = 0.94"),  # manu scale 0.05 < 0.06
])
def test_base_point_domain_boundaries_inside(old, new):
    parse_spec(edit(old, new)).base_point()


def test_scale_bound_follows_labor_share():
    text = edit("scale = 0.05", "scale = 0.3", edit("labor_share = 0.6", "labor_share = 0.75"))
    with pytest.raises(SpecError) as info:
        parse_spec(text).base_point()
    assert_names(str(info.value), "scale", "'manu'", "0.3", "0.25")


def test_several_violations_report_a_deterministic_first():
    text = edit("cost = 0.2", "cost = -1.0", edit("price = 1.5", "price = -1.0"))
    text = edit("labor_share = 0.6", "labor_share = 2.0", text)
    msgs = set()
    for _ in range(3):
        with pytest.raises(SpecError) as info:
            parse_spec(text).base_point()
        msgs.add(str(info.value))
    assert len(msgs) == 1
    # globals come first
    assert_names(msgs.pop(), "labor_share", "2.0")


# --- base values overridden by axes ------------------------------------------------
def test_overridden_base_value_does_not_block_the_grid():
    text = edit("productivity = 1.2", "productivity = -1.0")
    spec = parse_spec(text + '\n[axes."productivity.agro"]\nvalues = [1.0, 2.0]\n')
    spec.check_grid()  # every grid point has a valid productivity
    with pytest.raises(SpecError) as info:
        spec.base_point()  # but solve uses the base point
    assert_names(str(info.value), "productivity", "'agro'", "-1.0")


def test_overridden_global_does_not_block_the_grid():
    text = edit("labor_share = 0.6", "labor_share = 1.5")
    spec = parse_spec(text + "\n[axes.labor_share]\nstart = 0.3\nstop = 0.7\nnum = 5\n")
    spec.check_grid()
    with pytest.raises(SpecError):
        spec.base_point()


# --- check_grid ------------------------------------------------------------------
CHECK_TEXT = BASE + """
[axes.externality_scale]
values = [1.0, -1.0, 2.0]

[axes.cost_scale]
values = [1.0, 0.5, -2.0]

[axes."externality.manu"]
values = [0.5, 3.0]
"""


def test_check_grid_reports_lowest_flat_index():
    spec = parse_spec(CHECK_TEXT, source="t.toml")
    # brute force, by hand: externality_i = theta_i * es (manu: set), cost_i = c_i * cs
    first = None
    for flat, (es, cs, em) in enumerate(itertools.product([1.0, -1.0, 2.0],
                                                          [1.0, 0.5, -2.0], [0.5, 3.0])):
        ext = [0.2 * es, em, 1.0 * es]
        cost = [0.1 * cs, 0.3 * cs, 0.2 * cs]
        if min(ext) < 0 or min(cost) < 0:
            first = (flat, es, cs, em)
            break
    flat, es, cs, em = first
    assert flat > 0  # the loop found a point that is not the first
    for block_points in (1, 2, 3, 4, 7, 200_000):
        with pytest.raises(SpecError) as info:
            spec.check_grid(block_points=block_points)
        msg = str(info.value)
        assert "\n" not in msg
        # at that point agro's cost comes first (globals, then sector by sector)
        assert_names(msg, "cost of sector 'agro'", repr(0.1 * cs),
                     f"at grid point externality_scale={es!r}, cost_scale={cs!r}, "
                     f"externality.manu={em!r}")


def test_check_grid_message_format():
    spec = parse_spec(BASE + """
[axes.externality_scale]
values = [1.0, -1.0]

[axes.cost_scale]
values = [0.5]
""")
    with pytest.raises(SpecError) as info:
        spec.check_grid()
    assert str(info.value).endswith(
        "externality of sector 'agro' is -0.2, outside [0, inf) "
        "at grid point externality_scale=-1.0, cost_scale=0.5")


def test_check_grid_violation_in_a_later_block():
    # 1000 points; the last 100 (flat 900..999) have price of tech = 0
    spec = parse_spec(BASE + """
[axes."price.tech"]
values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0]

[axes.labor]
start = 1.0
stop = 2.0
num = 100
""")
    for block_points in (3, 64, 899, 900, 901, 1000, 10_000):
        with pytest.raises(SpecError) as info:
            spec.check_grid(block_points=block_points)
        assert_names(str(info.value), "price of sector 'tech' is 0.0",
                     "at grid point price.tech=0.0, labor=1.0")


def test_check_grid_scale_against_labor_share_axis():
    spec = parse_spec(edit("scale = 0.05", "scale = 0.25")
                      + "\n[axes.labor_share]\nvalues = [0.5, 0.7, 0.8]\n")
    with pytest.raises(SpecError) as info:
        spec.check_grid()
    assert_names(str(info.value), "scale of sector 'manu'", "0.25", "labor_share=0.8")


def test_check_grid_passes_on_a_valid_grid(grid_spec):
    grid_spec.check_grid()
    grid_spec.check_grid(block_points=5)


def test_check_grid_without_axes_checks_the_base_point():
    parse_spec(BASE).check_grid()
    with pytest.raises(SpecError) as info:
        parse_spec(edit("cost = 0.3", "cost = -3.0")).check_grid()
    assert_names(str(info.value), "cost", "'manu'", "-3.0")


# --- check_domains directly ----------------------------------------------------------
def block_of(p, n=2):
    return {
        "labor": np.ones(p), "labor_share": np.full(p, 0.5),
        "price": np.ones((p, n)), "productivity": np.ones((p, n)),
        "externality": np.full((p, n), 0.5), "cost": np.full((p, n), 0.1),
        "scale": np.zeros((p, n)), "subsidy": np.zeros((p, n)),
        "cost_subsidy": np.zeros((p, n)),
    }


def test_check_domains_valid_block():
    assert check_domains(block_of(10), ["a", "b"]) is None
    assert check_domains(block_of(0), ["a", "b"]) is None


def test_check_domains_first_offending_point():
    b = block_of(10)
    b["cost"][7, 1] = -1.0
    b["subsidy"][4, 0] = -2.0
    b["labor"][9] = 0.0
    v = check_domains(b, ["a", "b"])
    assert tuple(v) == (4, "subsidy", "a", -2.0)
    assert format_violation(v, b) == "subsidy of sector 'a' is -2.0, outside (-1, inf)"


def test_check_domains_order_within_a_point():
    b = block_of(3)
    b["cost_subsidy"][1, 0] = 2.0
    b["price"][1, 1] = np.nan
    assert tuple(check_domains(b, ["a", "b"]))[:3] == (1, "cost_subsidy", "a")
    b["labor"][1] = np.inf
    v = check_domains(b, ["a", "b"])
    assert v.index == 1 and v.param == "labor" and v.sector is None
    assert "labor is inf" in format_violation(v, b)


def test_check_domains_scale_uses_labor_share_of_the_point():
    b = block_of(3)
    b["labor_share"][:] = [0.5, 0.7, 0.6]  # bounds on scale: 0.5, 0.3, 0.4
    b["scale"][:, 1] = 0.35
    v = check_domains(b, ["a", "b"])
    assert (v.index, v.param, v.sector, v.value) == (1, "scale", "b", 0.35)
    assert_names(format_violation(v, b), "scale of sector 'b' is 0.35")


# --- point_spec_text -----------------------------------------------------------------
@pytest.mark.parametrize("index", [(0, 0, 0, 0, 0), (2, 3, 1, 1, 2), (1, 2, 0, 1, 1)])
def test_point_spec_text_round_trips(grid_spec, index):
    text = grid_spec.point_spec_text(index)
    point = parse_spec(text)
    assert point.axes == [] and point.size == 1
    assert point.sector_names == grid_spec.sector_names
    flat = int(np.ravel_multi_index(index, grid_spec.shape))
    expected = grid_spec.block(flat, flat + 1)
    got = point.base_point()
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k], err_msg=k)
    np.testing.assert_array_equal(point.ca_weight, grid_spec.ca_weight)


def test_point_spec_text_exact_floats_and_escaped_name():
    text = edit('name = "test sweep"', 'name = "tab\\there \\"quoted\\" back\\\\slash"')
    text = edit("price = 1.0", "price = 0.30000000000000004", text)
    text = edit("cost = 0.1", "cost = 1e-300", text)
    spec = parse_spec(text + "\n[axes.externality_scale]\nvalues = [0.1, 3.0]\n")
    point = parse_spec(spec.point_spec_text((0,)))
    assert point.name == spec.name
    assert point.sectors["price"][0] == 0.30000000000000004
    assert point.sectors["cost"][0] == 1e-300
    np.testing.assert_array_equal(point.base_point()["externality"], spec.block(0, 1)["externality"])


def test_point_spec_text_without_axes():
    spec = parse_spec(BASE)
    point = parse_spec(spec.point_spec_text(()))
    for k, v in spec.base_point().items():
        np.testing.assert_array_equal(point.base_point()[k], v)


def test_point_spec_text_bad_index(grid_spec):
    with pytest.raises(IndexError):
        grid_spec.point_spec_text((3, 0, 0, 0, 0))
    with pytest.raises(IndexError):
        grid_spec.point_spec_text((0, 0))


# --- files -------------------------------------------------------------------
def test_load_spec_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert_names(str(info.value), str(path))


def test_load_spec_directory(tmp_path):
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    assert_names(str(info.value), str(tmp_path))


def test_load_spec_not_utf8(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert_names(str(info.value), str(path))


def test_load_spec_reads_text_verbatim(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(BASE + "# trailing comment\n", encoding="utf-8")
    spec = load_spec(path)
    assert spec.text == BASE + "# trailing comment\n"
    assert isinstance(spec, Spec)


def test_errors_name_the_source_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(edit("price = 1.5", "price = true"), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).startswith(str(path))


# --- example specs --------------------------------------------------------------
@pytest.mark.parametrize("name, n, naxes, lo, hi", [
    ("two_sectors.toml", 2, 2, 5_000, 20_000),
    ("five_sectors.toml", 5, 3, 10_000, 100_000),
])
def test_example_specs_are_valid(name, n, naxes, lo, hi):
    import pathlib
    spec = load_spec(pathlib.Path(__file__).resolve().parents[1] / "sweeps" / name)
    assert spec.n_sectors == n and len(spec.axes) == naxes
    assert lo <= spec.size <= hi
    spec.base_point()
    spec.check_grid()


def test_five_sectors_example_has_ca_spread_and_a_sector_axis():
    import pathlib
    spec = load_spec(pathlib.Path(__file__).resolve().parents[1] / "sweeps" / "five_sectors.toml")
    kinds = [(a.kind, a.sector) for a in spec.axes]
    assert ("ca_spread", None) in kinds
    assert any(k == "sector_param" and s is not None for k, s in kinds)


def test_two_sectors_example_covers_coordination_failure_and_other_regimes():
    """Closed forms of MODEL.md with eta = tau = sigma = 0, evaluated by hand
    on the corners and centre of the two-sector grid: some points must be in
    regime coordination_failure (w(S0 + {i}) <= threshold wage) and some not."""
    import pathlib
    spec = load_spec(pathlib.Path(__file__).resolve().parents[1] / "sweeps" / "two_sectors.toml")
    b = spec.block(0, spec.size)
    al = b["labor_share"][:, None]
    eps = 1.0 / (1.0 - al)
    L = b["labor"][:, None]
    z = (b["price"] * b["productivity"]) ** eps
    th, c = b["externality"], b["cost"]
    active = (th > 0) & (c > 0)  # neither inert nor spontaneous
    spont = (th > 0) & (c == 0)
    m1 = (1 + th) ** eps
    x0 = np.where(spont, z * m1, z).sum(axis=1, keepdims=True)
    w_with_i = al * ((x0 - z + z * m1) / L) ** (1 - al)
    with np.errstate(divide="ignore", invalid="ignore"):
        wbar = al * ((1 - al) * z * ((1 + th) ** eps - 1) / c) ** ((1 - al) / al)
    cf = active & (w_with_i <= wbar)
    assert cf.any() and (active & ~cf).any()
    assert (th == 0).any() and spont.any()


def test_load_spec_with_byte_order_mark(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode("utf-8"))
    spec = load_spec(path)
    assert spec.sector_names == NAMES and spec.text == BASE


def test_specs_and_axes_compare_by_identity():
    a = parse_spec(BASE + "\n[axes.cost_scale]\nvalues = [1.0, 2.0]\n")
    b = parse_spec(a.text)
    assert a == a and a != b  # no "truth value of an array is ambiguous"
    assert a.axes[0] == a.axes[0] and a.axes[0] != b.axes[0]
