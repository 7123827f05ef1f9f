"""Every key of every ready sweep (sweeps/*.toml) replaced by every kind of
edge value -- wrong types, zero, negative, huge and non-finite numbers, the
integers at and past int64, empty and nested containers -- or deleted: the
parser either accepts the spec or refuses it with a one-line CoordsweepError,
and so do the size check and the in-memory run; nothing else escapes
(no traceback: an ArrayMemoryError or IndexError from a huge axis was one).

Deterministic: the same mutations every run (a few thousand), and the
in-memory run on a seeded sample of the accepted ones; then hypothesis,
derandomized (a fixed set of examples), mutates up to three keys at once
of small versions of the sweeps, most of them run in memory too."""
import math
import random
import tomllib
from pathlib import Path

import pytest
from test_fuzz_specs import dumps

import coordsweep
from coordsweep.engine.errors import CoordsweepError
from coordsweep.engine.run import preflight

SWEEPS = sorted((Path(__file__).resolve().parents[1] / "sweeps").glob("*.toml"))
DELETE = object()
EDGES = [DELETE, 0, 1, -1, 2, 0.0, -0.0, 0.5, -1e-300, 1e-300, 1e308, -1e308, math.inf,
         -math.inf, math.nan, 10**14, 2**63 - 1, 2**63, 10**30, True, False, "", "x",
         "log", [], [0.5], [math.nan], [1, "a"], {}, {"values": [1.0]}]
#: accepted specs of at most this many points are also run in memory
RUN_POINTS = 300


