"""`--model auto`: the device times the bundle's models at start-up and keeps the fastest within an
accuracy bound; the choice shows in the log, /status, --show-metrics and `edgeemo bench`."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeemo.bundle import Bundle, Manifest, ModelEntry, load_bundle, write_bundle
from edgeemo.errors import ConfigError, ModelError
from edgeemo.preprocess import PreprocessSpec
from edgeemo.runtime.base import Runtime
from edgeemo.runtime.choose import choose_model, recorded_accuracy_pp, select_model, wants_auto

LABELS = ["a", "b", "c"]


class _SleepyRuntime(Runtime):
    """A model that takes `delay_s` per call: the choice must see which is faster."""

    key = "sleepy"

    def __init__(self, path: Path, delay_s: float) -> None:
        super().__init__(path, threads=1)
        self.delay_s = delay_s
        self.closed = False

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (8, 8, 1)

    @property
    def num_classes(self) -> int:
        return len(LABELS)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        time.sleep(self.delay_s)
        return np.full((len(batch), len(LABELS)), 1 / len(LABELS), np.float32)

    def close(self) -> None:
        self.closed = True


def _bundle(tmp_path: Path, models: dict[str, dict]) -> Bundle:
    entries = [ModelEntry(file=f, format="keras" if f.endswith(".keras") else "tflite", precision=p.get("precision", "int8"),
                          metrics=p.get("metrics", {})) for f, p in models.items()]
    manifest = Manifest(name="t", created="now", labels=LABELS, preprocess=PreprocessSpec(height=8, width=8),
                        models=entries, default_model=entries[0].file)
    return Bundle(tmp_path, manifest)


def _opener(delays: dict[str, float], opened: dict[str, _SleepyRuntime]):
    def open_(path: Path, **_kw: object) -> Runtime:
        if delays[path.name] < 0:
            raise ModelError(f"expected a model this device can run, received {path.name}")
        opened[path.name] = _SleepyRuntime(path, delays[path.name])
        return opened[path.name]
    return open_


def test_auto_keeps_the_fastest_and_closes_the_others_within_the_budget(tmp_path, caplog):
    bundle = _bundle(tmp_path, {"int8.tflite": {"metrics": {"accuracy": 0.69}},
                                "fp32.tflite": {"precision": "fp32", "metrics": {"accuracy": 0.695}}})
    opened: dict[str, _SleepyRuntime] = {}
    t0 = time.perf_counter()
    with caplog.at_level(logging.INFO, logger="edgeemo.runtime.choose"):
        choice, rt = choose_model(bundle, budget_s=0.2, opener=_opener({"int8.tflite": 0.004, "fp32.tflite": 0.0005},
                                                                        opened))
    elapsed = time.perf_counter() - t0
    assert choice.file == "fp32.tflite" and rt is opened["fp32.tflite"] and not rt.closed
    assert opened["int8.tflite"].closed
    assert choice.timings_ms["int8.tflite"] > choice.timings_ms["fp32.tflite"]
    assert choice.mode == "auto" and choice.rounds >= 5 and elapsed < 1.0
    assert "auto chose fp32.tflite" in caplog.text and "int8.tflite" in caplog.text


def test_accuracy_bound_decides_between_fast_and_accurate(tmp_path):
    models = {"fast.tflite": {"metrics": {"accuracy": 0.67}}, "good.tflite": {"metrics": {"accuracy": 0.69}}}
    delays = {"fast.tflite": 0.0005, "good.tflite": 0.003}
    strict, _ = choose_model(_bundle(tmp_path, models), budget_s=0.05, max_drop_pp=1.0, opener=_opener(delays, {}))
    loose, _ = choose_model(_bundle(tmp_path, models), budget_s=0.05, max_drop_pp=3.0, opener=_opener(delays, {}))
    assert strict.file == "good.tflite" and strict.eligible == ["good.tflite"]
    assert loose.file == "fast.tflite" and set(loose.eligible) == set(models)


def test_models_the_device_cannot_run_are_left_out_and_none_at_all_is_one_error(tmp_path):
    models = {"m.keras": {}, "broken.tflite": {}, "ok.tflite": {}}
    choice, _ = choose_model(_bundle(tmp_path, models), budget_s=0.02,
                             opener=_opener({"broken.tflite": -1, "ok.tflite": 0.0}, {}))
    assert choice.file == "ok.tflite"
    assert "TensorFlow" in choice.skipped["m.keras"] and "broken.tflite" in choice.skipped["broken.tflite"]
    with pytest.raises(ConfigError, match="expected at least one model"):
        choose_model(_bundle(tmp_path, {"broken.tflite": {}}), opener=_opener({"broken.tflite": -1}, {}))


def test_recorded_accuracy_uses_one_scale_and_select_explains():
    assert recorded_accuracy_pp({"a": {"accuracy": 0.5}, "b": {"fer2013_test_accuracy": 0.52}}) == {"a": 50.0, "b": 52.0}
    # One model without an accuracy: fall back to the drops, which share the float reference.
    assert recorded_accuracy_pp({"a": {"accuracy": 0.5, "drop_pp": 0.3}, "b": {"drop_pp": 1.5}}) == {"a": -0.3, "b": -1.5}
    assert recorded_accuracy_pp({"a": {}, "b": {"drop_pp": 1.0}}) == {"a": None, "b": None}
    file, eligible, reason = select_model({"a": 2.0, "b": 1.0}, {"a": None, "b": None}, 1.0)
    assert file == "b" and eligible == ["a", "b"] and "no recorded accuracy" in reason


def test_auto_is_the_default_only_for_bundles_of_several_models(tmp_path):
    one = _bundle(tmp_path, {"a.tflite": {}})
    two = _bundle(tmp_path, {"a.tflite": {}, "b.tflite": {}})
    assert not wants_auto(one, None) and wants_auto(one, "auto")
    assert wants_auto(two, None) and not wants_auto(two, "a.tflite")


@pytest.fixture(scope="module")
def two_model_bundle(tiny_artifacts, tmp_path_factory):
    """fp32 and int8 TFLite of one tiny model with equal recorded accuracy, plus BlazeFace when installed."""
    from edgeemo.export.job import _blazeface_detector

    src = load_bundle(tiny_artifacts["bundle"])
    models = [(tiny_artifacts[k], ModelEntry(file=tiny_artifacts[k].name, format="tflite", precision=k.split("-")[1],
                                             input_dtype="float32", metrics={"accuracy": 0.9}))
              for k in ("tflite-int8", "tflite-fp32")]
    return write_bundle(tmp_path_factory.mktemp("two") / "bundle", name="two", labels=src.labels,
                        preprocess=src.preprocess, models=models, default_model=models[0][1].file,
                        detector=_blazeface_detector())


def test_run_auto_reports_the_choice_in_show_metrics(two_model_bundle, tmp_path):
    from edgeemo.cli import cli

    res = CliRunner().invoke(cli, ["run", "--bundle", str(two_model_bundle), "--source", "fake:160x120*4",
                                   "--jsonl", str(tmp_path / "o.jsonl"), "--show-metrics"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.stderr[res.stderr.index("{"):])
    files = {m.file for m in load_bundle(two_model_bundle).manifest.models}
    assert metrics["model"] in files and metrics["model_choice"]["mode"] == "auto"
    assert set(metrics["model_choice"]["timings_ms"]) == files
    forced = CliRunner().invoke(cli, ["run", "--bundle", str(two_model_bundle), "--source", "fake:160x120*2",
                                      "--model", sorted(files)[0], "--jsonl",
                                      str(tmp_path / "f.jsonl"), "--show-metrics"])
    assert forced.exit_code == 0, forced.output
    forced_metrics = json.loads(forced.stderr[forced.stderr.index("{"):])
    assert forced_metrics["model"] == sorted(files)[0] and forced_metrics["model_choice"]["mode"] == "fixed"


def test_status_endpoint_names_the_chosen_model(two_model_bundle):
    from edgeemo.daemon.config import parse_config
    from edgeemo.daemon.runner import Runner
    from edgeemo.daemon.source_fake import FakeSource

    config = parse_config({"bundle": {"path": str(two_model_bundle), "model": "auto", "auto_budget_s": 0.1},
                           "publish": {"http": {"enabled": True, "port": 0}}})
    with Runner(config, source=FakeSource("fake:160x120@30", live=True)) as runner:
        runner.run(threading.Event(), max_frames=3)
        http = next(p for p in runner.publishers.publishers if p.key == "http")
        with urllib.request.urlopen(f"http://127.0.0.1:{http.port}/status") as r:
            status = json.load(r)
    assert status["model"] == status["model_choice"]["file"] and status["model_choice"]["mode"] == "auto"
    assert status["model_choice"]["spent_s"] < 1.0


def test_bench_says_what_auto_would_pick(two_model_bundle):
    from edgeemo.bench.report import auto_choice_lines
    from edgeemo.bench.runner import BenchConfig, run_bench

    result = run_bench([str(two_model_bundle)], BenchConfig(runs=20, warmup=2, repeats=2, memory=False, peak=False))
    (choice,) = result["auto_choice"]
    timings = {r["artifact"]: r["end_to_end_p50_ms"] for r in result["results"]}
    fastest = min(timings, key=timings.__getitem__)
    assert choice["model"] == next(a["path"] for a in result["artifacts"] if a["name"] == fastest).split("/")[-1]
    assert auto_choice_lines(result)[0].startswith("--model auto for two at 1 thread(s): " + choice["model"])
