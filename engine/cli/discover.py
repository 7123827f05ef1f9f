"""`coordsweep discover STORE --var VAR [--sector S] --category NAME ...`:
scenario discovery (PRIM or CART boxes where a category holds)."""
import json

from coordsweep.engine.cli.common import (
    EXIT_OK, add_rank_args, equilibrium_rank, existing_store, output_path)


def register(sub):
    sa = sub.add_parser("discover", help="boxes in parameter space where a category holds "
                        "(PRIM or CART scenario discovery)")
    sa.add_argument("store")
    sa.add_argument("--var", help="output (regime, target_*, n_equilibria, a boolean, or a "
                    "number with --where)")
    add_rank_args(sa)
    sa.add_argument("--category", help="the category sought (a regime name, a sector name "
                    "for target_*, 'multiple' for n_equilibria > 1, true or false for a "
                    "boolean)")
    sa.add_argument("--where", help="a threshold instead of a category: \"VAR>VALUE\" "
                    "(operators < <= > >= == !=), e.g. \"coordination_gap>0.01\"")
    sa.add_argument("--method", default="prim", help="prim (default) or cart")
    sa.add_argument("--threshold", type=float, default=0.8,
                    help="least density of a box (default 0.8)")
    sa.add_argument("--margin", type=float, default=2.0, metavar="Z",
                    help="a box reaches the threshold when its density does by Z binomial "
                    "standard errors (Wilson's lower bound; default 2, 0: in-sample density)")
    sa.add_argument("--check", type=int, default=10_000, metavar="N",
                    help="fresh points solved in each candidate box to choose it (default "
                    "10000; 0: choose on the store's points only)")
    sa.add_argument("--peel-alpha", type=float, default=0.05)
    sa.add_argument("--paste-alpha", type=float, default=0.05)
    sa.add_argument("--mass-min", type=float, default=0.05)
    sa.add_argument("--boxes", type=int, default=3, help="at most this many boxes (default 3)")
    sa.add_argument("--verify", type=int, default=0, metavar="N",
                    help="solve N fresh points drawn uniformly in each box")
    sa.add_argument("--bootstrap", type=int, default=0, metavar="B",
                    help="find the first box again on B resamples of the points: how often "
                    "each parameter is restricted, and its limits' quantiles")
    sa.add_argument("--seed", type=int, default=0, help="seed of samples and fresh points")
    sa.add_argument("--save", action="store_true",
                    help="keep the result in the store's attribute 'discovery' (the report "
                    "shows it)")
    sa.add_argument("--json", action="store_true", help="print one JSON object")
    sa.add_argument("-o", "--output", help="PNG: the trade-off and the box limits")
    sa.set_defaults(func=main)


def main(args):
    from coordsweep.engine.analysis import discover
    from coordsweep.engine.errors import UsageError
    from coordsweep.engine.store import zarrstore as zstore
    if args.boxes < 1:
        raise UsageError(f"--boxes {args.boxes}: must be >= 1")
    if args.output and not str(args.output).lower().endswith(".png"):
        raise UsageError(f"-o {args.output}: a .png file")
    path = existing_store(args.store)
    if args.output:
        output_path(args.output)
    res = discover.discover(zstore.open_dataset(path), args.var, args.sector, args.category,
                            where=args.where, equilibrium=equilibrium_rank(args),
                            method=args.method, verify_n=args.verify,
                            threshold=args.threshold, margin=args.margin,
                            check_n=args.check, peel_alpha=args.peel_alpha,
                            paste_alpha=args.paste_alpha, mass_min=args.mass_min,
                            max_boxes=args.boxes, bootstrap=args.bootstrap, seed=args.seed)
    if args.output:
        from coordsweep.engine.viz.discover_plot import plot_discovery
        plot_discovery(res, args.output)
    if args.save:
        discover.save(path, res)
    if args.json:
        print(json.dumps(discover.to_json(res)))
    else:
        print(discover.format_text(res))
        if args.output:
            print(f"wrote {args.output}")
        if args.save:
            print(f"kept in {path} (attribute '{discover.ATTR}')")
    return EXIT_OK
