"""`coordsweep warmup`: compile the kernels into numba's cache, once, and
remove what earlier kernel sources left there."""
import os

from coordsweep.engine.cli.common import EXIT_OK


def register(sub):
    w = sub.add_parser("warmup", help="compile the kernels once into numba's cache (after "
                       "installing or editing the kernels; before a job array starts) and "
                       "remove the cache's stale entries")
    w.set_defaults(func=main)


def prune_cache(directory):
    """Delete the files of numba's cache in `directory` that no kernel of
    these sources can load (kernels/jit.py ``stale_cache_files``).
    Returns (files, bytes) removed."""
    from coordsweep.kernels.jit import stale_cache_files
    files = size = 0
    for path in stale_cache_files(directory):
        try:
            st = os.stat(path)
            os.remove(path)
        except FileNotFoundError:  # (another warmup removed it first)
            continue
        files += 1
        size += st.st_size
    return files, size


def main(args):
    from coordsweep.kernels import api
    seconds = api.warmup()
    where = api.cache_dir()
    pruned = ""
    if where:
        files, size = prune_cache(where)
        if files:
            pruned = (f"; removed {files} stale cache files ({size / 2**20:.1f} MiB) of "
                      "earlier kernel sources or numba versions")
    print(f"kernels ready in {sum(seconds.values()):.1f} s ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()) + "); "
          + (f"numba cache: {where}{pruned}" if where else
             "numba's cache is off (COORDSWEEP_NUMBA_CACHE=0): nothing was kept"))
    return EXIT_OK
