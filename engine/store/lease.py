"""One writer per store: a lease object inside the store.

The lease is a small JSON object, ``coordsweep.lease.json``, at the root
of the store (a file in a local store, an object in an object store):
``{"run_id", "host", "pid", "heartbeat", "started", "state", "shared"}``.

- ``acquire(store, run_id)`` takes it, or raises ``LeaseHeld`` (exit 2)
  naming the live holder. A lease is *stale* when its holder's process is
  gone (same host: the pid is dead) or its heartbeat is older than
  ``timeout()`` seconds; a stale lease is taken over.
- The parts of one job array are one run: they pass the same run id
  (engine/spec/parts.py ``run_id``) and ``shared=True``, and join a
  live lease with that run id instead of being refused.
- ``Lease`` (a context manager) refreshes the heartbeat from a thread and
  removes the lease when the run ends; ``check(store, run_id)`` is what a
  task calls before it writes and before it marks a chunk done: it raises
  ``LeaseLost`` when another run now holds the store.

Atomicity: on a local file system the lease is created with O_EXCL and a
stale one is moved aside with rename, so of two runs racing for a store
exactly one wins. Object stores have no atomic create-if-absent through
fsspec: there the lease is written, then read back after a short pause,
and a run that does not find its own run id gives up (two runs starting
within that pause can still both win; see the README's Guarantees).
"""
import datetime
import json
import os
import socket
import threading
import time
import uuid

from coordsweep.engine.config import settings
from coordsweep.engine.errors import StoreError

LEASE_NAME = "coordsweep.lease.json"


class LeaseHeld(StoreError):
    """Another live run holds the store (exit 2)."""


class LeaseLost(RuntimeError):
    """This run no longer holds the store's lease: stop writing."""


def heartbeat_interval():
    """Seconds between heartbeats (engine/config.py)."""
    return settings().lease_heartbeat


def timeout():
    """Age after which a heartbeat is stale (engine/config.py)."""
    return settings().lease_timeout


def new_run_id():
    """A fresh run id (a plain run, a resume)."""
    return uuid.uuid4().hex


def _now():
    return time.time()


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(
        timespec="seconds")


def _fs(store):
    import fsspec
    return fsspec.core.url_to_fs(str(store))


def _path(store):
    fs, root = _fs(store)
    return fs, root.rstrip("/") + "/" + LEASE_NAME


def _is_local(fs):
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def read(store):
    """The lease record (a dict), or None when the store has no lease."""
    fs, path = _path(store)
    try:
        with fs.open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, OSError):
        return None
    try:
        rec = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        # a torn write (object stores): unreadable lease = stale lease
        return {"run_id": "?", "host": "?", "pid": -1, "heartbeat": 0.0, "state": "?",
                "shared": False}
    return rec if isinstance(rec, dict) else None


def pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    # a zombie (killed, not yet reaped) holds nothing
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def is_stale(rec, now=None):
    """Whether a lease record's holder is gone."""
    now = _now() if now is None else now
    if now - float(rec.get("heartbeat", 0.0)) > timeout():
        return True
    if not rec.get("shared") and rec.get("host") == socket.gethostname():
        return not pid_alive(rec.get("pid", -1))
    return False


def state_of(rec, now=None):
    """What a lease record says of its run, for ``inspect``: stale, in
    progress, or (the parts of a job array share one record, written by
    whichever part beat last) parts of which the last to beat has exited
    while others may still run."""
    if is_stale(rec, now):
        return "stale (its run is gone)"
    if not rec.get("shared"):
        return "in progress"
    if rec.get("host") == socket.gethostname() and not pid_alive(rec.get("pid", -1)):
        return ("parts of a job array: the part that beat last has exited; others may "
                f"still run (the lease lapses {timeout():g} s after the last heartbeat)")
    return "in progress (parts of a job array)"


def describe(rec, now=None):
    """'run 1a2b... (host h, pid 123, heartbeat 3 s ago, started ...)'."""
    now = _now() if now is None else now
    age = now - float(rec.get("heartbeat", 0.0))
    return (f"run {rec.get('run_id')} (host {rec.get('host')}, pid {rec.get('pid')}, "
            f"heartbeat {age:.0f} s ago, started {rec.get('started', '?')})")


def _record(run_id, state, shared):
    t = _now()
    return {"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(),
            "heartbeat": t, "started": _iso(t), "state": state, "shared": bool(shared)}


def _write(fs, path, rec, exclusive=False):
    data = json.dumps(rec).encode()
    if _is_local(fs):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if exclusive:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # atomic: readers see the old or the new lease
        return
    with fs.open(path, "wb") as f:
        f.write(data)


def _take(fs, path, rec, stale):
    """Create the lease (none, or `stale` which is moved aside). True if ours."""
    if _is_local(fs):
        if stale is not None:
            aside = f"{path}.stale-{uuid.uuid4().hex}"
            try:
                os.rename(path, aside)  # of two runs, one moves it
            except FileNotFoundError:
                return False
            with open(aside, "rb") as f:
                moved = f.read()
            os.remove(aside)
            try:
                if json.loads(moved.decode()).get("run_id") != stale.get("run_id"):
                    return False  # someone else's fresh lease: we lost the race
            except (UnicodeDecodeError, ValueError):
                pass
        try:
            _write(fs, path, rec, exclusive=True)
        except FileExistsError:
            return False
        return True
    _write(fs, path, rec)
    time.sleep(0.5)
    cur = read_at(fs, path)
    return cur is not None and cur.get("run_id") == rec["run_id"] and cur.get("pid") == rec["pid"]


