"""Every key of every ready sweep (sweeps/*.toml) replaced by every kind of
edge value -- wrong types, zero, negative, huge and non-finite numbers, the
integers at and past int64, empty and nested containers -- or deleted: the
parser either accepts the spec or refuses it with a one-line CoordsweepError,
and so do the size check and the in-memory run; nothing else escapes
(no traceback: an ArrayMemoryError or IndexError from a huge axis was one).

Deterministic: the same mutations every run (a few thousand), and the
in-memory run on a seeded sample of the accepted ones."""
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
