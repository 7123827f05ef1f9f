"""`coordsweep bench`: time solver variants and baselines on one core."""
import argparse
import sys

from coordsweep.engine.cli.common import EXIT_OK
from coordsweep.engine.errors import CoordsweepError


def register(sub):
    b = sub.add_parser("bench", help="time solver variants and baselines (C, SciPy) "
                       "on one core and compare what they find")
    b.add_argument("--quick", action="store_true", help="about a minute: fewer N, "
                   "short budgets, SciPy only up to 6 sectors")
    b.add_argument("--sectors", type=int, nargs="+", metavar="N",
                   help="numbers of sectors (default 1..12; --quick 1 2 3 4 6 8 10 12)")
    b.add_argument("--eta", type=int, nargs="+", choices=(0, 1), default=[0, 1],
                   help="0: every eta = 0; 1: eta > 0 (default both)")
    b.add_argument("--variants", help="variants separated by ';' (numba: the reference, "
                   "always run; c; scipy; solver variants such as equilibria=mitm or "
                   "wage=brent,path=bisect); default: numba, the built-in solver "
                   "variants one at a time, c, scipy (--quick: numba, wage=brent, "
                   "equilibria=mitm, c, scipy)")
    b.add_argument("--budget", type=float, help="seconds per variant and cell")
    b.add_argument("--repeats", type=int, help="timed repeats per cell (median reported)")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--cold", action=argparse.BooleanOptionalAction, default=None,
                   help="measure the kernels' compile time in a fresh process without "
                   "numba's cache (default: on, off with --quick)")
    b.add_argument("-o", "--output", help="also write the dataset (.nc or .zarr)")
    b.add_argument("--plot", help="also plot points/s against N per variant (.png)")
    b.add_argument("--quiet", action="store_true", help="no progress lines")
    b.set_defaults(func=main)


def main(args):
    from coordsweep.engine.run import bench
    out = bench.check_output(args.output)
    if args.budget is not None and not args.budget > 0:
        raise CoordsweepError(f"--budget {args.budget:g}: seconds, > 0")
    if args.repeats is not None and args.repeats < 1:
        raise CoordsweepError(f"--repeats {args.repeats}: >= 1")
    if args.plot is not None and not args.plot.endswith(".png"):
        raise CoordsweepError(f"--plot {args.plot}: must end in .png")
    variants = None if args.variants is None else \
        [v.strip() for v in args.variants.split(";") if v.strip()]
    etas = tuple(e == 1 for e in sorted(set(args.eta)))
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    ds = bench.run_bench(quick=args.quick, sectors=args.sectors, etas=etas, variants=variants,
                         budget=args.budget, repeats=args.repeats, seed=args.seed,
                         cold=args.cold, log=log)
    print(bench.format_table(ds))
    if out is not None:
        print(f"wrote {bench.write_dataset(ds, out)}")
    if args.plot is not None:
        print(f"wrote {bench.plot_rates(ds, args.plot)}")
    return EXIT_OK
