"""MODEL_CARD.md is what benchmarks/reference_model.py renders from the shipped model's report.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench_support import load_script

REPO = Path(__file__).resolve().parents[1]


def _shipped_report() -> tuple[dict[str, Any], dict[str, Any]]:
    report = json.loads((REPO / "benchmarks" / "results" / "reference-model" / "report.json").read_text())
    return report["reference_model"], report["artifacts"]


def _render(info: dict[str, Any], results: dict[str, Any]) -> str:
    module = load_script("reference_model")
    variant = "+flip" if info["flip_average"] else ""
    # File sizes are not in the report (only the int8 files ship).
    return module.render_card(info, results, {key: 0 for key in results if not key.startswith("keras")}, info["labels"],
                              results[f"tflite-int8{variant}"], results[f"keras-float{variant}"])


def test_model_card_renders_from_the_shipped_report() -> None:
    rendered = _render(*_shipped_report())
    card = (REPO / "MODEL_CARD.md").read_text()

    def without_sizes(text: str) -> list[str]:
        return [line for line in text.splitlines() if " KB" not in line]

    assert without_sizes(rendered) == without_sizes(card)  # every line but the sizes must match


def test_model_card_names_the_weight_average() -> None:
    info, results = _shipped_report()
    info = {**info, "train_config": {**info["train_config"], "epochs": 120, "swa_start": 91, "ema": 0.999},
            "epochs_done": 99, "best_epoch": 69, "best_checkpoint_weights": "averaged",
            "weight_average": {"epochs": 9, "first_epoch": 91, "val_accuracy": 0.7012, "val_accuracy_best_checkpoint": 0.6990,
                               "kept": True}}
    rendered = _render(info, results)
    assert "--swa-start 91" in rendered
    assert "epochs 91-99 (stochastic weight averaging" in rendered
    assert "replaced the best checkpoint (validation 70.1% against 69.9%)" in rendered
    assert ("the weights (the mean of epochs 91-99, which scored above the best checkpoint, epoch 69; "
            "training stopped early at epoch 99 of 120)") in rendered
    assert "the better of the two (averaged weights here)" in rendered
    info["weight_average"] = {**info["weight_average"], "kept": False}
    assert "the checkpoint (epoch 69; training stopped early at epoch 99 of 120)" in _render(info, results)
