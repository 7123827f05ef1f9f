"""The `coordsweep` command line (CONTRACT.md "Command line").

Exit codes: 0 success, 2 bad input (spec, arguments, store), 1 anything else.
"""
import argparse
import importlib
import sys

from coordsweep.engine.errors import CoordsweepError

from coordsweep.engine.cli.common import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK


class _Parser(argparse.ArgumentParser):
    """argparse, but bad arguments raise (exit 2 with our one-line message)."""

    def error(self, message):
        raise _ArgError(f"{self.prog}: {message}")


class _ArgError(Exception):
    pass


class _Version(argparse.Action):
    """--version, looking the version up only when asked (importlib.metadata)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        import coordsweep
        print(f"coordsweep {coordsweep.__version__}")  # (stdout, like argparse's)
        parser.exit()


#: the commands, in the order `coordsweep --help` lists them: each is a module
#: of this package with ``register(subparsers)`` and ``main(args) -> exit code``
COMMANDS = ("solve", "run", "inspect", "export", "plot", "report", "sensitivity", "discover",
            "view", "slurm_script", "bench", "warmup")


def build_parser():
    p = _Parser(prog="coordsweep",
                description="Sweeps of a multi-sector model of coordination failures and clusters.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return p


#: commands whose process starts without the cyclic garbage collector
#: (engine/run/startup.py): short ones, or `run`, which resumes it when
#: its chunks start
GC_PAUSED = ("run", "solve")


def main(argv=None):
    """The command line; argv None: this process is the command (then its
    start-up and exit skip the garbage collector, engine/run/startup.py)."""
    process = argv is None
    try:
        args = build_parser().parse_args(argv)
        # (after parsing: --help and --version import nothing more)
        if process:
            from coordsweep.engine.run import startup
            if args.command in GC_PAUSED:
                startup.pause_gc()
            if args.command == "run":  # (its in-process schedulers)
                startup.tune_malloc()
        from coordsweep.engine.store import conventions
        conventions.set_command(sys.argv[1:] if argv is None else argv)
        code = args.func(args)
        if process:
            startup.freeze_at_exit()
            if args.command in GC_PAUSED:  # (its exit as short as its start)
                startup.exit_now(code)
        return code
    except KeyboardInterrupt:
        print("coordsweep: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _ArgError as exc:
        print(f"coordsweep: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CoordsweepError as exc:
        print(f"coordsweep: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - run-time failures: one line, exit 1
        from coordsweep.engine.run.faults import runtime_message
        msg = runtime_message(exc)
        if msg is None:
            raise
        print(f"coordsweep: error: {msg}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    raise SystemExit(main())