def paths(doc, prefix=()):
    """Every (path, value) of a TOML document, containers too."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield prefix + (k,), v
            yield from paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield prefix + (i,), v
            yield from paths(v, prefix + (i,))


def mutate(doc, path, value):
    import copy
    doc = copy.deepcopy(doc)
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


def one_line(exc):
    text = str(exc)
    assert text and "\n" not in text.strip(), text
    return text


def outcome(text, run):
    """'ok', or the one-line message of the CoordsweepError it raised."""
    try:
        spec = coordsweep.parse_spec(text)
    except CoordsweepError as exc:
        return one_line(exc)
    try:
        preflight.check_size(spec)
        if run and spec.size <= RUN_POINTS:
            coordsweep.run(spec, progress=False)
    except CoordsweepError as exc:
        return one_line(exc)
    return "ok"


def cases(sweep):
    doc = tomllib.loads(sweep.read_text())
    for path, _ in list(paths(doc)):
        for value in EDGES:
            try:
                text = dumps(mutate(doc, path, value))
            except (TypeError, KeyError, IndexError):
                continue
            yield path, value, text


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda p: p.stem)
def test_every_key_with_every_edge_value(sweep):
    rng = random.Random(sweep.stem)
    seen = {"ok": 0, "refused": 0}
    for path, value, text in cases(sweep):
        try:
            result = outcome(text, run=rng.random() < 0.05)
        except CoordsweepError:
            raise
        except Exception as exc:  # noqa: BLE001 - the test: nothing else escapes
            pytest.fail(f"{sweep.name}: {'.'.join(map(str, path))} = {value!r}: "
                        f"{type(exc).__name__}: {exc}")
        seen["ok" if result == "ok" else "refused"] += 1
    assert seen["refused"] > 100 and seen["ok"] > 0, seen


@pytest.mark.parametrize("num", [10**14, 2**63, 10**30])
def test_one_huge_axis_is_refused_with_its_size(tmp_path, num):
    from engine_helpers import main_inprocess
    text = (Path(__file__).resolve().parents[1] / "sweeps" / "two_sectors.toml").read_text()
    doc = tomllib.loads(text)
    doc["axes"]["cost_scale"] = {"start": 0.1, "stop": 2.0, "num": num}
    spec = tmp_path / "huge.toml"
    spec.write_text(dumps(doc))
    store = tmp_path / "s.zarr"
    code, _, err = main_inprocess("run", spec, "--store", store, "--scheduler", "synchronous",
                                  "--quiet")
    assert code == 2 and "Traceback" not in err
    assert f"{num:,}" in err and len(err.strip().splitlines()) == 1
    assert not store.exists()
    # the base point still solves: the axis is never materialised
    assert coordsweep.solve(coordsweep.parse_spec(dumps(doc)))["n_equilibria"] >= 1


# --- several keys at once, any values (hypothesis, derandomized) ------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: the keys the ready sweeps use, and one they do not: for tables made up
KEYS = sorted({p[-1] for s in SWEEPS for p, _ in paths(tomllib.loads(s.read_text()))
               if isinstance(p[-1], str)} | {"zzz"})
SCALAR_VALUES = st.one_of(
    st.sampled_from([e for e in EDGES if e is not DELETE and not isinstance(e, (list, dict))]),
    st.integers(min_value=-2**66, max_value=2**66),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.booleans())
ANY_VALUE = st.recursive(
    SCALAR_VALUES,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
    max_leaves=6)
#: the strings the ready sweeps use (method names, spacings, sector names...)
STRINGS = sorted({v for s in SWEEPS for _, v in paths(tomllib.loads(s.read_text()))
                  if isinstance(v, str)})
FACTORS = [0.0, -1.0, 0.5, 2.0, 1 + 2**-52, 1 - 2**-53, 1e-300, 1e300, 10.0]
#: examples of the test below: a fixed number, the same ones every run
MULTI_EXAMPLES = 300


def near(value):
    """Values like `value`: the same type, close or scaled (most mutations,
    so that many mutated sweeps stay valid and are run)."""
    if isinstance(value, bool):
        return st.just(not value)
    if isinstance(value, int):
        return st.one_of(st.integers(value - 3, value + 3),
                         st.sampled_from([value * 10**k for k in (2, 6, 12)]))
    if isinstance(value, float):
        return st.one_of(st.sampled_from([value * f for f in FACTORS]),
                         st.floats(min(0.0, 2 * value), max(1.0, 2 * value)))
    if isinstance(value, str):
        return st.sampled_from(STRINGS)
    if isinstance(value, list):
        return st.lists(near(value[0]) if value else ANY_VALUE, max_size=4)
    return ANY_VALUE


def small(doc):
    """The sweep with at most 2 values per axis and a 4-sample design, so
    that most mutated specs are small enough to run in memory too."""
    for axis in doc.get("axes", {}).values():
        if isinstance(axis, dict):
            if isinstance(axis.get("num"), int):
                axis["num"] = min(axis["num"], 2)
            if isinstance(axis.get("values"), list):
                axis["values"] = axis["values"][:2]
    if isinstance(doc.get("design"), dict) and "samples" in doc["design"]:
        doc["design"]["samples"] = 4
    return doc


@settings(max_examples=MULTI_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_several_keys_mutated_at_once(data):
    """1 to 3 mutations of a ready sweep (made small): a key set to a value
    like its own (same type, close or scaled: most of them) or to any value
    (scalars, nested lists and tables), deleted, or a made-up key added to
    a table. The parser, the size check and the in-memory run
    accept the spec or refuse it with one line; nothing else escapes."""
    sweep = data.draw(st.sampled_from(SWEEPS), label="sweep")
    doc = small(tomllib.loads(sweep.read_text()))
    done = []
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        where, old = data.draw(st.sampled_from(list(paths(doc))), label="path")
        op = data.draw(st.sampled_from(["near", "near", "near", "set", "delete", "add"]),
                       label="op")
        if op == "add":
            parent = doc
            for p in where[:-1]:
                parent = parent[p]
            if not isinstance(parent, dict):
                continue
            where = where[:-1] + (data.draw(st.sampled_from(KEYS), label="key"),)
        value = (DELETE if op == "delete" else
                 data.draw(near(old) if op == "near" else ANY_VALUE, label="value"))
        try:
            doc = mutate(doc, where, value)
        except (KeyError, IndexError, TypeError):
            continue
        done.append((".".join(map(str, where)), value))
    try:
        text = dumps(doc)
    except TypeError:
        return
    try:
        outcome(text, run=True)
    except CoordsweepError:
        raise
    except Exception as exc:  # noqa: BLE001 - the test: nothing else escapes
        pytest.fail(f"{sweep.name}: {done}: {type(exc).__name__}: {exc}")
