#!/usr/bin/env bash
# Rebuild the README's figures from the paper sweeps (a few seconds each).
# Usage: bash docs/make_figures.sh   (with coordsweep on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/figures
mkdir -p "$out"
for s in sweeps/paper_*.toml; do
  coordsweep run "$s" --overwrite --quiet > /dev/null
done
size=(--width 640 --height 440)
coordsweep plot results/paper_1_coordination_failures.zarr --x externality_scale --y cost_scale \
  --var regime --sector manu -o "$out/paper_1_regime_manu.png" "${size[@]}"
coordsweep plot results/paper_1_coordination_failures.zarr --x externality_scale --y cost_scale \
  --var coordination_gap -o "$out/paper_1_coordination_gap.png" "${size[@]}"
coordsweep plot results/paper_2_targeting.zarr --x ca_spread --y externality.cluster \
  --var target_best -o "$out/paper_2_target_best.png" "${size[@]}"
coordsweep plot results/paper_3_import_substitution.zarr --x subsidy.manu \
  --var welfare_best_eq --select externality.agro=0.5 -o "$out/paper_3_welfare.png" "${size[@]}"
coordsweep plot results/paper_4_uniform_cost_subsidy.zarr --x cost_subsidy --y externality_scale \
  --var n_equilibria -o "$out/paper_4_n_equilibria.png" "${size[@]}"
coordsweep plot results/paper_5_selection.zarr --x externality_scale --y cost_scale \
  --var p_stuck -o "$out/paper_5_p_stuck.png" "${size[@]}"
coordsweep plot results/paper_5_selection.zarr --x externality_scale --y cost_scale \
  --var big_push -o "$out/paper_5_big_push.png" "${size[@]}"
# the sensitivity charts (a Sobol design of 786,432 points: about a minute)
coordsweep run sweeps/sobol_coordination_failure.toml --overwrite --quiet > /dev/null
coordsweep sensitivity results/sobol_coordination_failure.zarr --var regime --sector manu \
  --category coordination_failure -o "$out/sobol_manu_coordination_failure.png" > /dev/null
coordsweep sensitivity results/sobol_coordination_failure.zarr --var coordination_gap \
  -o "$out/sobol_coordination_gap.png" > /dev/null
# scenario discovery on the same store (README "Scenario discovery")
coordsweep discover results/sobol_coordination_failure.zarr --var regime --sector agro \
  --category coordination_failure --threshold 0.9 --verify 2000 \
  -o "$out/discover_agro_coordination_failure.png" > /dev/null
