"""`coordsweep plot STORE --x AXIS [--y AXIS] --var VAR ... -o FILE.png`."""
from coordsweep.engine.cli.common import EXIT_OK, existing_store, output_path, parse_select


def register(sub):
    pl = sub.add_parser("plot", help="plot a variable of a store (line or map)")
    pl.add_argument("store")
    pl.add_argument("--x", required=True, help="axis on the horizontal")
    pl.add_argument("--y", help="axis on the vertical (a map)")
    pl.add_argument("--var", required=True, help="variable to plot")
    pl.add_argument("--sector", help="sector, for per-sector variables")
    pl.add_argument("--select", action="append", metavar="AXIS=VALUE",
                    help="fix another axis (nearest value); repeatable")
    pl.add_argument("-o", "--output", required=True, help="PNG file to write")
    pl.add_argument("--width", type=int, default=800, help="pixels")
    pl.add_argument("--height", type=int, default=600, help="pixels")
    pl.set_defaults(func=main)


def main(args):
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.engine.viz.plot import plot
    store = existing_store(args.store)
    select = parse_select(args.select)
    output_path(args.output)
    res = plot(zstore.open_dataset(store), x=args.x, y=args.y, var=args.var,
               sector=args.sector, select=select, out=args.output,
               width=args.width, height=args.height)
    print(f"wrote {res['path']}")
    return EXIT_OK
