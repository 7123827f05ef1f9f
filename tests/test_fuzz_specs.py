"""Fuzzed specs: hypothesis builds bad specs from a valid one --
wrong types, missing and unknown keys, NaN and +-inf, values outside the
domains before and after the axes apply, empty and huge axes, duplicate
sector names, malformed and non-UTF-8 TOML, designs with bad bounds -- and
every one gives exit 2 and one line naming the key, never a traceback and
never a store. The number tried is printed (and recorded as a test
property) by the last test of the module.

The examples are derandomized (the same ones on every run, so the suite
gives the same verdict twice); COORDSWEEP_FUZZ_RANDOM=1 draws new ones,
COORDSWEEP_FUZZ_EXAMPLES=N sets how many.
"""
import math
import os
import tomllib

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine_helpers import main_inprocess

TRIED = {}
EXAMPLES = int(os.environ.get("COORDSWEEP_FUZZ_EXAMPLES", 60))
RANDOM = os.environ.get("COORDSWEEP_FUZZ_RANDOM", "0").strip() not in ("", "0")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def base_doc():
    return {
        "name": "fuzz",
        "model": {
            "labor": 1.0, "labor_share": 0.6,
            "sectors": [
                {"name": "agro", "price": 1.0, "productivity": 1.2, "externality": 0.3,
                 "cost": 0.1, "scale": 0.1},
                {"name": "manu", "price": 1.0, "productivity": 1.0, "externality": 0.8,
                 "cost": 0.15, "subsidy": -0.1, "cost_subsidy": 0.2},
            ],
        },
        "axes": {
            "externality_scale": {"start": 0.0, "stop": 2.0, "num": 3},
            "cost.manu": {"values": [0.05, 0.1]},
        },
        "run": {"chunk_points": 4},
    }


# --- a small TOML writer (any value: floats incl. nan/inf, nested tables) -------------
def _key(k):
    import re
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else '"' + k.replace('"', '\\"') + '"'


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return "".join(['"'] + [c if c.isprintable() and c not in '"\\'
                                else f"\\U{ord(c):08X}" for c in v] + ['"'])
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def dumps(doc, prefix=""):
    lines, tables = [], []
    for k, v in doc.items():
        if isinstance(v, dict) and v and all(not isinstance(x, (int, float, str, bool))
                                             or True for x in v.values()):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, list):
            for item in v:
                out += f"\n[[{name}]]\n" + dumps(item, name)
        else:
            out += f"\n[{name}]\n" + dumps(v, name)
    return out


# --- checking one bad spec ------------------------------------------------------------
def check_bad(tmp_path_factory, data, fragment, kind):
    d = tmp_path_factory.mktemp("fz", numbered=True)
    spec = d / "spec.toml"
    spec.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    store = d / "out.zarr"
    code, out, err = main_inprocess("run", spec, "--store", store, "--scheduler",
                                    "synchronous", "--quiet")
    TRIED[kind] = TRIED.get(kind, 0) + 1
    lines = err.strip().splitlines()
    assert code == 2, (kind, data, out, err)
    assert len(lines) == 1 and lines[0].startswith("coordsweep: error: "), err
    assert "Traceback" not in err
    assert fragment.lower() in lines[0].lower(), (fragment, lines[0])
    assert not os.path.exists(store), "a store was created"
    assert os.listdir(d) == ["spec.toml"]


# paths of scalar keys: (where, key, expected name in the message)
SCALARS = [(("model",), "labor_share"), (("model",), "labor"),
           (("model", "sectors", 0), "price"), (("model", "sectors", 1), "productivity"),
           (("model", "sectors", 0), "externality"), (("model", "sectors", 0), "cost"),
           (("model", "sectors", 0), "scale"), (("model", "sectors", 1), "subsidy"),
           (("model", "sectors", 1), "cost_subsidy"),
           (("axes", "externality_scale"), "start"), (("axes", "externality_scale"), "stop"),
           (("axes", "externality_scale"), "num"), (("run",), "chunk_points"),
           (("run",), "store"), (("run",), "max_points"), ((), "name")]


def _at(doc, where):
    for w in where:
        doc = doc[w]
    return doc


WRONG = st.one_of(st.text(max_size=5), st.booleans(), st.lists(st.text(max_size=3), max_size=2),
                  st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2))


@SETTINGS
@given(path=st.sampled_from(SCALARS), value=WRONG)
def test_wrong_types(tmp_path_factory, path, value):
    where, key = path
    if key in ("store", "name"):
        assume(not isinstance(value, str))
    if key == "store" and isinstance(value, dict):
        assume(False)  # a [run.store] table: reported as run.store, fine, but covered below
    doc = base_doc()
    _at(doc, where)[key] = value
    check_bad(tmp_path_factory, dumps(doc), key, "wrong type")


