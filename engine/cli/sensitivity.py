"""`coordsweep sensitivity STORE --var VAR ...`: sensitivity indices."""
import json

from coordsweep.engine.cli.common import EXIT_OK, existing_store


def register(sub):
    sa = sub.add_parser("sensitivity", help="Sobol or Morris indices of an output "
                        "over a design store")
    sa.add_argument("store")
    sa.add_argument("--var", required=True, help="output to analyse")
    sa.add_argument("--sector", help="sector, for per-sector outputs")
    sa.add_argument("--equilibrium", type=int, metavar="RANK",
                    help="rank in the equilibrium list (0: the best), for eq_* outputs")
    sa.add_argument("--category", help="analyse the indicator of this category (a regime "
                    "name, a sector name for target_*, 'multiple' for n_equilibria > 1)")
    sa.add_argument("--json", action="store_true", help="print one JSON object")
    sa.add_argument("-o", "--output", help="PNG bar chart of the indices")
    sa.set_defaults(func=main)


def main(args):
    from coordsweep.engine.analysis import sensitivity
    from coordsweep.engine.store import zarrstore as zstore
    res = sensitivity.indices(zstore.open_dataset(existing_store(args.store)), args.var,
                              sector=args.sector, category=args.category,
                              equilibrium=args.equilibrium)
    if args.output:
        sensitivity.plot_indices(res, args.output)
    if args.json:
        print(json.dumps(sensitivity.to_json(res)))
    else:
        print(sensitivity.format_text(res))
        if args.output:
            print(f"wrote {args.output}")
    return EXIT_OK
