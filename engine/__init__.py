"""coordsweep engine: specs, grids, scheduling, storage and the command line."""
from engine.errors import CoordsweepError, SpecError, StoreError, UsageError  # noqa: F401

__version__ = "0.1.0"
