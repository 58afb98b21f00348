"""A short real benchmark on FER-2013 test faces (needs EDGEEMO_FER2013)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.dataset

FER = os.environ.get("EDGEEMO_FER2013")


@pytest.fixture(scope="module")
def fer_root() -> Path:
    if not FER or not Path(FER).is_dir():
        pytest.skip("EDGEEMO_FER2013 is not set to the FER-2013 folder (train/ and test/)")
    return Path(FER)


def test_short_bench_on_fer2013_faces(fer_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from edgeemo.bench.report import markdown_report
    from edgeemo.bench.runner import BenchConfig, run_bench
    from edgeemo.testing import make_tiny_artifacts

    arts = make_tiny_artifacts(tmp_path / "tiny")
    config = BenchConfig(runs=30, warmup=5, repeats=3, data=fer_root, split="test", limit_per_class=20, memory=False)
    res = run_bench([str(arts["bundle"]), str(arts["keras"])], config)
    assert res["config"]["inputs"] == "dataset faces"
    assert res["config"]["data"]["images"] == 7 * 20  # every FER-2013 test class has at least 20 faces
    for a in res["artifacts"]:
        acc = a["accuracy"]
        assert 0.0 <= acc["accuracy"] <= 1.0 and acc["images"] == res["config"]["data"]["images"]
        assert acc["agreement"] is not None
    assert all(r["invoke"]["p50_ms"] > 0 for r in res["results"])
    assert "fer2013" in markdown_report(res)
