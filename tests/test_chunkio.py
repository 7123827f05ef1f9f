"""engine/store/chunkio.py: whole chunks encoded by the arrays' own codecs and
stored in one batch give the very bytes zarr's __setitem__ writes (edge
chunks included); what is not one whole chunk goes through __setitem__."""
import os

import numpy as np
import pytest
import zarr

from coordsweep.engine.store import chunkio
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.spec.model import parse_spec
from coordsweep.kernels.outputs import OUTPUTS
from specs import TWO_SECTORS, spec_text
from test_store import outputs_for

SPEC = parse_spec(spec_text("chunkio test", TWO_SECTORS,
                            axes={"externality_scale": (0.0, 2.0, 7),
                                  "cost_scale": (0.0, 3.0, 5)}))
# 7 x 5 grid, chunks of 3 x 5: the last chunk (row 6) is an edge chunk
LAYOUT = Layout.for_grid(SPEC.shape, chunk_points=15)


def chunk_files(root):
    """{relative path: bytes} of every chunk file of the outputs."""
    names = {o.name for o in OUTPUTS}
    files = {}
    for dirpath, _, fnames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel.split(os.sep)[0] not in names:
            continue
        for f in fnames:
            if f != "zarr.json":
                with open(os.path.join(dirpath, f), "rb") as fh:
                    files[os.path.join(rel, f)] = fh.read()
    return files


def write_with_setitem(path, layout, cid, outputs, nsec=2):
    group = zarr.open_group(path, mode="r+")
    region = layout.region(cid)
    rshape = layout.region_shape(cid)
    with zarr.config.set({"array.write_empty_chunks": True}):
        for o in OUTPUTS:
            if o.per == "point":
                group[o.name][region] = outputs[o.name].reshape(rshape)
            else:
                group[o.name][region + (slice(None),)] = outputs[o.name].reshape(rshape + (nsec,))


def test_layout_has_an_edge_chunk():
    assert LAYOUT.chunks == (3, 5) and LAYOUT.nchunks == 3
    assert LAYOUT.region_shape(2) == (1, 5)


@pytest.mark.parametrize("run_id", [None, "run-a"])
def test_fast_writes_are_byte_identical_to_zarr_setitem(tmp_path, run_id):
    fast, slow = str(tmp_path / "fast.zarr"), str(tmp_path / "slow.zarr")
    for p in (fast, slow):
        zstore.create(p, SPEC, LAYOUT, run_id=run_id)
    for cid in range(LAYOUT.nchunks):
        out = outputs_for(cid, LAYOUT)
        zstore.write_chunk(fast, LAYOUT, cid, out, 2, run_id=None,
                           token=zstore.run_token(run_id))
        write_with_setitem(slow, LAYOUT, cid, out)
    a, b = chunk_files(fast), chunk_files(slow)
    # every output has one file per chunk, and they hold the same bytes
    assert len(a) == len(OUTPUTS) * LAYOUT.nchunks
    assert a.keys() == b.keys()
    differ = [k for k in a if a[k] != b[k]]
    assert differ == []
    # and read back, the values are the outputs
    g = zarr.open_group(fast, mode="r")
    last = outputs_for(2, LAYOUT)
    np.testing.assert_array_equal(g["welfare_nc"][6, :], last["welfare_nc"])
    np.testing.assert_array_equal(g["regime"][6, :, :], last["regime"].reshape(5, 2))


def test_encode_chunk_refuses_what_is_not_one_whole_chunk(tmp_path):
    path = str(tmp_path / "s.zarr")
    zstore.create(path, SPEC, LAYOUT)
    arr = zarr.open_group(path, mode="r+")["welfare_nc"]
    whole = np.zeros((3, 5))
    assert chunkio.encode_chunk(arr, whole, (slice(0, 3), slice(0, 5))) is not None
    assert chunkio.encode_chunk(arr, np.zeros((1, 5)), (slice(6, 7), slice(0, 5))) is not None
    # part of a chunk, a region across two chunks, a misaligned one, a step
    assert chunkio.encode_chunk(arr, np.zeros((2, 5)), (slice(0, 2), slice(0, 5))) is None
    assert chunkio.encode_chunk(arr, np.zeros((6, 5)), (slice(0, 6), slice(0, 5))) is None
    assert chunkio.encode_chunk(arr, whole, (slice(1, 4), slice(0, 5))) is None
    assert chunkio.encode_chunk(arr, np.zeros((2, 5)), (slice(0, 3, 2), slice(0, 5))) is None


