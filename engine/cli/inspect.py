"""`coordsweep inspect STORE [--json] [--check] [--verify]`: what a store holds."""
import json

from coordsweep.engine.cli.common import EXIT_FAIL, EXIT_INCOMPLETE, EXIT_OK, existing_store


def register(sub):
    i = sub.add_parser("inspect", help="what a store holds, how complete it is, its spec")
    i.add_argument("store")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.add_argument("--check", action="store_true",
                   help=f"exit {EXIT_INCOMPLETE} when the run is incomplete")
    i.add_argument("--verify", action="store_true",
                   help="read every chunk, check it against the completion record, "
                   "name the bad ones (exit 1 when a chunk is bad or not computed)")
    i.add_argument("--verify-fill", type=int, metavar="N", dest="verify_fill",
                   help="a refined store: solve N random filled points (all if fewer) and "
                   "compare the refined outputs (exit 1 on a mismatch, 2 when the store "
                   "is not refined)")
    i.add_argument("--seed", type=int, default=0, help="the --verify-fill sample's seed")
    i.set_defaults(func=main)


def main(args):
    from coordsweep.engine.analysis.info import inspect_dict, inspect_text
    from coordsweep.engine.analysis.jsonvalue import json_value
    from coordsweep.engine.store import lease
    path = existing_store(args.store)
    held = lease.read(path)
    if held is not None:
        held = dict(held, state_of_run=lease.state_of(held))
    if args.verify_fill is not None:
        from coordsweep.engine.analysis import refined
        checked, filled, lines = refined.verify_fill(path, args.verify_fill, args.seed)
        if args.json:  # (the store's inspect object, as with --verify)
            info = inspect_dict(path)
            info["verify_fill"] = {"checked": checked, "filled": filled, "seed": args.seed,
                                   "mismatches": lines}
            print(json.dumps(json_value(info)))
        else:
            print(refined.format_verify_fill(checked, filled, lines))
        return EXIT_FAIL if lines else EXIT_OK
    checked = None
    if args.verify:
        from coordsweep.engine.store import verify
        checked = verify.check(path)
    info = inspect_dict(path)
    if args.json:
        if held is not None:
            info["run"] = held
        if checked is not None:
            info["verify"] = {"bad": {str(k): v for k, v in checked["bad"].items()},
                              "not_computed": checked["not_computed"]}
        print(json.dumps(json_value(info)))
    else:
        print(inspect_text(info))
        if held is not None:
            print(f"run: {held['state_of_run']}: {lease.describe(held)}")
        if checked is not None:
            from coordsweep.engine.store import verify
            print(verify.format_check(checked))
    complete = info["complete"]
    if checked is not None and (checked["bad"] or checked["not_computed"]):
        return EXIT_FAIL
    if args.check and not complete:
        return EXIT_INCOMPLETE
    return EXIT_OK
