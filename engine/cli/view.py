"""`coordsweep view STORE [--host 127.0.0.1] [--port 0] [--no-browser]`:
an interactive page for a store, served until Ctrl-C."""
import sys

from coordsweep.engine.cli.common import EXIT_INTERRUPTED, existing_store


def register(sub):
    v = sub.add_parser("view", help="explore a store in the browser (a local page)")
    v.add_argument("store")
    v.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    v.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    v.add_argument("--no-browser", action="store_true", help="do not open a browser")
    v.set_defaults(func=main)


def solve_point(spec_text, at):
    """The kernel's outputs at one point (``coordsweep.solve``), with the
    list of its stable equilibria (``equilibria``: the cooperating sectors'
    bitmasks, best welfare first when the kernel says so)."""
    from coordsweep.engine.api import point_spec, solve
    out = dict(solve(spec_text, at=at))
    if "equilibria" not in out and "eq_mask" not in out:
        try:
            from coordsweep import kernels
            one = point_spec(spec_text, at)
            masks = kernels.equilibrium_masks(**_one_point(one.base_point()))
            out["equilibria"] = [int(m) for m in masks]
        except (ValueError, TypeError, AttributeError):
            pass
    return out


def _one_point(params):
    """Kernel inputs of P = 1 (arrays of shape (1,) / (1, N)) as one point's."""
    import numpy as np
    return {k: (np.asarray(v)[0] if v is not None else None) for k, v in params.items()}


def main(args):
    from coordsweep.engine.errors import UsageError
    from coordsweep.engine.viz.view import is_loopback, serve
    store = existing_store(args.store)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: not a port (0..65535; 0: a free one)")
    try:
        server = serve(store, host=args.host, port=args.port, solve=solve_point)
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") \
            from None
    # Ctrl-C stops it even when started where SIGINT was ignored (a shell's `&`)
    import signal
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if not is_loopback(args.host):
            print(f"coordsweep: warning: serving on {args.host}, reachable from other "
                  f"machines (no authentication); use --host 127.0.0.1 to keep it local",
                  file=sys.stderr, flush=True)
        print(server.url, flush=True)
        if not args.no_browser:
            import webbrowser
            webbrowser.open(server.url)
        print("coordsweep: serving; Ctrl-C stops", file=sys.stderr, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("coordsweep: view stopped", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    finally:
        server.server_close()
    return 0
