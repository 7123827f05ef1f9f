"""What to compute: the sweep spec (parsing, the Spec model, axes), sampling
designs, the grid's layout and parts, domain checks, kernel input blocks.
No zarr, no dask."""
