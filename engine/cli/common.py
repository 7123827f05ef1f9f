"""What the commands share: exit codes, argument helpers."""
from coordsweep.engine.errors import CoordsweepError

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
#: `inspect --check`: the store is incomplete
EXIT_INCOMPLETE = 3
#: interrupted (Ctrl-C), after a clean stop: 128 + SIGINT, as shells expect
EXIT_INTERRUPTED = 130


def existing_store(path):
    """A coordsweep store's location; exit 2 when there is none or it is not
    a coordsweep store."""
    from coordsweep.engine.store import zarrstore as zstore
    return zstore.existing(path)


def interruptible():
    """Ctrl-C (SIGINT) stops a long command (KeyboardInterrupt: exit 130)
    even when it was started with SIGINT ignored, as a non-interactive
    shell starts ``cmd &``: ``kill -INT PID`` then stops it cleanly. A
    handler someone installed (a notebook, a test) is left alone."""
    import signal
    import threading
    if threading.current_thread() is threading.main_thread() \
            and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def output_path(path, option="-o", folder=False):
    """A path the command writes (a file; with folder, a folder), checked
    before any work: its parent folders are made when missing (the folder
    itself too, with folder); exit 2 naming the path when that cannot be
    done, when it is not writable, or when a folder stands where a file
    goes (or a file where a folder goes). Returns the path."""
    import os
    from pathlib import Path
    where = Path(path)
    parent = where if folder else where.parent
    if not folder and where.is_dir():
        raise CoordsweepError(f"{option} {path}: a folder; give the file to write")
    if folder and where.exists() and not where.is_dir():
        raise CoordsweepError(f"{option} {path}: a file; give a folder to write into")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CoordsweepError(f"{option} {path}: cannot make the folder {parent} "
                              f"({exc.strerror or exc})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CoordsweepError(f"{option} {path}: the folder {parent} is not writable")
    return path


def parse_assignments(items, option):
    """AXIS=VALUE items of a repeatable option -> {axis: float}, in the
    order given; one line naming the option and the item when one is bad."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise CoordsweepError(f"{option} {item!r}: expected AXIS=VALUE")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise CoordsweepError(f"{option} {item!r}: {value!r} is not a number") from None
    return out


def parse_at(items):
    """--at AXIS=VALUE items -> {axis: float}, in the order given."""
    return parse_assignments(items, "--at")


def parse_select(items):
    """--select AXIS=VALUE items -> {axis: float}."""
    return parse_assignments(items, "--select")


def add_rank_args(parser):
    """``--sector``, ``--equilibrium RANK`` and ``--select equilibrium=RANK``
    of the commands that analyse the whole parameter space (read by
    :func:`equilibrium_rank`)."""
    parser.add_argument("--sector", help="sector, for per-sector outputs")
    parser.add_argument("--equilibrium", type=int, metavar="RANK",
                        help="rank in the equilibrium list (0: the best), for eq_* outputs")
    parser.add_argument("--select", action="append", metavar="equilibrium=RANK",
                        help="the same as --equilibrium RANK (as plot takes it)")


def equilibrium_rank(args):
    """The rank in the equilibrium list asked for by ``--equilibrium RANK``
    or ``--select equilibrium=RANK`` (as `plot` takes it), or None; the
    analyses of the whole parameter space select nothing else."""
    from coordsweep.kernels.outputs import EQUILIBRIUM_DIM
    select = parse_select(getattr(args, "select", None))
    rank = select.pop(EQUILIBRIUM_DIM, None)
    for key in select:
        raise CoordsweepError(f"--select {key}=...: this command analyses the whole parameter "
                              f"space; --select takes only {EQUILIBRIUM_DIM}=RANK (the rank "
                              "in the equilibrium list)")
    if rank is not None:
        if rank != int(rank):
            raise CoordsweepError(f"--select {EQUILIBRIUM_DIM}={rank:g}: a rank is a whole "
                                  "number (0: the best)")
        rank = int(rank)
        if args.equilibrium is not None and args.equilibrium != rank:
            raise CoordsweepError(f"--equilibrium {args.equilibrium} and --select "
                                  f"{EQUILIBRIUM_DIM}={rank}: pass one of them")
    return args.equilibrium if rank is None else rank
