"""CF-1.10 metadata of the results store, and the encodings every zarr 3
reader knows.

The store's variables and coordinates get their attributes here, derived
from the tables in :mod:`coordsweep.kernels.params` (parameters: units,
descriptions), :mod:`coordsweep.kernels.outputs` (outputs) and
:mod:`coordsweep.kernels.codes` (regimes, status bits):

- ``units`` are UDUNITS strings. The model's quantities are in units of
  the numeraire (world prices) or of labour, which UDUNITS does not know:
  such a variable has ``units = "1"`` and its economic unit in ``comment``.
- Categorical variables carry ``flag_values`` of the variable's own dtype
  (int8 for ``regime``, int64 for ``target_*``) and ``flag_meanings``,
  exactly the model's categories (CONTRACT.md); the code the store reads
  where nothing is computed (-1) lies outside the declared ``valid_range``
  (CF tools treat it as missing) rather than being a ``_FillValue``, so
  that xarray keeps these variables integer. ``status`` has typed
  ``flag_masks``; its fill value is the ``not_computed`` bit. Floats have
  ``_FillValue = NaN``. ``n_equilibria`` declares ``valid_min = 0``.
- The ``sector`` coordinate holds the sector names, as CONTRACT.md promises
  to ``xarray.open_zarr`` users. zarr 3's ``string`` data type is an
  extension that some readers (tensorstore) lack, so the names are also in
  the ``sector_names`` attribute of the group and of the ``sector``
  array: such a reader opens every other array and reads the names
  from the metadata. The netCDF export writes ``sector`` as an integer
  coordinate with a CF label variable (:func:`encode_sectors`);
  :func:`decode_sectors` reads it back (and stores of an interim version
  that kept the names only in ``flag_meanings``).
- Dataset attributes: ``Conventions``, ``title``, ``history`` (the command
  line), ``source``, ``references``, ``date_created``; ``complete`` is an
  int (1/0): netCDF has no boolean attributes. Stores written before this
  (``complete = true``) are read the same way by :func:`is_complete`.
"""
import datetime
import shlex
import sys

import numpy as np

CONVENTIONS = "CF-1.10"
REFERENCES = ("Rodriguez-Clare, A. (2005). Coordination failures, clusters, and "
              "microeconomic interventions. Economia 6(1), 77-109.")
#: the economic units of kernels/outputs.py that UDUNITS has no name for
ECONOMIC_UNITS = {
    "world-price units": "in units of the numeraire (goods valued at world prices)",
    "price of good units per unit labour": "in units of the numeraire per unit of labour",
}
SECTOR_DTYPE = np.int64

_command = None


def set_command(argv):
    """Record the command line that writes stores from this process (the CLI
    calls it); ``history`` quotes it."""
    global _command
    _command = "coordsweep " + shlex.join(str(a) for a in argv)


def command_line():
    if _command is not None:
        return _command
    return "python: coordsweep API (" + shlex.join(str(a) for a in sys.argv[:1]) + ")"


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def is_complete(attrs):
    """Whether a store's attributes say the run is complete: ``complete`` is
    1 in new stores, ``True`` in stores written before (and the string
    "true"/"yes" is accepted too)."""
    value = attrs.get("complete")
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    try:
        return bool(value) and int(value) == 1
    except (TypeError, ValueError):
        return False


def store_token(attrs):
    """The value marking a chunk done in the completion record
    (``chunk_done``) of a store with these attributes: the store's
    ``run_token`` (1 in stores written before run tokens)."""
    return attrs.get("run_token", 1)


def chunks_done(record, token):
    """Which chunks are done: the elements of the completion record equal to
    the store's token (:func:`store_token`); anything else (0, a mark left by
    another run) is not done."""
    return np.asarray(record) == token


def unit_attrs(units):
    """``units`` (UDUNITS) and, where needed, a ``comment`` with the economic unit."""
    if not units:
        return {}
    if units in ECONOMIC_UNITS:
        return {"units": "1", "comment": ECONOMIC_UNITS[units]}
    if units == "sector index":
        return {}
    return {"units": units}


def output_attrs(name, dtype, units, long_name, sector_names):
    """CF attributes of one output variable (kernels/outputs.py row)."""
    from coordsweep.kernels.codes import NO_CATEGORY, NOT_COMPUTED, REGIME_NAMES, STATUS_BITS
    dtype = np.dtype(dtype)
    attrs = {"long_name": long_name, **unit_attrs(units)}
    notes = [attrs.pop("comment")] if "comment" in attrs else []
    if name == "regime":
        attrs["flag_values"] = np.arange(len(REGIME_NAMES), dtype=dtype)
        attrs["flag_meanings"] = " ".join(REGIME_NAMES)
        attrs["valid_range"] = np.array([0, len(REGIME_NAMES) - 1], dtype=dtype)
        notes.append(f"{NO_CATEGORY}: not computed (chunk never written) or invalid input")
    elif name.startswith("target_"):
        attrs["flag_values"] = np.arange(len(sector_names), dtype=dtype)
        attrs["flag_meanings"] = " ".join(sector_names)
        attrs["valid_range"] = np.array([0, len(sector_names) - 1], dtype=dtype)
        notes.append(f"the sector's index along sector; {NO_CATEGORY}: not computed "
                     "(chunk never written) or invalid input")
    elif name in ("n_equilibria", "eq_listed"):
        attrs["valid_min"] = dtype.type(0)
        notes.append(f"{NO_CATEGORY}: not computed (chunk never written)")
    elif name == "eq_mask":
        notes.append("bit i set when sector i (its index along sector) cooperates; "
                     "the same mask names the same cooperation set at every point. "
                     f"{EQ_MASK_FILL}: no equilibrium in this slot, or not computed")
    elif name == "status":
        attrs["flag_masks"] = np.array([bit for bit, _, _ in STATUS_BITS], dtype=dtype)
        attrs["flag_meanings"] = " ".join(n for _, n, _ in STATUS_BITS)
        notes.append("0: every number at the point is valid. " + "; ".join(
            f"{bit}: {desc}" for bit, _, desc in STATUS_BITS)
            + f". Points never computed read {NOT_COMPUTED} (not_computed).")
    elif dtype.kind == "b":
        notes.append("boolean: 1 true, 0 false (false where not computed: see status)")
    elif dtype.kind == "f":
        notes.append("NaN (_FillValue): not defined at the point or not computed")
    if notes:
        attrs["comment"] = ". ".join(n.rstrip(".") for n in notes) + "."
    return attrs


