"""device/arm64_compare.py: the arm64 check passes only when the emulated arm64 labels agree with x86's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "device" / "arm64_compare.py"


def _module():
    spec = importlib.util.spec_from_file_location("arm64_compare", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _preds(path: Path, machine: str, top1: list[int], labels: list[int]) -> Path:
    acc = sum(a == b for a, b in zip(top1, labels, strict=True)) / len(labels)
    path.write_text(json.dumps({"machine": machine, "python": "3.11", "faces": len(labels), "labels": labels,
                                "models": {"m_int8.tflite": {"top1": top1, "accuracy": acc}}}))
    return path


def test_agreement_at_the_bound_passes_and_below_it_fails(tmp_path):
    mod = _module()
    labels = [i % 7 for i in range(200)]
    x86 = _preds(tmp_path / "x.json", "x86_64", labels, labels)
    two_off = [(v + 1) % 7 if i < 2 else v for i, v in enumerate(labels)]
    arm = _preds(tmp_path / "a.json", "aarch64", two_off, labels)
    assert mod.main(["compare", str(x86), str(arm), "--out", str(tmp_path / "s.json"), "--min-agreement", "0.99"]) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["passed"] and summary["models"]["m_int8.tflite"]["agreement"] == 0.99
    assert summary["models"]["m_int8.tflite"]["accuracy_aarch64"] == 0.99
    three_off = [(v + 1) % 7 if i < 3 else v for i, v in enumerate(labels)]
    arm3 = _preds(tmp_path / "a3.json", "aarch64", three_off, labels)
    assert mod.main(["compare", str(x86), str(arm3), "--out", str(tmp_path / "s3.json")]) == 1
    assert not json.loads((tmp_path / "s3.json").read_text())["passed"]


def test_different_faces_are_refused(tmp_path, capsys):
    mod = _module()
    x86 = _preds(tmp_path / "x.json", "x86_64", [0, 1], [0, 1])
    arm = _preds(tmp_path / "a.json", "aarch64", [1, 0], [1, 0])
    assert mod.main(["compare", str(x86), str(arm), "--out", str(tmp_path / "s.json")]) == 1
    assert "expected the same 2 faces" in capsys.readouterr().err
