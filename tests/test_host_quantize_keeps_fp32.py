"""`edgeemo quantize` keeps fp32 beside int8 when the build machine runs int8 slower, and says so."""

from __future__ import annotations

import pytest

from edgeemo.bundle import load_bundle


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
    from edgeemo.testing import train_tiny_model

    return train_tiny_model(tmp_path_factory.mktemp("model"), epochs=1, per_class=20)


def _quantize(model, out, monkeypatch, int8_ms: float, fp32_ms: float):
    import edgeemo.evaluation.latency as latency
    from edgeemo.data.demo import make_demo_images
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.recipes import load_recipe

    def fake_latency(runtimes, sample, runs=100, warmup=10):
        return {k: int8_ms if k.endswith("int8") else fp32_ms for k in runtimes}

    monkeypatch.setattr(latency, "median_latency_ms", fake_latency)
    job = QuantizeJob(model=model, out_dir=out, calib=make_demo_images(10, seed=1), recipe=load_recipe("generic-cpu"),
                      formats=["tflite"], precisions=["fp32", "int8"], calib_samples=32, with_detector=False)
    return run_quantize(job)


def test_int8_slower_keeps_fp32_and_the_report_says_the_device_decides(tiny_model, tmp_path, monkeypatch):
    result = _quantize(tiny_model, tmp_path / "q", monkeypatch, int8_ms=0.6, fp32_ms=0.3)
    bundle = load_bundle(result.bundle)
    assert sorted(m.precision for m in bundle.manifest.models) == ["fp32", "int8"]
    (note,) = result.notes
    assert "slower than fp32" in note and "0.600 ms against 0.300 ms" in note and "device decides" in note


def test_int8_faster_ships_int8_alone(tiny_model, tmp_path, monkeypatch):
    result = _quantize(tiny_model, tmp_path / "q", monkeypatch, int8_ms=0.1, fp32_ms=0.3)
    assert [m.precision for m in load_bundle(result.bundle).manifest.models] == ["int8"]
    assert result.notes == []


def test_cli_prints_the_note(tiny_model, tmp_path, monkeypatch):
    from click.testing import CliRunner

    import edgeemo.evaluation.latency as latency
    from edgeemo.cli import cli
    from edgeemo.data.demo import write_demo_dataset

    monkeypatch.setattr(latency, "median_latency_ms",
                        lambda runtimes, sample, runs=100, warmup=10: {k: 0.6 if k.endswith("int8") else 0.3 for k in runtimes})
    data = write_demo_dataset(tmp_path / "demo", train_per_class=8, test_per_class=2)
    res = CliRunner().invoke(cli, ["quantize", str(tiny_model), "--calib", str(data), "--out", str(tmp_path / "q"),
                                   "--formats", "tflite", "--precisions", "fp32,int8", "--calib-samples", "16",
                                   "--no-detector"])
    assert res.exit_code == 0, res.output
    assert "int8 is slower than fp32" in " ".join(res.output.split())
