"""aiaccel.prep (the `aiaccel prep` batch pipeline from Python: manifest, resume, failures, usage
errors) and aiaccel.dask.prep_sharded on a 2-worker dask.distributed LocalCluster (separate
processes): the sharded outputs are identical (DATASUM, content sha256) to a single-process run."""
import pytest

import aiaccel
from conftest import DATA

INPUTS = [DATA / "aia_171_level1.fits", DATA / "aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits",
          DATA / "AIA20120606_040729_1600.fits"]  # two level-1 full-disk maps and a level-1.5 one (fails)


@pytest.fixture(scope="module")
def cli():
    from aiaccel._cli import find_cli

    try:
        return find_cli()
    except FileNotFoundError as e:
        pytest.skip(str(e))


def outputs(manifest):
    return {e["input"]: (e["status"], e.get("output_datasum"), e.get("output_content_sha256"))
            for e in manifest["entries"]}


@pytest.fixture(scope="module")
def single(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    return out, aiaccel.prep(INPUTS, out, jobs=1, backend="cpu")


def test_prep_manifest_failures_resume(single):
    out, m = single
    assert m["counts"] == {"ok": 2, "failed": 1, "skipped": 0, "planned": 0}
    got = outputs(m)
    assert got[str(INPUTS[2])][0] == "failed"
    for e in m["entries"]:
        if e["status"] == "ok":
            assert (out / e["output"].rsplit("/", 1)[1]).is_file() and e["output_content_sha256"]
    again = aiaccel.prep(INPUTS, out, jobs=1, backend="cpu", resume=True)
    assert again["counts"]["skipped"] == 2 and again["counts"]["ok"] == 0
    with pytest.raises(aiaccel.PrepError, match=r"1 input\(s\) failed:\nprep: FAILED .*LVL_NUM 1.5"):
        aiaccel.prep(INPUTS, out, jobs=1, backend="cpu", resume=True, check=True)


def test_prep_usage_errors_raise_with_cli_message(tmp_path, cli):
    with pytest.raises(aiaccel.PrepError, match="--level"):
        aiaccel.prep(INPUTS, tmp_path, level="2")
    with pytest.raises(aiaccel.PrepError, match="--resume and --overwrite exclude each other"):
        aiaccel.prep(INPUTS, tmp_path, resume=True, overwrite=True)
    with pytest.raises(aiaccel.PrepError, match="aiaccel: .*nonexistent"):
        aiaccel.prep([tmp_path / "nonexistent.fits"], tmp_path / "out")


def test_dask_shards_equal_single_run(single, tmp_path, cli):
    distributed = pytest.importorskip("distributed")
    from aiaccel.dask import prep_sharded

    _, m = single
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        shards = prep_sharded(INPUTS, tmp_path, client, shards=2, backend="cpu")
    assert [s["shard"] for s in shards] == ["0/2", "1/2"]
    merged = {}
    for s in shards:
        merged.update(outputs(s))
    assert merged == outputs(m)
    assert sum(s["counts"]["ok"] for s in shards) == 2
