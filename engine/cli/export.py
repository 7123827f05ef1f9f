"""`coordsweep export STORE OUT [--format netcdf|parquet|csv]`."""
from coordsweep.engine.cli.common import EXIT_OK, existing_store


def register(sub):
    e = sub.add_parser("export", help="the store's computed points as netCDF-4 (CF), "
                       "Parquet or CSV")
    e.add_argument("store")
    e.add_argument("output", help="file to write (.nc, .parquet, .csv)")
    e.add_argument("--format", choices=("netcdf", "parquet", "csv"),
                   help="default: from the file's suffix, else netcdf")
    e.add_argument("--incomplete", action="store_true",
                   help="export a store whose run is not complete: netCDF holds fill "
                   "values at the points not computed, tables leave them out")
    e.add_argument("--overwrite", action="store_true", help="replace an existing file")
    e.add_argument("--quiet", action="store_true", help="print nothing")
    e.set_defaults(func=main)


def main(args):
    from coordsweep.engine.analysis.export import export
    out = export(existing_store(args.store), args.output, args.format,
                 incomplete=args.incomplete, overwrite=args.overwrite)
    if not args.quiet:
        print(f"wrote {out}")
    return EXIT_OK
