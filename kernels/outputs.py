"""The per-point outputs of MODEL.md: names, shapes, dtypes, descriptions.

One table drives the kernels' output arrays (:data:`Outputs`), the store's
variables and the CLI's printing, so a name is spelled in exactly one place.
:data:`OUTPUTS` are always computed; the optional groups of CONTRACT.md
``[outputs]`` (:data:`EQUILIBRIUM_OUTPUTS`, :data:`DYNAMICS_OUTPUTS`) only
when a sweep asks (:func:`outputs_for`).

Pure Python (no numba import): the engine and the CLI read it cheaply.
"""
from collections import namedtuple

import numpy as np

Output = namedtuple("Output", "name per dtype units long_name")
Output.__doc__ = """One output.

name: MODEL.md's code name; per: "point" (shape (P,)), "sector" (P, N) or
"equilibrium" (P, K: the K best stable equilibria, best first); dtype;
units: a UDUNITS string ("1": dimensionless, "": none); long_name: CF
long name.
"""

OUTPUTS = tuple(Output(*row) for row in (
    ("wage_nc", "point", np.float64, "price of good units per unit labour",
     "wage at the no-coordination equilibrium S0"),
    ("welfare_nc", "point", np.float64, "world-price units",
     "welfare (national income at world prices net of cooperation costs) at S0"),
    ("n_equilibria", "point", np.int64, "1",
     "number of stable full-cooperation equilibria"),
    ("has_partial", "point", np.bool_, "",
     "some sector is in regime partial_coordination"),
    ("welfare_best_eq", "point", np.float64, "world-price units",
     "welfare at the best stable equilibrium"),
    ("wage_best_eq", "point", np.float64, "price of good units per unit labour",
     "wage at the best stable equilibrium"),
    ("welfare_fb", "point", np.float64, "world-price units",
     "first-best welfare over cooperation profiles in {0,1}^N"),
    ("coordination_gap", "point", np.float64, "world-price units",
     "welfare_best_eq - welfare_nc: what pure coordination can win"),
    ("provision_gap", "point", np.float64, "world-price units",
     "welfare_fb - welfare_best_eq: what needs subsidies"),
    ("target_ca", "point", np.int64, "sector index",
     "sector with the largest output value at S0 (revealed comparative advantage)"),
    ("target_cluster", "point", np.int64, "sector index",
     "sector with the highest externality"),
    ("target_best", "point", np.int64, "sector index",
     "sector with the highest gain_coordinate"),
    ("gain_ca", "point", np.float64, "world-price units",
     "gain_coordinate at target_ca"),
    ("gain_cluster", "point", np.float64, "world-price units",
     "gain_coordinate at target_cluster"),
    ("gain_best", "point", np.float64, "world-price units",
     "gain_coordinate at target_best"),
    ("fiscal_cost_nc", "point", np.float64, "world-price units",
     "fiscal cost of the policy at S0"),
    ("status", "point", np.int8, "",
     "0 when every number at the point is valid; bit field of failure codes"),
    ("regime", "sector", np.int8, "",
     "coordination regime of the sector at S0"),
    ("critical_mass", "sector", np.float64, "1",
     "smallest cooperating share from which cooperation pays (regimes 2, 3)"),
    ("partial_share", "sector", np.float64, "1",
     "stable partial cooperation share (regime 3)"),
    ("gain_coordinate", "sector", np.float64, "world-price units",
     "welfare gain when the sector is coordinated, from S0"),
    ("threshold_wage", "sector", np.float64, "price of good units per unit labour",
     "highest wage at which full cooperation is a best response"),
    ("subsidy_needed", "sector", np.float64, "1",
     "least cost subsidy share making S0 plus the sector an equilibrium"),
    ("coop_best_eq", "sector", np.bool_, "",
     "sector cooperates in the best stable equilibrium"),
    ("coop_fb", "sector", np.bool_, "",
     "sector cooperates in the first best"),
))

OUTPUT_NAMES = tuple(o.name for o in OUTPUTS)

#: ``[outputs] equilibria = K``: the K best stable equilibria
EQUILIBRIUM_OUTPUTS = (
    Output("eq_mask", "equilibrium", np.uint32, "",
           "cooperating sectors of the equilibrium as a bitmask (bit i: sector i)"),
    Output("eq_welfare", "equilibrium", np.float64, "world-price units",
           "welfare at the equilibrium"),
    Output("eq_wage", "equilibrium", np.float64, "price of good units per unit labour",
           "wage at the equilibrium"),
    Output("eq_listed", "point", np.int64, "1",
           "number of equilibria listed: min(n_equilibria, K)"),
)
#: ``[outputs] dynamics = K``: where the adjustment dynamics end, from K starts
DYNAMICS_OUTPUTS = (
    Output("basin_nc", "point", np.float64, "1",
           "share of starts whose adjustment path ends at S0"),
    Output("basin_best", "point", np.float64, "1",
           "share of starts whose adjustment path ends at the best equilibrium"),
    Output("p_stuck", "point", np.float64, "1",
           "share of starts ending at a rest point with welfare below welfare_best_eq"),
    Output("welfare_expected", "point", np.float64, "world-price units",
           "mean welfare over the end points of the adjustment paths"),
    Output("selection_gap", "point", np.float64, "world-price units",
           "welfare_best_eq - welfare_expected"),
    Output("big_push", "point", np.float64, "1",
           "smallest coordinated share that tips the economy into its best equilibrium"),
)
#: every output by name (the optional ones too)
OUTPUT = {o.name: o for o in OUTPUTS + EQUILIBRIUM_OUTPUTS + DYNAMICS_OUTPUTS}
#: bounds of the optional groups' K (CONTRACT.md "Optional outputs")
MAX_EQUILIBRIA = 1024
MAX_DYNAMICS = 65536
#: the equilibrium dimension's name
EQUILIBRIUM_DIM = "equilibrium"



def outputs_for(equilibria=0, dynamics=0):
    """The output rows of a sweep: OUTPUTS, then the optional groups it
    asks for (K > 0)."""
    return (OUTPUTS + (EQUILIBRIUM_OUTPUTS if equilibria else ())
            + (DYNAMICS_OUTPUTS if dynamics else ()))

#: the block kernel's results, by name: per-point fields have shape (P,),
#: per-sector fields shape (P, N), dtypes as in OUTPUTS (numba fills a
#: namedtuple of arrays, as QuantEcon's root finders return theirs)
Outputs = namedtuple("Outputs", OUTPUT_NAMES)


def allocate_outputs(npts, nsec):
    """Empty output arrays for a block of npts points of nsec sectors."""
    return Outputs(**{o.name: np.empty((npts,) if o.per == "point" else (npts, nsec), o.dtype)
                      for o in OUTPUTS})


def allocate_optional(npts, equilibria=0, dynamics=0):
    """Empty arrays {name: array} of the optional outputs a block asks for
    (equilibrium rows: (npts, equilibria))."""
    out = {}
    for o in outputs_for(equilibria, dynamics)[len(OUTPUTS):]:
        out[o.name] = np.empty((npts,) if o.per == "point" else (npts, equilibria), o.dtype)
    return out
