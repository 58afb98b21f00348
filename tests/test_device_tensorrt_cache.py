"""TensorRT engines are cached in the service's state directory (fp16 by default), so a restart
reuses them instead of rebuilding for minutes. Checked through the options ONNX Runtime receives:
this machine has no TensorRT."""

from __future__ import annotations

import pytest

from edgeemo.runtime.onnxrt import TENSORRT, tensorrt_cache_dir, with_provider_options


def test_cache_folder_follows_the_state_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}/state:{tmp_path}/other")
    assert tensorrt_cache_dir() == tmp_path / "state" / "tensorrt"
    assert tensorrt_cache_dir(tmp_path / "mine") == tmp_path / "mine"
    monkeypatch.delenv("STATE_DIRECTORY")
    assert tensorrt_cache_dir().parts[-3:] == (".cache", "edgeemo", "tensorrt")


def test_only_tensorrt_gets_the_cache_options(tmp_path):
    providers = with_provider_options([TENSORRT, "CUDAExecutionProvider", "CPUExecutionProvider"], cache_dir=tmp_path)
    (name, opts), cuda, cpu = providers
    assert name == TENSORRT and cuda == "CUDAExecutionProvider" and cpu == "CPUExecutionProvider"
    assert opts["trt_engine_cache_enable"] == "True" and opts["trt_engine_cache_path"] == str(tmp_path)
    assert opts["trt_timing_cache_path"] == str(tmp_path) and opts["trt_fp16_enable"] == "True"
    (_, fp32_opts), = with_provider_options([TENSORRT], cache_dir=tmp_path, fp16=False)
    assert fp32_opts["trt_fp16_enable"] == "False"


def test_a_session_asking_for_tensorrt_gets_the_state_directory_cache(tiny_artifacts, monkeypatch, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from edgeemo.runtime import open_runtime

    real = ort.InferenceSession
    seen = []

    def session(path, sess_options=None, providers=None):
        seen.append(providers)
        return real(path, sess_options=sess_options, providers=["CPUExecutionProvider"])

    monkeypatch.setattr(ort, "InferenceSession", session)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    rt = open_runtime(tiny_artifacts["onnx-fp32"], threads=1, providers=[TENSORRT, "CPUExecutionProvider"])
    assert (tmp_path / "state" / "tensorrt").is_dir()
    (name, opts), cpu = seen[0]
    assert name == TENSORRT and opts["trt_engine_cache_path"] == str(tmp_path / "state" / "tensorrt")
    assert cpu == "CPUExecutionProvider"
    rt.close()
    open_runtime(tiny_artifacts["onnx-fp32"], threads=1, providers=["CPUExecutionProvider"])
    assert seen[1] == ["CPUExecutionProvider"], "no TensorRT, no cache options"


def test_config_keys_for_the_cache(tmp_path):
    from edgeemo.daemon.config import parse_config

    cfg = parse_config({"bundle": {"tensorrt_cache_dir": str(tmp_path), "tensorrt_fp16": False}})
    assert cfg.bundle.tensorrt_cache_dir == str(tmp_path) and cfg.bundle.tensorrt_fp16 is False
