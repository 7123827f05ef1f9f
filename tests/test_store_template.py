"""The store's template written with the zarr API (engine/store/zarrstore.py
``create``) against the way it was written before: the xarray Dataset of
``store.template`` (dask arrays) stored by ``to_zarr(compute=False)`` with
``store.encoding``. Every metadata document (the group's and each array's
zarr.json) must be the same, field by field and in the same order, every
chunk file the same bytes, and xarray must read the same Dataset; and
creating a store must not import dask or xarray."""
import json
import os

import numpy as np
import pytest

from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.spec.model import parse_spec
from specs import TWO_SECTORS, policy_sectors, spec_text
from test_startup import _modules_after

#: attributes that hold the time of creation (differ between two stores)
TIMES = ("created", "date_created", "history")

DESIGN = """\
[design]
method = "sobol"
samples = 16
seed = 3
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
"""

CASES = {
    # one point: 0-d outputs, one chunk
    "one point": (spec_text("one", TWO_SECTORS), 1),
    # scale axes, a per-point and a per-sector parameter axis, 12 chunks
    "grid": (spec_text("grid", TWO_SECTORS,
                       axes={"externality_scale": (0.0, 2.0, 9), "cost_scale": (0.0, 3.0, 7),
                             "externality.manu": [0.1, 0.5], "labor_share": [0.5, 0.6]}),
             20),
    # three sectors with eta > 0 and policy terms, one axis, partial last chunk
    "policy": (spec_text("policy", policy_sectors(), axes={"cost_scale": (0.0, 3.0, 11)}), 4),
    # a sampling design: lazy coordinates along sample, "coordinates" attributes
    "design": (spec_text("design", TWO_SECTORS, labor=None) + DESIGN, 10),
    # a design after an axis
    "axis and design": (spec_text("axis and design", TWO_SECTORS, labor=None,
                                  axes={"ca_spread": [0.0, 0.5, 1.0]}) + DESIGN, 25),
}


def create_before(store, spec, layout, run_id=None, attrs=None):
    """How ``store.create`` wrote a new store before (the reference)."""
    ds = zstore.template(spec, layout, run_id)
    ds.attrs.update(attrs or {})
    with zstore._quiet():
        ds.to_zarr(str(store), mode="w-", compute=False, encoding=zstore.encoding(ds),
                   consolidated=False, zarr_format=3)


def read_tree(path):
    """{relative path: parsed zarr.json, or the bytes of any other file}."""
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            full = os.path.join(root, f)
            with open(full, "rb") as fh:
                data = fh.read()
            out[os.path.relpath(full, path)] = json.loads(data) if f == "zarr.json" else data
    return out


def without_times(doc):
    attrs = doc.get("attributes", {})
    assert not (set(TIMES) & set(attrs)) or set(TIMES) <= set(attrs)
    return {**doc, "attributes": {k: v for k, v in attrs.items() if k not in TIMES}}


@pytest.fixture(params=list(CASES))
def case(request):
    text, chunk_points = CASES[request.param]
    spec = parse_spec(text)
    return spec, Layout.for_grid(spec.shape, chunk_points)


def test_same_files_and_metadata_as_to_zarr(tmp_path, case):
    spec, layout = case
    old, new = tmp_path / "old.zarr", tmp_path / "new.zarr"
    extra = {"solver": "wage=newton,equilibria=dfs,path=brent"}
    create_before(old, spec, layout, run_id="run-1", attrs=extra)
    zstore.create(new, spec, layout, run_id="run-1", attrs=extra)
    a, b = read_tree(old), read_tree(new)
    assert sorted(a) == sorted(b)
    assert "zarr.json" in a and "chunk_done/zarr.json" in a
    for rel in sorted(a):
        if rel.endswith("zarr.json"):
            x, y = without_times(a[rel]), without_times(b[rel])
            for field in x.keys() | y.keys():  # field by field, for the message
                assert x.get(field) == y.get(field), (rel, field)
                if isinstance(x.get(field), dict):  # attributes: also in order
                    assert list(x[field]) == list(y[field]), (rel, field)
            assert list(x) == list(y), rel
        else:  # chunk files (the coordinates' values)
            assert a[rel] == b[rel], rel
    # the new store's attributes are the store's own, not someone else's
    attrs = b["zarr.json"]["attributes"]
    assert attrs["run_token"] == zstore.run_token("run-1") and attrs["solver"] == extra["solver"]
    assert attrs["chunks_total"] == layout.nchunks and attrs["complete"] == 0
    assert all(t in attrs for t in TIMES)


