"""The per-point outputs of MODEL.md: names, shapes, dtypes, descriptions.

One table drives the kernels' output arrays (:data:`Outputs`), the store's
variables and the CLI's printing, so a name is spelled in exactly one place.
"""
from collections import namedtuple

import numpy as np

# name, per ("point" or "sector"), dtype, units, long name
OUTPUTS = (
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
)

OUTPUT_NAMES = tuple(o[0] for o in OUTPUTS)
POINT_OUTPUTS = tuple(o for o in OUTPUTS if o[1] == "point")
SECTOR_OUTPUTS = tuple(o for o in OUTPUTS if o[1] == "sector")

#: the block kernel's results, by name: per-point fields have shape (P,),
#: per-sector fields shape (P, N), dtypes as in OUTPUTS (numba fills a
#: namedtuple of arrays, as QuantEcon's root finders return theirs)
Outputs = namedtuple("Outputs", OUTPUT_NAMES)


def allocate_outputs(npts, nsec):
    """Empty output arrays for a block of npts points of nsec sectors."""
    return Outputs(**{name: np.empty((npts,) if per == "point" else (npts, nsec), dtype)
                      for name, per, dtype, _, _ in OUTPUTS})
