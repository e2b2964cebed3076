"""The Dask engine: a LocalCluster of two worker processes grades like the local pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET

from grader.batch import grade_all

distributed = pytest.importorskip("distributed")

EXAMPLES = sorted((ROOT / "examples" / "optimizers").glob("*.py"))


def test_a_dask_cluster_grades_a_batch_with_the_scores_of_the_local_pool(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", TEST_SECRET.decode())
    local = grade_all(assignment="optimizers", submissions=EXAMPLES, out=tmp_path / "local", course=str(ROOT),
                      workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = grade_all(assignment="optimizers", submissions=EXAMPLES, out=tmp_path / "dask", course=str(ROOT),
                               scheduler=cluster.scheduler_address)
            workers = client.run(lambda: __import__("os").getpid())
    assert len(workers) == 2
    assert remote.graded == len(EXAMPLES)
    scores = {r.submission: r.score for r in remote.reports}
    assert scores == {r.submission: r.score for r in local.reports}
    assert scores["alice"] == 100.0 and scores["frank"] == 0.0
    for report in remote.reports:  # the same checks, statuses and messages, graded on the cluster
        twin = next(r for r in local.reports if r.submission == report.submission)
        assert [(c.name, c.status, c.message) for c in report.checks] == [(c.name, c.status, c.message) for c in twin.checks]
        assert report.protections == twin.protections
    assert sorted(p.parent.name for p in (tmp_path / "dask").glob("*/report.json")) == sorted(p.stem for p in EXAMPLES)
    assert Path(tmp_path / "dask" / "gradebook.sqlite").exists()
