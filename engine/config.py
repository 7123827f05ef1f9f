"""The engine's settings from the environment, read once (on first use).

- ``COORDSWEEP_WRITE_THREAD=0``: no writer thread with the in-process
  schedulers (engine/run/writer.py); default on.
- ``COORDSWEEP_LEASE_HEARTBEAT`` / ``COORDSWEEP_LEASE_TIMEOUT``: seconds
  between a run's heartbeats on the store's lease, and the age after which
  a heartbeat is stale (engine/store/lease.py); default 10 and 120.
- ``COORDSWEEP_DEBUG_PAUSE=POINT:SECONDS:MARKER`` and
  ``COORDSWEEP_DEBUG_HOLD_AFTER=N``: debug hooks for the reliability tests
  (engine/run/debug.py); default off.

The kernels read their own two, ``COORDSWEEP_NUMBA_CACHE`` and
``COORDSWEEP_DEBUG_MAXITER`` (kernels/jit.py): the kernels import nothing
from the engine, and numba needs them when a kernel is compiled.
"""
import os
from dataclasses import dataclass

from coordsweep.engine.errors import UsageError

HEARTBEAT = 10.0
TIMEOUT = 120.0


@dataclass(frozen=True)
class Config:
    write_thread: bool = True
    lease_heartbeat: float = HEARTBEAT
    lease_timeout: float = TIMEOUT
    debug_pause: tuple | None = None  # (point, seconds, marker file)
    debug_hold_after: int | None = None  # pauses after which a pause holds


def _seconds(environ, name, default):
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise UsageError(f"{name} must be a number of seconds > 0, got {text!r}")
    return value


def _pause(environ):
    text = environ.get("COORDSWEEP_DEBUG_PAUSE", "")
    if not text:
        return None
    point, _, rest = text.partition(":")
    seconds, _, marker = rest.partition(":")
    try:
        return point, float(seconds), marker
    except ValueError:
        raise UsageError("COORDSWEEP_DEBUG_PAUSE must be POINT:SECONDS:MARKER, "
                         f"got {text!r}") from None


def _hold_after(environ):
    text = environ.get("COORDSWEEP_DEBUG_HOLD_AFTER", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"COORDSWEEP_DEBUG_HOLD_AFTER must be an integer >= 0, got {text!r}")
    return int(text)


def from_environ(environ=None):
    """The :class:`Config` an environment (default ``os.environ``) says."""
    environ = os.environ if environ is None else environ
    return Config(
        write_thread=environ.get("COORDSWEEP_WRITE_THREAD", "1") != "0",
        lease_heartbeat=_seconds(environ, "COORDSWEEP_LEASE_HEARTBEAT", HEARTBEAT),
        lease_timeout=_seconds(environ, "COORDSWEEP_LEASE_TIMEOUT", TIMEOUT),
        debug_pause=_pause(environ), debug_hold_after=_hold_after(environ))


_current = None


def settings():
    """This process's Config, read from the environment the first time."""
    global _current
    if _current is None:
        _current = from_environ()
    return _current


def reload():
    """Read the environment again (a test that changed it in this process)."""
    global _current
    _current = None
    return settings()
