"""`coordsweep warmup`: compile the kernels into numba's cache, once."""
from coordsweep.engine.cli.common import EXIT_OK


def register(sub):
    w = sub.add_parser("warmup", help="compile the kernels once into numba's cache (after "
                       "installing or editing the kernels; before a job array starts)")
    w.set_defaults(func=main)


def main(args):
    from coordsweep.kernels import api
    seconds = api.warmup()
    where = api.cache_dir()
    print(f"kernels ready in {sum(seconds.values()):.1f} s ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()) + "); "
          + (f"numba cache: {where}" if where else
             "numba's cache is off (COORDSWEEP_NUMBA_CACHE=0): nothing was kept"))
    return EXIT_OK
