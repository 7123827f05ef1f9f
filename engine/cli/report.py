"""`coordsweep report STORE -o DIR`: a self-contained HTML report."""
from coordsweep.engine.cli.common import EXIT_OK, existing_store, output_path


def register(sub):
    rp = sub.add_parser("report", help="HTML report of a store (figures, spec, provenance)")
    rp.add_argument("store")
    rp.add_argument("-o", "--output", required=True, help="directory to write")
    rp.set_defaults(func=main)


def main(args):
    from coordsweep.engine.store import zarrstore as zstore
    from coordsweep.engine.viz.report import write_report
    store = existing_store(args.store)
    output_path(args.output, folder=True)
    path = write_report(zstore.open_dataset(store), args.output)
    print(f"wrote {path}")
    return EXIT_OK