def test_xarray_reads_the_same_dataset(tmp_path, case):
    import xarray as xr
    spec, layout = case
    old, new = tmp_path / "old.zarr", tmp_path / "new.zarr"
    create_before(old, spec, layout)
    zstore.create(new, spec, layout)
    with zstore._quiet():
        a = xr.open_zarr(old, consolidated=False)
        b = xr.open_zarr(new, consolidated=False)
    a.attrs = {k: v for k, v in a.attrs.items() if k not in TIMES}
    b.attrs = {k: v for k, v in b.attrs.items() if k not in TIMES}
    xr.testing.assert_identical(a, b)  # values (fill values), dims, coords, attrs
    # (the order of the variables is the directory listing's: it was never fixed)
    assert sorted(a.variables) == sorted(b.variables)
    for name in a.variables:
        assert a[name].dtype == b[name].dtype, name
        ea, eb = dict(a[name].encoding), dict(b[name].encoding)
        ea.pop("source", None)  # (the paths differ)
        eb.pop("source", None)
        assert ea.keys() == eb.keys(), name
        for key in ea:
            if key in ("compressors", "filters", "serializer"):
                assert repr(ea[key]) == repr(eb[key]), (name, key)
            elif isinstance(ea[key], float) and np.isnan(ea[key]):
                assert np.isnan(eb[key]), (name, key)
            else:
                assert ea[key] == eb[key], (name, key)
    # never-written outputs read as their fill values
    assert np.isnan(b["wage_nc"].values).all() and (b["regime"].values == -1).all()
    if spec.design is not None:
        assert set(spec.design.names) <= set(b.coords)


def test_create_beside_a_lease_and_refusals(tmp_path):
    """mode "a" beside the run's lease (the lease stays), "w-" refuses an
    existing store, overwrite replaces it: as before."""
    from coordsweep.engine.store import lease
    from coordsweep.engine.errors import StoreError
    spec = parse_spec(CASES["grid"][0])
    layout = Layout.for_grid(spec.shape, 20)
    store = tmp_path / "s.zarr"
    store.mkdir()
    (store / lease.LEASE_NAME).write_text("{}")
    zstore.create(store, spec, layout, run_id="r")
    assert (store / lease.LEASE_NAME).read_text() == "{}"
    assert zstore.read_attrs(store)["run_id"] == "r"
    with pytest.raises(StoreError, match="already exists"):
        zstore.create(store, spec, layout)
    zstore.create(store, spec, layout, overwrite=True, run_id="s")
    assert zstore.read_attrs(store)["run_id"] == "s"
    assert (store / lease.LEASE_NAME).exists()


def test_create_imports_neither_dask_nor_xarray(tmp_path):
    """The template is written with zarr alone: no dask.array, no
    distributed; and, the version attributes aside (provenance.versions reads
    dask's and xarray's versions), neither dask nor xarray."""
    text, chunk_points = CASES["design"]
    (tmp_path / "d.toml").write_text(text)
    code = ("from coordsweep.engine.spec.model import load_spec\n"
            "from coordsweep.engine.spec.layout import Layout\n"
            "from coordsweep.engine.store import designcoords, zarrstore as store\n"
            "{stub}"
            f"spec = load_spec({str(tmp_path / 'd.toml')!r})\n"
            f"layout = Layout.for_grid(spec.shape, {chunk_points})\n"
            "store.create({where!r}, spec, layout)\n"
            "designcoords.write_coords({where!r}, spec, layout)\n"
            "assert store.read_attrs({where!r})['design_points'] == spec.design.size\n")
    loaded = _modules_after(code.format(stub="", where=str(tmp_path / "a.zarr")))
    assert "zarr" in loaded
    assert not {"dask.array", "distributed"} & loaded
    stub = "store.versions = lambda: {'coordsweep_version': '0'}\n"
    loaded = _modules_after(code.format(stub=stub, where=str(tmp_path / "b.zarr")))
    assert "zarr" in loaded
    assert not {"dask", "xarray", "pandas", "distributed"} & loaded