def test_a_partial_region_keeps_the_rest_of_its_chunk(tmp_path):
    path = str(tmp_path / "s.zarr")
    zstore.create(path, SPEC, LAYOUT)
    group = zarr.open_group(path, mode="r+")
    n = chunkio.write_chunks(group, [("welfare_nc", (slice(0, 3), slice(0, 5)),
                                      np.full((3, 5), 1.0))])
    assert n == 1
    n = chunkio.write_chunks(group, [("welfare_nc", (slice(1, 2), slice(0, 5)),
                                      np.full((1, 5), 2.0))])
    assert n == 0  # through __setitem__: rows 0 and 2 of the chunk stay
    got = zarr.open_group(path, mode="r")["welfare_nc"][0:3, :]
    np.testing.assert_array_equal(got, [[1.0] * 5, [2.0] * 5, [1.0] * 5])


def test_local_files_leave_no_temporary_and_overwrite_whole(tmp_path):
    """The direct file writes of a local store: a chunk written twice holds
    the second value, no temporary file stays behind, and a failed write
    leaves the chunk's previous bytes and no temporary."""
    path = str(tmp_path / "s.zarr")
    zstore.create(path, SPEC, LAYOUT)
    group = zarr.open_group(path, mode="r+")
    region = (slice(0, 3), slice(0, 5))
    for value in (1.0, 3.0):
        assert chunkio.write_chunks(group, [("welfare_nc", region, np.full((3, 5), value))]) == 1
    np.testing.assert_array_equal(zarr.open_group(path, mode="r")["welfare_nc"][region], 3.0)
    leftovers = [f for _, _, fs in os.walk(path) for f in fs if f.endswith(".partial")]
    assert leftovers == []
    target = os.path.join(path, "welfare_nc", "c.0.0")
    before = open(target, "rb").read()

    class Boom:  # a buffer whose write fails half-way
        def __len__(self):
            return 1

    with pytest.raises(TypeError):
        chunkio.put_file(target, Boom())
    assert open(target, "rb").read() == before
    assert not [f for f in os.listdir(os.path.dirname(target)) if f.endswith(".partial")]
    # a chunk whose directory does not exist yet
    chunkio.put_file(str(tmp_path / "new" / "dir" / "f"), b"abc")
    assert (tmp_path / "new" / "dir" / "f").read_bytes() == b"abc"


def test_other_stores_take_their_own_set():
    """A store that is not a local directory (here zarr's MemoryStore) is
    written through its own ``set``: the same values read back."""
    from zarr.storage import MemoryStore
    mem = MemoryStore()
    arr = zarr.create_array(mem, name="x", shape=(6, 5), chunks=(3, 5), dtype="f8",
                            compressors=zstore.compressors("f8"), fill_value=np.nan)
    group = zarr.open_group(mem, mode="r+")
    assert chunkio._local_root(arr.store_path.store) is None
    assert chunkio.write_chunks(group, [("x", (slice(3, 6), slice(0, 5)),
                                         np.arange(15.0).reshape(3, 5))]) == 1
    back = zarr.open_group(mem, mode="r")["x"]
    np.testing.assert_array_equal(back[3:6], np.arange(15.0).reshape(3, 5))
    assert np.isnan(back[0:3]).all()


def test_chunk_files_in_the_array_directory_and_nested_stores_alike(tmp_path, monkeypatch):
    """A store's chunks are files ``c.I.J`` in each array's directory (no
    directory per chunk); a store made with zarr's nested keys
    (``c/I/J``) is written, marked and read through its own metadata."""
    outs = outputs_for(1, LAYOUT)
    flat = str(tmp_path / "flat.zarr")
    zstore.create(flat, SPEC, LAYOUT)
    zstore.write_chunk(flat, LAYOUT, 1, outs, 2)
    assert os.path.isfile(os.path.join(flat, "welfare_nc", "c.1.0"))
    assert os.path.isfile(os.path.join(flat, "regime", "c.1.0.0"))
    assert os.path.isfile(os.path.join(flat, "chunk_done", "c.1"))
    assert not os.path.exists(os.path.join(flat, "welfare_nc", "c"))
    monkeypatch.setattr(zstore, "CHUNK_KEYS", {"name": "default", "separator": "/"})
    nested = str(tmp_path / "nested.zarr")
    zstore.create(nested, SPEC, LAYOUT)
    monkeypatch.undo()
    group = zarr.open_group(nested, mode="r+")
    assert chunkio.chunk_missing(group["chunk_done"], (1,))
    zstore.write_chunk(nested, LAYOUT, 1, outs, 2)
    assert os.path.isfile(os.path.join(nested, "welfare_nc", "c", "1", "0"))
    assert os.path.isfile(os.path.join(nested, "chunk_done", "c", "1"))
    assert not chunkio.chunk_missing(group["chunk_done"], (1,))
    assert chunkio.chunk_missing(group["chunk_done"], (0,))
    np.testing.assert_array_equal(zstore.done_chunks(nested), zstore.done_chunks(flat))
    assert zstore.done_chunks(nested).tolist() == [False, True, False]
    a, b = zarr.open_group(flat, mode="r"), zarr.open_group(nested, mode="r")
    for o in OUTPUTS:
        np.testing.assert_array_equal(a[o.name][...], b[o.name][...])