def read_at(fs, path):
    try:
        with fs.open(path, "rb") as f:
            return json.loads(f.read().decode())
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _held_error(store, cur):
    return LeaseHeld(f"{store}: in use by {describe(cur)}; wait for it to finish, "
                     "or stop it (a lease whose process is gone, or whose heartbeat "
                     f"is older than {timeout():.0f} s, is taken over)")


def peek(store, run_id=None, shared=False):
    """Touching nothing: the current lease record if it is stale (or None
    when there is none); LeaseHeld when a live run holds the store (the
    same job array's run id, with shared, is not refused)."""
    cur = read(store)
    if cur is None or is_stale(cur):
        return cur
    if shared and cur.get("shared") and cur.get("run_id") == run_id:
        return None
    raise _held_error(store, cur)


def acquire(store, run_id, *, shared=False, state="running"):
    """Take the store's lease for `run_id`; returns the previous record when
    a stale lease was taken over (else None). Raises LeaseHeld."""
    fs, path = _path(store)
    for _ in range(20):
        cur = read(store)
        if cur is not None and not is_stale(cur):
            if shared and cur.get("shared") and cur.get("run_id") == run_id:
                return None  # another part of the same job array
            raise _held_error(store, cur)
        rec = _record(run_id, state, shared)
        if cur is not None and cur.get("state") == "creating":
            rec["state"] = "creating"  # a half-written template stays marked as such
        if _take(fs, path, rec, cur):
            return cur
    raise LeaseHeld(f"{store}: could not take the store's lease (another run keeps "
                    "taking it)")


def set_state(store, run_id, state):
    """Update our lease's state (e.g. "creating" -> "running")."""
    heartbeat(store, run_id, state=state)


def heartbeat(store, run_id, state=None):
    """Refresh our lease's heartbeat; LeaseLost when it is not ours any more."""
    fs, path = _path(store)
    cur = read(store)
    if cur is None or cur.get("run_id") != run_id:
        raise LeaseLost(f"{store}: lease lost to "
                        + (describe(cur) if cur else "nobody (it was removed)"))
    rec = dict(cur)
    rec["heartbeat"] = _now()
    if state is not None:
        rec["state"] = state
    _write(fs, path, rec)


def release(store, run_id):
    """Remove our lease (nothing when it is not ours)."""
    fs, path = _path(store)
    cur = read(store)
    if cur is not None and cur.get("run_id") == run_id:
        try:
            fs.rm(path)
        except FileNotFoundError:
            pass


def check(store, run_id):
    """Raise LeaseLost unless `run_id` holds the store (tasks call this
    before writing a chunk and before marking it done)."""
    if run_id is None:
        return
    cur = read(store)
    if cur is None or cur.get("run_id") != run_id:
        raise LeaseLost(f"{store}: this run (id {run_id}) no longer holds the store "
                        "(held by " + (describe(cur) if cur else "nobody") + "); "
                        "stopped before writing")


def only_lease(store):
    """True when the store location holds nothing but a lease (a run that
    died before writing its template)."""
    fs, root = _fs(store)
    try:
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)]
    except (FileNotFoundError, NotADirectoryError):
        return False
    return bool(names) and all(n.startswith(LEASE_NAME) for n in names)


class Lease:
    """Hold a store's lease for a run: acquire on enter, heartbeat from a
    thread, release on exit. `lost` is set when the heartbeat found the
    lease taken by another run."""

    def __init__(self, store, run_id=None, *, shared=False, state="running",
                 release_when=None):
        self.store = store
        self.run_id = run_id or new_run_id()
        self.shared = shared
        self.state = state
        self.previous = None
        self.lost = None
        #: a shared lease (the parts of a job array) is released on exit too
        #: when release_when() is then true (the store is complete). Asked
        #: after the heartbeat thread has stopped, so a part whose last beat
        #: crossed the release by the part that completed the store still
        #: leaves nothing behind.
        self.release_when = release_when
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        fs, root = _fs(self.store)
        self._made_root = _is_local(fs) and not fs.exists(root)
        self.previous = acquire(self.store, self.run_id, shared=self.shared, state=self.state)
        self._thread = threading.Thread(target=self._beat, name="coordsweep-lease",
                                        daemon=True)
        self._thread.start()
        return self

    def _beat(self):
        while not self._stop.wait(heartbeat_interval()):
            try:
                heartbeat(self.store, self.run_id)
            except LeaseLost as exc:
                self.lost = str(exc)
                return
            except Exception:  # noqa: BLE001 - a missed beat is retried
                pass

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.shared or (self.release_when is not None and self.release_when()):
            release(self.store, self.run_id)
        if self._made_root:  # a store this run did not get to create: leave nothing
            fs, root = _fs(self.store)
            try:
                os.rmdir(root)
            except OSError:
                pass
        return False
