"""One-line messages for the run-time failures a user can act on (exit 1):
a lost store lease, a full disk. Anything else keeps its traceback."""
import errno

from coordsweep.engine.store.lease import LeaseLost


def _chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def runtime_message(exc):
    for e in _chain(exc):
        if isinstance(e, LeaseLost) or type(e).__name__ == "LeaseLost":
            return f"{e}"
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            where = f" ({e.filename})" if e.filename else ""
            return (f"no space left on the store's device{where}: the chunks finished "
                    "so far are kept; free space and run again with --resume")
    return None
