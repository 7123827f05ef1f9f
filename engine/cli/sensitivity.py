"""`coordsweep sensitivity STORE --var VAR ...`: sensitivity indices."""
import json

from coordsweep.engine.cli.common import (
    EXIT_OK, add_rank_args, equilibrium_rank, existing_store, output_path)


def register(sub):
    sa = sub.add_parser("sensitivity", help="sensitivity indices of an output: Sobol or "
                        "Morris on their designs, given-data methods on any store")
    sa.add_argument("store")
    sa.add_argument("--var", required=True, help="output to analyse")
    add_rank_args(sa)
    sa.add_argument("--category", help="analyse the indicator of this category (a regime "
                    "name, a sector name for target_*, 'multiple' for n_equilibria > 1, "
                    "true or false for a boolean)")
    sa.add_argument("--method", help="sobol | morris (their own designs; the default on "
                    "them) | delta | pawn | rbd_fast | hdmr | discrepancy (any store: the "
                    "axes and design parameters as parameters)")
    sa.add_argument("--max-points", type=int, metavar="N",
                    help="given-data methods: analyse at most N points (a seeded random "
                    "sample beyond; default per method, delta 1000)")
    sa.add_argument("--resamples", type=int, default=100, metavar="N",
                    help="bootstrap resamples of the intervals (default 100; delta's cost "
                    "grows with N + 1)")
    sa.add_argument("--json", action="store_true", help="print one JSON object")
    sa.add_argument("-o", "--output", help="PNG bar chart of the indices")
    sa.set_defaults(func=main)


def main(args):
    from coordsweep.engine.analysis import sensitivity
    from coordsweep.engine.analysis.sensitivity_text import format_text, to_json
    from coordsweep.engine.store import zarrstore as zstore
    store = existing_store(args.store)
    if args.output:
        output_path(args.output)
    res = sensitivity.indices(zstore.open_dataset(store), args.var,
                              sector=args.sector, category=args.category, method=args.method,
                              equilibrium=equilibrium_rank(args),
                              max_points=args.max_points, num_resamples=args.resamples)
    if args.output:
        from coordsweep.engine.viz.sensitivity_plot import plot_indices
        plot_indices(res, args.output)
    if args.json:
        print(json.dumps(to_json(res)))
    else:
        print(format_text(res))
        if args.output:
            print(f"wrote {args.output}")
    return EXIT_OK
