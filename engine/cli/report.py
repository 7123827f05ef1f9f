"""`coordsweep report STORE -o DIR`: a self-contained HTML report."""
from coordsweep.engine.cli.common import EXIT_OK, existing_store


def register(sub):
    rp = sub.add_parser("report", help="HTML report of a store (figures, spec, provenance)")
    rp.add_argument("store")
    rp.add_argument("-o", "--output", required=True, help="directory to write")
    rp.set_defaults(func=main)


def main(args):
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.engine.viz.report import write_report
    path = write_report(zstore.open_dataset(existing_store(args.store)), args.output)
    print(f"wrote {path}")
    return EXIT_OK
