"""Two small tools of the store's modules: template arrays without data
yet, and zarr's notes silenced."""
import contextlib
import warnings

import numpy as np


@contextlib.contextmanager
def quiet():
    """Silence zarr's notes on consolidated metadata and string dtypes."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")
        warnings.filterwarnings("ignore", message=".*is not recognized as a component.*")
        yield


class Lazy:
    """An array of the template that has no data yet (its chunks are
    written by the tasks): shape, dtype and zarr chunk shape."""
    __slots__ = ("shape", "dtype", "chunks")

    def __init__(self, shape, dtype, chunks):
        self.shape, self.dtype, self.chunks = tuple(shape), np.dtype(dtype), tuple(chunks)
