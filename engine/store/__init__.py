"""The zarr results store: CF conventions and provenance, the template,
chunk writing with its one "done" test, the lease, verification."""
