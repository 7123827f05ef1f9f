"""The software that made a store: version attributes."""
import sys

import numpy as np

#: the version attributes of a store, in the order they are shown
VERSION_ATTRS = ("coordsweep_version", "numba_version", "numpy_version", "dask_version",
                 "xarray_version", "zarr_version", "python_version")


def versions():
    """{attribute: version} of this installation (:data:`VERSION_ATTRS`);
    dask's and xarray's from their installed metadata (importing them costs
    about 0.4 s where a run needs neither)."""
    from importlib.metadata import version

    import numba
    import zarr

    import coordsweep
    found = {"coordsweep": coordsweep.__version__, "numba": numba.__version__,
             "numpy": np.__version__, "dask": version("dask"),
             "xarray": version("xarray"), "zarr": zarr.__version__,
             "python": sys.version.split()[0]}
    return {key: found[key[:-len("_version")]] for key in VERSION_ATTRS}
