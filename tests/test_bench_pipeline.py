"""Pipeline mode: the daemon's stages on frames from a source, timed per stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from device_support import device_bundle

pytest.importorskip("cv2")

from edgeemo.bench.pipeline import PIPELINE_STAGES, pipeline_markdown, run_pipeline_bench  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped bundle (flip averaging off); the tests pass their own fake detector."""
    return device_bundle(tmp_path_factory)


def test_every_stage_is_timed_and_fps_reported(bundle: Path, tmp_path: Path) -> None:
    res = run_pipeline_bench(bundle, "fake:320x240*12", frames=10, warmup=1, detector="fake",
                             detector_options={"boxes": [(100, 60, 200, 180)]})
    assert res["frames"] == 10
    assert res["faces_per_frame"] == 1.0  # the classifier ran on every frame
    assert list(res["stages"]) == list(PIPELINE_STAGES)
    for s in res["stages"].values():
        assert s["n"] == 10 and s["p99_ms"] >= s["p50_ms"] >= 0
    assert res["stages"]["classify"]["p50_ms"] > 0
    assert res["end_to_end"]["p50_ms"] >= res["stages"]["classify"]["p50_ms"]
    assert res["fps"] > 0
    md = pipeline_markdown(res)
    assert "| classify |" in md and "FPS" in md


def test_a_short_finite_source_stops_at_its_end(bundle: Path) -> None:
    res = run_pipeline_bench(bundle, "fake:160x120*5", frames=100, warmup=1, detector="fake")
    # One frame goes to warm-up, so four remain to time.
    assert res["frames"] == 4 and res["faces_per_frame"] == 0.0
