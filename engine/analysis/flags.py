"""What the stored codes mean: the status bits' names (kernels/codes.py),
CF ``flag_values`` / ``flag_masks`` of a variable."""
import numpy as np

from coordsweep.kernels.codes import NOT_COMPUTED, STATUS_BITS

#: {bit: name} of the status bits (kernels/codes.py)
STATUS_NAMES = {bit: name for bit, name, _ in STATUS_BITS}
#: the bits a computed point can have (all but NOT_COMPUTED)
COMPUTED_STATUS_NAMES = {bit: name for bit, name in STATUS_NAMES.items() if bit != NOT_COMPUTED}
#: {bit: description} of the status bits
STATUS_DESCRIPTIONS = {bit: desc for bit, _, desc in STATUS_BITS}


def _int_list(v):
    return [int(x) for x in np.atleast_1d(np.asarray(v)).tolist()]


def flags(da):
    """What the CF flag attributes of a variable say: ("categorical",
    {code: name}) for ``flag_values``, ("bitfield", {mask: name}) for
    ``flag_masks``, (None, None) for neither. Meanings that do not match the
    codes in number fall back to the codes (status bits to their names)."""
    attrs = da.attrs
    if "flag_values" in attrs and "flag_meanings" in attrs:
        vals = _int_list(attrs["flag_values"])
        meanings = str(attrs["flag_meanings"]).split()
        if len(meanings) != len(vals):
            meanings = [str(v) for v in vals]
        return "categorical", dict(zip(vals, meanings))
    if "flag_masks" in attrs:
        masks = _int_list(attrs["flag_masks"])
        meanings = str(attrs.get("flag_meanings", "")).split()
        if len(meanings) != len(masks):
            meanings = [STATUS_NAMES.get(m, f"bit{m}") for m in masks]
        return "bitfield", dict(zip(masks, meanings))
    return None, None


def describe_status(code, bits=None):
    """Names of the bits set in a status code ('ok' for 0, 'unknown(n)' for
    bits that ``bits`` ({mask: name}, default the kernels' bits) lacks)."""
    bits = STATUS_NAMES if bits is None else bits
    code = int(code)
    if code == 0:
        return ["ok"]
    names = [name for bit, name in bits.items() if code & bit]
    rest = code & ~sum(bits)
    if rest:
        names.append(f"unknown({rest})")
    return names
