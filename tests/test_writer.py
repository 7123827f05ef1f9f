"""The writer thread (engine/run/writer.py) and the write path around it: every
chunk handed over is written before close returns; an error in the thread
stops further writes and reaches the caller; an aborted run drops what is
queued (never marked done); a run with the thread gives the same store
and the same summary as one without it."""
import threading

import numpy as np
import pytest

from coordsweep.engine.analysis import results
from coordsweep.engine.store import zarrstore as zstore
from coordsweep.engine.spec.layout import Layout
from coordsweep.engine.run.runner import run_sweep
from coordsweep.engine.spec.model import parse_spec
from coordsweep.engine.run.writer import ChunkWriter
from engine_helpers import assert_identical_stores, chunk_done, three_sector_spec


def test_every_submitted_chunk_is_written_once_before_close_returns():
    written, counted = [], []
    w = ChunkWriter(lambda cid, out: written.append((cid, out)),
                    on_written=lambda cid, out: counted.append(cid))
    for cid in range(7):
        w.submit(cid, {"x": cid})
    w.close()
    assert sorted(written, key=lambda x: x[0]) == [(cid, {"x": cid}) for cid in range(7)]
    assert sorted(counted) == list(range(7)) and w.written == 7


def test_a_writer_behind_shares_the_writes_with_the_caller():
    """The thread held in chunk 0's write: chunk 1 waits in the queue, the
    caller writes chunk 2 itself (the queue is full) and, in close, chunk 1
    (still queued) beside the thread's write of chunk 0."""
    gate, started = threading.Event(), threading.Event()
    by = {}

    def write(cid, out):
        if cid == 0:
            started.set()
            assert gate.wait(10)
        by[cid] = threading.current_thread().name
        if cid == 1:
            gate.set()  # (written here, in close: the thread may finish chunk 0)

    counted = []
    w = ChunkWriter(write, on_written=lambda cid, out: counted.append(cid))
    w.submit(0, None)
    assert started.wait(10)
    w.submit(1, None)          # queued
    w.submit(2, None)          # queue full: written here, at once
    assert by == {2: threading.current_thread().name}
    w.close()
    assert by == {0: "coordsweep-writer", 1: threading.current_thread().name,
                  2: threading.current_thread().name}
    assert sorted(counted) == [0, 1, 2] and w.written == 3


def test_an_error_in_the_thread_stops_the_writes_and_reaches_the_caller():
    written = []

    def write(cid, out):
        if cid == 2:
            raise OSError("disk full")
        written.append(cid)

    w = ChunkWriter(write)
    with pytest.raises(OSError, match="disk full"):
        for cid in range(50):
            w.submit(cid, None)
    with pytest.raises(OSError, match="disk full"):
        w.close()
    # nothing started after the error was seen: at most chunks 0 and 1
    # (before it) and 3 (written by the caller while the thread failed on
    # chunk 2); what was still queued is dropped, never written
    assert 2 not in written and set(written) <= {0, 1, 3}
    assert len(written) == len(set(written))


def test_abort_drops_the_queued_chunks_and_raises_nothing():
    gate, started = threading.Event(), threading.Event()
    written = []

    def write(cid, out):
        started.set()
        gate.wait(5)
        written.append(cid)

    w = ChunkWriter(write, depth=3)
    w.submit(0, None)
    assert started.wait(10)  # chunk 0 being written in the thread
    for cid in range(1, 4):  # three queued
        w.submit(cid, None)
    closer = threading.Thread(target=w.close, kwargs={"abort": True})
    closer.start()
    gate.set()
    closer.join(10)
    assert not closer.is_alive()
    assert written == [0]


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("writer")
    path = d / "spec.toml"
    path.write_text(three_sector_spec(n_theta=9, n_cost=7, name="writer test"),
                    encoding="utf-8")
    return str(path)


def test_a_run_with_the_writer_thread_equals_one_without(spec_path, tmp_path, monkeypatch):
    spec = parse_spec(open(spec_path, encoding="utf-8").read(), source=spec_path)
    with_thread = run_sweep(spec, str(tmp_path / "thread.zarr"), scheduler="synchronous",
                            chunk_points=10, progress=False)
    from coordsweep.engine import config
    monkeypatch.setattr(config, "_current", config.from_environ({"COORDSWEEP_WRITE_THREAD": "0"}))
    without = run_sweep(spec, str(tmp_path / "plain.zarr"), scheduler="synchronous",
                        chunk_points=10, progress=False)
    assert with_thread.chunks_total == without.chunks_total > 3
    assert chunk_done(with_thread.store).all() and chunk_done(without.store).all()
    assert_identical_stores(with_thread.store, without.store)
    # the summary counted in the writer thread equals the one read back
    layout = Layout(tuple(spec.shape), tuple(zstore.read_attrs(with_thread.store)["chunk_shape"]))
    read_back = results.summary(with_thread.store, layout)
    for s in (with_thread.summary, without.summary):
        assert s.keys() == read_back.keys()
        for key in s:
            if isinstance(s[key], np.ndarray):
                np.testing.assert_array_equal(s[key], read_back[key])
            else:
                assert s[key] == read_back[key], key


def test_summary_takes_known_counts_and_reads_the_rest(spec_path, tmp_path):
    spec = parse_spec(open(spec_path, encoding="utf-8").read(), source=spec_path)
    res = run_sweep(spec, str(tmp_path / "s.zarr"), scheduler="synchronous",
                    chunk_points=10, progress=False)
    layout = Layout(tuple(spec.shape), tuple(zstore.read_attrs(res.store)["chunk_shape"]))
    group = zstore.open_group(res.store)
    # made-up counts for chunk 0: the summary uses them instead of reading
    region = layout.region(0)
    real = results.chunk_counts(group["regime"][region + (slice(None),)],
                                group["n_equilibria"][region], group["status"][region])
    fake = ([c.copy() for c in real[0]], real[1] + 1000, real[2], real[3].copy())
    s = results.summary(res.store, layout, {0: fake})
    base = results.summary(res.store, layout)
    assert s["share_multiple_equilibria"] * layout.size == pytest.approx(
        base["share_multiple_equilibria"] * layout.size + 1000)
