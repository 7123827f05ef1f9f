"""A writer thread: chunk k is written while chunk k+1 is computed.

With the in-process schedulers (``synchronous``, ``threads``) a task
solves its chunk and hands the outputs to this thread, which writes them
(engine/store/zarrstore.py ``write_chunk``: data first, then the done-marker) while
the task's thread goes on with the next chunk. The kernels release the
GIL, and so do most of the compression and the file writes, so on a
machine with a spare core the writes cost almost no wall time: the
synchronous scheduler then uses two cores, one computing, one writing.

When the thread falls behind (a full queue: writing a chunk takes longer
than computing one, e.g. where the store's new pages are expensive to
fault in) the task writes its own chunk instead of waiting, and ``close``
writes what is still queued beside the thread's last write: the two
threads then share the writes rather than one waiting for the other.
Chunks may thus be written out of order; each one is still written and
marked done on its own, data first.

Guarantees kept: a chunk is marked done only after its data is written
(the same write_chunk as without the thread), so a run killed with chunks
still queued leaves them unmarked and ``--resume`` computes them again.
At most ``depth`` chunks wait in the queue (bounded memory). The first
error in the thread (a lost lease, a full disk) is raised in the task
that hands over the next chunk and by ``close``; nothing more is written
after it. ``close`` waits for every queued chunk to be written: the run
records its store complete only after that.

``COORDSWEEP_WRITE_THREAD=0`` turns the thread off (each task writes its
own chunk, as with the distributed scheduler, where every worker process
has one core of its own and nothing to overlap with).
"""
import queue
import threading

from coordsweep.engine.config import settings

#: chunks that may wait for the writer (besides the one being written)
DEPTH = 1


def enabled():
    return settings().write_thread


class ChunkWriter:
    """Writes chunks handed over by `submit` in a thread of its own."""

    def __init__(self, write, depth=DEPTH, on_written=None):
        """write(chunk_id, outputs) writes one chunk (and marks it done);
        on_written(chunk_id, outputs) runs in the thread after each."""
        self._write = write
        self._on_written = on_written
        self._queue = queue.Queue(maxsize=depth)
        self._error = None
        self._stop = False
        self.written = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="coordsweep-writer",
                                        daemon=True)
        self._thread.start()

    def _loop(self):
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is not None or self._stop:
                    continue  # after an error or an abort: drop, never mark
                chunk_id, outputs = item
                try:
                    self._write_one(chunk_id, outputs)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    self._error = exc
            finally:
                self._queue.task_done()

    def _raise(self):
        if self._error is not None:
            raise self._error

    def submit(self, chunk_id, outputs):
        """Queue a chunk, or write it in the calling thread when the queue
        is full (the thread is behind); raises the writer's error, if any,
        instead."""
        self._raise()
        try:
            self._queue.put_nowait((chunk_id, outputs))
        except queue.Full:
            if not self._thread.is_alive():  # pragma: no cover - defensive
                raise RuntimeError("the writer thread stopped") from None
            self._write_here(chunk_id, outputs)

    def _write_one(self, chunk_id, outputs):
        self._write(chunk_id, outputs)
        with self._lock:
            self.written += 1
        if self._on_written is not None:
            self._on_written(chunk_id, outputs)

    def _write_here(self, chunk_id, outputs):
        """Write a chunk in the calling thread (as the thread would)."""
        try:
            self._write_one(chunk_id, outputs)
        except BaseException as exc:
            if self._error is None:
                self._error = exc  # (the thread drops what is queued)
            raise

    def close(self, abort=False):
        """Wait until every queued chunk is written and stop the thread,
        then raise its error, if any. abort (the run is failing already):
        drop the queued chunks, finish only the one being written, raise
        nothing."""
        if abort:
            self._stop = True
        else:  # what is still queued is written here, beside the thread's last write
            while self._error is None:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                self._queue.task_done()
                try:
                    self._write_here(*item)
                except BaseException:  # noqa: BLE001 - kept in _error, raised below
                    break
        self._queue.put(None)
        self._thread.join()
        if not abort:
            self._raise()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(abort=exc_type is not None)
        return False
