"""`coordsweep view STORE [--host 127.0.0.1] [--port 0] [--no-browser]`:
an interactive page for a store, served until Ctrl-C."""
import sys

from coordsweep.engine.cli.common import EXIT_INTERRUPTED, existing_store, interruptible


def register(sub):
    v = sub.add_parser("view", help="explore a store in the browser (a local page)")
    v.add_argument("store")
    v.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    v.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    v.add_argument("--no-browser", action="store_true", help="do not open a browser")
    v.set_defaults(func=main)


#: the lists a point solved on the page holds when its store has none
SOLVE_EQUILIBRIA = 16
SOLVE_DYNAMICS = 64


def solve_point(spec_text, at):
    """The kernel's outputs at one point (``coordsweep.solve``), with the
    optional outputs (CONTRACT.md "Optional outputs") the store's spec did
    not ask for: the list of the best stable equilibria and, where this
    the dynamics."""
    import tomli_w

    from coordsweep.engine.api import solve
    from coordsweep.engine.spec.model import tomllib
    doc = tomllib.loads(spec_text)
    outputs = doc.setdefault("outputs", {})
    if not outputs.get("equilibria"):
        outputs["equilibria"] = SOLVE_EQUILIBRIA
    if not outputs.get("dynamics"):
        outputs["dynamics"] = SOLVE_DYNAMICS
    return dict(solve(tomli_w.dumps(doc), at=at))


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
    interruptible()
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