def param_units(axis):
    """UDUNITS units of an axis or design parameter, from kernels/params.py
    (scale factors and spreads are pure numbers: "1")."""
    from coordsweep.kernels.params import PARAM
    param = getattr(axis, "param", None)
    return (PARAM[param].units if param in PARAM else "1") or "1"


def axis_attrs(axis, sector_names, long_name):
    """CF attributes of an axis coordinate."""
    return {"long_name": long_name, "units": param_units(axis), "spacing": axis.spacing}


#: long names of the axes that are not a model parameter
SCALE_AXIS_DESCRIPTIONS = {
    "externality_scale": "scale factor on every sector's externality theta_i",
    "cost_scale": "scale factor on every sector's cooperation cost c_i",
    "ca_spread": "comparative-advantage spread v: a_i <- a_i exp(v k_i)",
}


def axis_long_name(axis, sector_names):
    """The long_name of an axis' coordinate."""
    from coordsweep.kernels.params import PARAM
    if axis.name in SCALE_AXIS_DESCRIPTIONS:
        return SCALE_AXIS_DESCRIPTIONS[axis.name]
    desc = PARAM[axis.param].description
    if PARAM[axis.param].per == "point":
        return desc
    if axis.sector is None:
        return f"{desc} of every sector"
    return f"{desc} of sector {sector_names[axis.sector]}"


def sector_coord(sector_names):
    """(values, attrs) of the store's ``sector`` coordinate: the names."""
    return (np.array(list(sector_names), dtype=object),
            {"long_name": "sector name", "sector_names": list(sector_names)})


def sector_index_coord(sector_names):
    """(values, attrs) of an integer ``sector`` coordinate whose
    ``flag_meanings`` are the names (the netCDF export)."""
    n = len(sector_names)
    return (np.arange(n, dtype=SECTOR_DTYPE),
            {"long_name": "sector index", "units": "1",
             "flag_values": np.arange(n, dtype=SECTOR_DTYPE),
             "flag_meanings": " ".join(sector_names),
             "comment": "sector names in flag_meanings, in spec order; "
                        "coordsweep.open_store shows them as the coordinate"})


def global_attrs(title):
    """The CF global attributes of a new store."""
    import coordsweep
    return {
        "Conventions": CONVENTIONS,
        "title": title or "coordsweep sweep",
        "source": f"coordsweep {coordsweep.__version__}: sweeps of a multi-sector model "
                  "of coordination failures and clusters (Numba kernels)",
        "history": f"{now_iso()}: {command_line()}",
        "references": REFERENCES,
        "date_created": now_iso(),
    }


def chunk_record_attrs():
    return {"long_name": "completion record: 1 when the chunk is written "
                         "(chunks in C order over the axes)",
            "flag_values": np.array([0, 1], dtype=np.int8),
            "flag_meanings": "not_written written",
            "comment": "bookkeeping, not a result; dropped by coordsweep export"}


#: eq_mask where the slot is empty (uint32, every bit set)
EQ_MASK_FILL = 4294967295


def equilibrium_coord(k):
    """(values, attrs) of the ``equilibrium`` coordinate: ranks 0..K-1."""
    return (np.arange(k, dtype=np.int64),
            {"long_name": "rank of the stable equilibrium by welfare (0: the best)",
             "units": "1"})


def chunk_coord(nchunks):
    return (np.arange(nchunks, dtype=np.int64),
            {"long_name": "chunk index (C order over the axes)", "units": "1"})


def decode_sectors(ds):
    """A Dataset whose ``sector`` coordinate is the sector names. A store
    keeps the names as its ``sector`` coordinate (returned as it is); a
    netCDF export (:func:`encode_sectors`), and stores of an interim
    version, have an integer coordinate with the names in ``flag_meanings``,
    decoded here."""
    if "sector" not in ds.coords:
        return ds
    coord = ds["sector"]
    if coord.dtype.kind not in "iu" or "flag_meanings" not in coord.attrs:
        return ds
    names = str(coord.attrs["flag_meanings"]).split()
    codes = np.asarray(coord.values)
    if len(names) != coord.size or not np.array_equal(codes, np.arange(coord.size)):
        return ds
    attrs = {"long_name": "sector name"}
    return ds.assign_coords(sector=("sector", np.array(names, dtype=object), attrs))


def encode_sectors(ds):
    """The inverse of :func:`decode_sectors`: names -> the integer coordinate."""
    if "sector" not in ds.coords or ds["sector"].dtype.kind in "iu":
        return ds
    names = [str(s) for s in np.asarray(ds["sector"].values).tolist()]
    values, attrs = sector_index_coord(names)
    return ds.assign_coords(sector=("sector", values, attrs))
