"""coordsweep.run with no scheduler= uses the dask client the caller made
(the README's promise), and starts its own local cluster only when there
is none."""
import pytest

from engine_helpers import three_sector_spec

import coordsweep


def _coordsweep_tasks(dask_scheduler):
    """Names of the coordsweep chunk tasks this scheduler has seen."""
    return sorted({str(t[0]) for t in dask_scheduler.transition_log
                   if str(t[0]).startswith("coordsweep-chunk-")})


def test_run_uses_the_active_client(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = coordsweep.parse_spec(three_sector_spec(6, 5, name="client"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ds = coordsweep.run(spec, store=str(tmp_path / "c.zarr"), progress=False)
        seen = client.run_on_scheduler(_coordsweep_tasks)
        # every chunk went through this client's scheduler
        chunks = {name.split("-")[2] for name in seen}
        assert len(chunks) == ds.sizes["chunk"] > 0, seen
    assert int(ds.attrs["complete"]) == 1
    ref = coordsweep.run(spec, progress=False)
    assert (ds.regime.values == ref.regime.values).all()