MISSING = [(("model",), "labor_share", "labor_share"), ((), "model", "model"),
           (("model",), "sectors", "sectors"), (("model", "sectors", 0), "price", "price"),
           (("model", "sectors", 1), "productivity", "productivity"),
           (("model", "sectors", 0), "externality", "externality"),
           (("model", "sectors", 1), "cost", "cost"), (("model", "sectors", 0), "name", "name"),
           (("axes", "externality_scale"), "num", "num"),
           (("axes", "externality_scale"), "start", "start"),
           (("axes", "cost.manu"), "values", "cost.manu")]


@SETTINGS
@given(item=st.sampled_from(MISSING))
def test_missing_keys(tmp_path_factory, item):
    where, key, fragment = item
    doc = base_doc()
    del _at(doc, where)[key]
    check_bad(tmp_path_factory, dumps(doc), fragment, "missing key")


ALLOWED = {"name", "model", "axes", "run", "labor", "labor_share", "sectors", "price",
           "productivity", "externality", "cost", "scale", "subsidy", "cost_subsidy",
           "ca_weight", "start", "stop", "num", "values", "spacing", "store",
           "chunk_points", "max_points", "externality_scale", "cost_scale", "ca_spread",
           "design", "solver", "cluster", "part", "parts"}


@SETTINGS
@given(where=st.sampled_from([(), ("model",), ("model", "sectors", 0), ("axes",),
                              ("axes", "externality_scale"), ("run",)]),
       key=st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True))
def test_unknown_keys(tmp_path_factory, where, key):
    assume(key not in ALLOWED)
    doc = base_doc()
    table = _at(doc, where)
    table[key] = {"start": 0.0, "stop": 1.0, "num": 2} if where == ("axes",) else 1.0
    check_bad(tmp_path_factory, dumps(doc), key, "unknown key")


NOT_OVERRIDDEN = [(("model",), "labor_share"), (("model",), "labor"),
                  (("model", "sectors", 0), "price"), (("model", "sectors", 1), "productivity"),
                  (("model", "sectors", 0), "externality"), (("model", "sectors", 0), "cost"),
                  (("model", "sectors", 0), "scale"), (("model", "sectors", 1), "subsidy"),
                  (("model", "sectors", 1), "cost_subsidy")]


