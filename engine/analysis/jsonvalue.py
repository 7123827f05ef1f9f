"""Values as JSON has them: NaN as null, +/-infinity as the strings "inf" /
"-inf" (CONTRACT.md "Command line"), NumPy scalars and arrays as numbers
and lists; dicts, lists and tuples converted element by element."""
import math


def json_value(v):
    """`v` ready for ``json.dumps`` (see the module's docstring)."""
    import numpy as np
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    if isinstance(v, np.ndarray):
        return json_value(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v
