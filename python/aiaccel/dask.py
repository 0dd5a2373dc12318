"""Scale-out with Dask: shards of a file list as tasks on a dask.distributed cluster.

Each task runs `aiaccel prep --shard i/N` (aiaccel.prep) on the whole sorted list, so every input is
processed by exactly one shard and each shard writes its own manifest (manifest.shard-i-of-N.json);
`aiaccel merge-manifests` checks coverage afterwards. The workers need the `aiaccel` program (found as
aiaccel.prep finds it) and the shared out_dir.
"""
from aiaccel._prep import prep


def prep_sharded(files, out_dir, client, *, shards=None, **prep_kwargs):
    """Run aiaccel.prep(files, out_dir, shard=(i, shards), **prep_kwargs) for i in 0..shards−1 as Dask
    tasks on client; returns the shards' manifests in shard order. shards defaults to the number of
    workers; jobs (threads per shard) defaults to 1 so that shards share the machine."""
    if shards is None:
        shards = max(1, len(client.scheduler_info()["workers"]))
    prep_kwargs.setdefault("jobs", 1)
    files = [str(f) for f in ([files] if isinstance(files, str) else files)]
    futures = [client.submit(prep, files, str(out_dir), shard=(i, shards), pure=False, key=f"aiaccel-prep-{i}-of-{shards}",
                             **prep_kwargs) for i in range(shards)]
    return client.gather(futures)