def test_temporary_names_differ_between_calls_and_forked_processes(tmp_path):
    """Two writers of one store (threads, processes, hosts) never share a
    temporary file: the name is a per-process random tag, drawn again in a
    forked child, and a counter."""
    names = {chunkio._tmp_name("x") for _ in range(1000)}
    assert len(names) == 1000
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first name, sent to the parent
        os.close(r)
        os.write(w, chunkio._tmp_name("x").encode())
        os._exit(0)
    os.close(w)
    child = os.read(r, 200).decode()
    os.close(r)
    os.waitpid(pid, 0)
    tag = lambda name: name.split(".")[1].rsplit("-", 1)[0]  # noqa: E731
    assert tag(child) != tag(chunkio._tmp_name("x"))


def test_put_file_writes_every_byte_of_a_numpy_buffer(tmp_path):
    data = np.random.default_rng(1).integers(0, 256, 3_000_001, dtype=np.uint8)
    target = str(tmp_path / "c.0")
    chunkio.put_file(target, data)
    assert open(target, "rb").read() == data.tobytes()
    assert os.listdir(tmp_path) == ["c.0"]


def test_per_sector_floats_are_stored_sector_major_and_read_back_alike(tmp_path):
    """Float outputs with a sector dimension carry zarr's transpose codec
    (the sector axis first in each chunk); the fast path encodes through
    it, and what is read back is what was written."""
    path = str(tmp_path / "s.zarr")
    zstore.create(path, SPEC, LAYOUT)
    group = zarr.open_group(path, mode="r")
    for o in OUTPUTS:
        filters = group[o.name].metadata.codecs[:-2]  # (before bytes and blosc)
        if o.per == "sector" and np.dtype(o.dtype).kind == "f":
            assert [type(f).__name__ for f in filters] == ["TransposeCodec"]
            assert tuple(filters[0].order) == (2, 0, 1)
        else:
            assert filters == ()
    group = zarr.open_group(path, mode="r+")
    rng = np.random.default_rng(3)
    value = rng.random((3, 5, 2))
    region = (slice(3, 6), slice(0, 5), slice(None))
    assert chunkio.write_chunks(group, [("critical_mass", region, value)]) == 1  # fast path
    np.testing.assert_array_equal(zarr.open_group(path, mode="r")["critical_mass"][region],
                                  value)


def test_stores_without_the_transpose_are_written_and_read_alike(tmp_path, monkeypatch):
    """A store made before per-sector outputs were transposed (no filter)
    takes the same fast path and reads back the same values."""
    path = str(tmp_path / "old.zarr")
    monkeypatch.setattr(zstore, "sector_major", lambda ndim: ())
    zstore.create(path, SPEC, LAYOUT)
    monkeypatch.undo()
    group = zarr.open_group(path, mode="r+")
    assert group["critical_mass"].metadata.codecs[0].__class__.__name__ == "BytesCodec"
    new = str(tmp_path / "new.zarr")
    zstore.create(new, SPEC, LAYOUT)
    for cid in range(LAYOUT.nchunks):
        out = outputs_for(cid, LAYOUT)
        for p in (path, new):
            zstore.write_chunk(p, LAYOUT, cid, out, 2)
    a, b = (zarr.open_group(p, mode="r") for p in (path, new))
    for o in OUTPUTS:
        np.testing.assert_array_equal(a[o.name][...], b[o.name][...])
