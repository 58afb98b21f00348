"""`edgeemo bench` end to end on the tiny real model: statistics, JSON/Markdown/PNG, compare, CLI.

Small run counts and no speed assertions: these tests check what a user reads, not how fast
this machine is.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")
pytest.importorskip("onnxruntime")

from edgeemo.bench.report import compare_rows, load_result, markdown_report, save_json  # noqa: E402
from edgeemo.bench.runner import BenchConfig, run_bench  # noqa: E402
from edgeemo.cli import cli  # noqa: E402

RUNS, REPEATS = 12, 3


@pytest.fixture(scope="module")
def tiny(tiny_artifacts: dict[str, Path]) -> dict[str, Path]:
    """The session's tiny model and its artifacts (conftest.py), built once for every test that needs them."""
    return tiny_artifacts


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A FER-style image folder (test/<class>/*.png) of synthetic faces."""
    import cv2

    from edgeemo.data.demo import make_demo_images
    from edgeemo.labels import FER2013_LABELS

    root = tmp_path_factory.mktemp("faces")
    data = make_demo_images(4, seed=3)
    for i, (img, label) in enumerate(zip(data.images, data.labels, strict=True)):
        d = root / "test" / FER2013_LABELS[int(label)]
        d.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(d / f"{i}.png"), img)
    return root


@pytest.fixture(scope="module")
def result(tiny: dict[str, Path], faces: Path) -> dict:
    config = BenchConfig(runs=RUNS, warmup=2, repeats=REPEATS, batches=[1, 2], data=faces, memory=False)
    return run_bench([str(tiny["bundle"]), str(tiny["keras"])], config)


def test_every_artifact_batch_has_consistent_statistics(result: dict) -> None:
    names = {a["name"] for a in result["artifacts"]}
    assert {a["runtime"] for a in result["artifacts"]} == {"keras", "litert", "onnxruntime"}
    assert len(result["results"]) == 2 * len(names)
    per_repeat = math.ceil(RUNS / REPEATS)
    for r in result["results"]:
        inv = r["invoke"]
        assert inv["n"] == per_repeat * REPEATS == len(r["samples_ms"])
        assert len(r["repeat_p50_ms"]) == REPEATS
        assert 0 < inv["min_ms"] <= inv["p50_ms"] <= inv["p90_ms"] <= inv["p99_ms"] <= inv["max_ms"]
        assert inv["p50_ms"] == pytest.approx(float(np.percentile(r["samples_ms"], 50)), rel=1e-3)
        assert r["p50_spread_pct"] >= 0
        assert r["pre"]["n"] == r["post"]["n"] == inv["n"]


def test_macs_and_peak_are_reported(result: dict) -> None:
    macs = {a["macs"] for a in result["artifacts"]}
    assert len(macs) == 1 and next(iter(macs)) > 0  # one model, one MAC count, Keras filled from its group
    keras = next(a for a in result["artifacts"] if a["runtime"] == "keras")
    assert keras["macs_from"] == "group"
    kinds = {(p["runtime"], p["precision"]) for p in result["peaks"] if "gmacs" in p}
    assert {("litert", "fp32"), ("litert", "int8"), ("onnxruntime", "fp32")} <= kinds
    for r in result["results"]:
        if r["artifact"].endswith("-keras"):
            assert r["peak"] is None
        else:
            assert r["gmacs"] > 0 and r["fraction_of_peak"] == pytest.approx(r["gmacs"] / r["peak"]["gmacs"])


def test_accuracy_drop_and_agreement_against_keras(result: dict) -> None:
    arts = {a["name"]: a for a in result["artifacts"]}
    ref = next(a for a in arts.values() if a["runtime"] == "keras")
    assert ref["accuracy"]["drop_pp"] == 0.0 and ref["accuracy"]["agreement"] == 1.0
    assert result["config"]["data"]["images"] == 28
    for a in arts.values():
        acc = a["accuracy"]
        assert acc["images"] == 28 and acc["reference"] == ref["name"]
        assert acc["drop_pp"] == pytest.approx((ref["accuracy"]["accuracy"] - acc["accuracy"]) * 100)
        assert 0.0 <= acc["agreement"] <= 1.0


def test_machine_info_is_recorded(result: dict) -> None:
    m = result["machine"]
    assert m["cpu_model"] and m["usable_cores"] >= 1 and m["python"]
    assert "onnxruntime" in m["packages"] and "ai-edge-litert" in m["packages"]


def test_json_markdown_and_png(result: dict, tmp_path: Path) -> None:
    from edgeemo.bench.plots import plot_result

    js = save_json(result, tmp_path / "r.json")
    assert load_result(js)["results"][0]["invoke"] == result["results"][0]["invoke"]
    md = markdown_report(result, plot_names=["r.png"])
    for a in result["artifacts"]:
        assert f"| {a['name']} |" in md
    assert "## Measured peak" in md and "![r.png](r.png)" in md
    png = plot_result(result, tmp_path / "r.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    h, w, _ = matplotlib.image.imread(png).shape
    assert h > 300 and w > 300


def test_compare_ratios(result: dict) -> None:
    slower = copy.deepcopy(result)
    for r in slower["results"]:
        r["invoke"]["p50_ms"] *= 2
    rows = compare_rows(result, slower)
    assert len(rows) == len(result["results"])
    assert all(r["p50_ratio"] == pytest.approx(2.0) for r in rows)
    assert all(r["acc_diff_pp"] == 0.0 for r in rows)


def test_peer_model_spec_is_measured_on_the_same_inputs(tiny: dict[str, Path], tmp_path: Path) -> None:
    from edgeemo.preprocess import PreprocessSpec

    spec = tmp_path / "peer.json"
    spec.write_text(json.dumps({"model": str(tiny["tflite-fp32"]), "name": "their-net",
                                "preprocess": PreprocessSpec().model_dump(), "labels": ["a", "b", "c", "d", "e", "f", "g"]}))
    res = run_bench([str(spec), str(tiny["tflite-int8"])],
                    BenchConfig(runs=4, warmup=1, repeats=2, memory=False, peak=False))
    peer = next(a for a in res["artifacts"] if a["source"] == "peer")
    assert peer["group"] == "their-net" and peer["labels"][0] == "a"
    assert {r["artifact"] for r in res["results"]} == {a["name"] for a in res["artifacts"]}


def test_keras_is_skipped_with_a_note_without_tensorflow(tiny: dict[str, Path], monkeypatch) -> None:
    import importlib.util

    from edgeemo.bench import targets

    real = importlib.util.find_spec
    monkeypatch.setattr(targets.importlib.util, "find_spec", lambda n, *a: None if n == "tensorflow" else real(n, *a))
    kept, skipped = targets.resolve_targets([str(tiny["keras"]), str(tiny["tflite-int8"])])
    assert [t.runtime for t in kept] == ["litert"]
    assert skipped and "edgeemo[host]" in skipped[0]["reason"]


def test_memory_probe_in_fresh_process(tiny: dict[str, Path]) -> None:
    from edgeemo.bench.memprobe import measure_memory

    mem = measure_memory(tiny["tflite-int8"], threads=1)
    assert "error" not in mem, mem
    assert mem["peak_rss_mb"] >= mem["runtime_baseline_rss_mb"] > 0
    assert mem["model_rss_mb"] == pytest.approx(mem["peak_rss_mb"] - mem["runtime_baseline_rss_mb"], abs=0.02)
    assert mem["load_ms"] > 0


def test_cli_writes_outputs_and_compares(tiny: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["bench", str(tiny["tflite-fp32"]), str(tiny["onnx-int8"]), "--runs", "4", "--warmup", "1", "--repeats",
            "2", "--no-memory", "--no-peak", "--json", str(out / "a.json"), "--md", str(out / "a.md"),
            "--plot", str(out / "a.png")]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "p50 ms" in res.output and "spread %" in res.output
    assert (out / "a.md").read_text().startswith("# edgeemo bench")
    assert (out / "a.png").stat().st_size > 1000
    res = runner.invoke(cli, ["bench", "--compare", str(out / "a.json"), str(out / "a.json")])
    assert res.exit_code == 0, res.output
    assert "1.00" in res.output and "p50 B/A" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "expected at least one ARTIFACT_OR_BUNDLE"),
        (["x.tflite", "--threads", "0"], "expected --threads as comma-separated positive integers"),
        (["missing.tflite"], "received a missing path"),
        (["--pipeline"], "expected --bundle and --source"),
    ],
)
def test_cli_user_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    res = CliRunner().invoke(cli, ["bench", *args])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_compare_refuses_a_non_bench_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    res = CliRunner().invoke(cli, ["bench", "--compare", str(bad), str(bad)])
    assert res.exit_code == 2 and "edgeemo-bench/1" in res.output