@SETTINGS
@given(path=st.sampled_from(NOT_OVERRIDDEN + [(("axes", "externality_scale"), "start"),
                                              (("axes", "externality_scale"), "stop")]),
       value=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_nan_and_inf(tmp_path_factory, path, value):
    where, key = path
    doc = base_doc()
    _at(doc, where)[key] = value
    fragment = "externality_scale" if where[:1] == ("axes",) else key
    check_bad(tmp_path_factory, dumps(doc), fragment, "nan/inf")


OUTSIDE = {"labor_share": [0.0, 1.0, -0.5, 1.5], "labor": [0.0, -1.0],
           "price": [0.0, -1.0], "productivity": [0.0, -0.1], "externality": [-0.1],
           "cost": [-1e-9, -2.0], "scale": [-0.1, 0.4, 0.9], "subsidy": [-1.0, -3.0],
           "cost_subsidy": [-0.1, 1.1]}


@SETTINGS
@given(path=st.sampled_from(NOT_OVERRIDDEN), data=st.data())
def test_outside_domain_before_axes(tmp_path_factory, path, data):
    where, key = path
    doc = base_doc()
    _at(doc, where)[key] = data.draw(st.sampled_from(OUTSIDE[key]))
    check_bad(tmp_path_factory, dumps(doc), key, "outside domain (base)")


AFTER = [("externality_scale", {"start": -1.0, "stop": 1.0, "num": 3}, "externality"),
         ("cost.manu", {"values": [0.1, -0.1]}, "cost"),
         ("labor_share", {"values": [0.5, 1.2]}, "labor_share"),
         ("scale", {"values": [0.0, 0.45]}, "scale"),
         ("ca_spread", {"values": [0.0, 2000.0]}, "productivity"),
         ("cost_scale", {"start": 1.0, "stop": -1.0, "num": 5}, "cost"),
         ("subsidy.agro", {"values": [0.0, -1.0]}, "subsidy")]


@SETTINGS
@given(item=st.sampled_from(AFTER), position=st.integers(0, 2))
def test_outside_domain_after_axes(tmp_path_factory, item, position):
    name, table, fragment = item
    doc = base_doc()
    axes = list(doc["axes"].items())
    axes = [a for a in axes if a[0] != name]
    axes.insert(min(position, len(axes)), (name, table))
    doc["axes"] = dict(axes)
    check_bad(tmp_path_factory, dumps(doc), fragment, "outside domain (after axes)")


@SETTINGS
@given(which=st.sampled_from([("externality_scale", {"start": 0.0, "stop": 1.0, "num": 0}),
                              ("cost.manu", {"values": []}),
                              ("productivity.agro", {"values": []})]))
def test_empty_axes(tmp_path_factory, which):
    name, table = which
    doc = base_doc()
    doc["axes"][name] = table
    check_bad(tmp_path_factory, dumps(doc), name, "empty axis")


@settings(max_examples=max(5, EXAMPLES // 6), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(nums=st.lists(st.integers(10**3, 10**7), min_size=3, max_size=3))
def test_huge_axes(tmp_path_factory, nums):
    assume(math.prod(nums) * 2 > 10**10)
    doc = base_doc()
    doc["axes"] = {"externality_scale": {"start": 0.0, "stop": 2.0, "num": nums[0]},
                   "cost_scale": {"start": 0.0, "stop": 2.0, "num": nums[1]},
                   "ca_spread": {"start": 0.0, "stop": 1.0, "num": nums[2]},
                   "cost.manu": {"values": [0.05, 0.1]}}
    check_bad(tmp_path_factory, dumps(doc), "max_points", "huge axes")


@SETTINGS
@given(j=st.integers(0, 1), name=st.sampled_from(["agro", "manu", "x"]))
def test_duplicate_sector_names(tmp_path_factory, j, name):
    doc = base_doc()
    doc["model"]["sectors"].append(dict(doc["model"]["sectors"][j], name=name))
    doc["model"]["sectors"][j]["name"] = name
    check_bad(tmp_path_factory, dumps(doc), "duplicate sector name", "duplicate names")


@SETTINGS
@given(pos=st.floats(0, 1), junk=st.text(alphabet='[]{}="\',.#\n =', min_size=1, max_size=4))
def test_malformed_toml(tmp_path_factory, pos, junk):
    text = dumps(base_doc())
    k = int(pos * len(text))
    bad = text[:k] + junk + text[k:]
    try:
        tomllib.loads(bad)
        assume(False)  # still TOML: not this test's case
    except tomllib.TOMLDecodeError:
        pass
    check_bad(tmp_path_factory, bad, "TOML syntax error", "malformed TOML")


@SETTINGS
@given(pos=st.floats(0, 1), junk=st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80",
                                                    b"\x80", b"\xf0\x28\x8c\x28", b"\xfe\xfe"]))
def test_non_utf8(tmp_path_factory, pos, junk):
    data = dumps(base_doc()).encode()
    k = int(pos * len(data))
    check_bad(tmp_path_factory, data[:k] + junk + data[k:], "UTF-8", "non-UTF-8")


@SETTINGS
@given(low=st.floats(-2, 2, allow_nan=False), delta=st.floats(0, 2, allow_nan=False),
       method=st.sampled_from(["sobol", "lhs", "random", "morris"]))
def test_designs_with_bad_bounds(tmp_path_factory, low, delta, method):
    doc = base_doc()
    doc["design"] = {"method": method, "samples": 8, "seed": 1,
                     "params": {"cost_scale": {"low": low, "high": low - delta}}}
    check_bad(tmp_path_factory, dumps(doc), "design", "design bad bounds")


@SETTINGS
@given(item=st.sampled_from([("price.agro", -1.0, 1.0, "price"),
                             ("labor_share", 0.5, 1.5, "labor_share"),
                             ("cost_subsidy.manu", 0.5, 2.0, "cost_subsidy"),
                             ("externality_scale", -1.0, 1.0, "externality")]),
       method=st.sampled_from(["sobol", "lhs", "random", "morris"]))
def test_designs_outside_domain(tmp_path_factory, item, method):
    name, low, high, fragment = item
    doc = base_doc()
    if name == "externality_scale":
        del doc["axes"]["externality_scale"]
    doc["design"] = {"method": method, "samples": 8, "seed": 1,
                     "params": {name: {"low": low, "high": high}}}
    check_bad(tmp_path_factory, dumps(doc), fragment, "design outside domain")


def test_zz_count_fuzzed_specs(record_property):
    total = sum(TRIED.values())
    print(f"\nfuzzed specs tried: {total} ({', '.join(f'{k} {v}' for k, v in TRIED.items())})")
    record_property("fuzzed_specs", total)
    if TRIED:  # (when the module ran as a whole)
        assert total >= 10 * len(TRIED)
