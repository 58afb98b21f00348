"""MODEL_CARD.md is what tools/build_reference_model.py renders from the shipped model's report.json."""

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
    module = load_script("model_card", "tools")
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
    validated = {**info["train_config"], "epochs": 120, "swa_start": 91, "ema": 0.999, "val_fraction": 0.1, "split_seed": 0,
                 "patience": 30, "preprocess": {**info["train_config"]["preprocess"], "smoothing_sigma": 0.0}}
    info = {**info, "train_config": validated, "recipe_run": None, "validation_split": None, "best_val_accuracy": 0.699,
            "batchnorm_reestimation": {"faces": 6400, "kept": True, "val_accuracy_before": 0.6985, "val_accuracy_after": 0.6990},
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


def test_model_card_of_a_refit_credits_its_recipe_run() -> None:
    info, results = _shipped_report()
    config = {**info["train_config"], "val_fraction": 0.0, "epochs": 120, "swa_start": 91,
              "preprocess": {**info["train_config"]["preprocess"], "smoothing_sigma": 0.5}}
    info = {**info, "train_config": config, "recipe_run": "distill-scratch-e120", "epochs_done": 120, "best_epoch": 120,
            "validation_split": {"val_fraction": 0.1, "split_seed": 0}, "best_val_accuracy": None,
            "batchnorm_reestimation": {"faces": 6400, "kept": True},
            "weight_average": {"epochs": 30, "first_epoch": 91, "kept": True}}
    rendered = _render(info, results)
    assert "Training used every image of the original Training split (28,709): a refit of run `distill-scratch-e120`'s" in rendered
    assert "a stratified 10% of it held out for validation (split seed 0)" in rendered
    assert "the refit ships the weights (the mean of epochs 91-120, as the recipe fixes)" in rendered
    assert "--val-fraction 0 --smoothing-sigma 0.5" in rendered
    assert "on validation (with distill-scratch-e120's model)" in rendered
    assert "Best validation accuracy during training" not in rendered


def test_a_refit_needs_the_validated_run_it_retrains(tmp_path: Path) -> None:
    module = load_script("build_reference_model", "tools")
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    validated = {"model": "accurate", "val_fraction": 0.1, "preprocess": {"height": 48, "smoothing_sigma": 0.0}}
    (recipe / "config.json").write_text(json.dumps(validated))
    (recipe / "best.keras").write_bytes(b"")
    refit = {**validated, "val_fraction": 0.0, "preprocess": {"height": 48, "smoothing_sigma": 0.5}}
    assert module.recipe_problem(refit, recipe) is None
    assert module.recipe_problem(validated, None) is None
    assert "expected --recipe-run RUN" in module.recipe_problem(refit, None)
    assert "only for a refit" in module.recipe_problem(validated, recipe)
    assert "same model" in module.recipe_problem({**refit, "model": "accurate_wide"}, recipe)
    assert "with best.keras" in module.recipe_problem(refit, tmp_path / "missing")


def test_a_rebuild_from_the_shipped_model_keeps_its_recorded_lineage() -> None:
    """--from-shipped: the training and validation record carries over, what is scored again does
    not, and every change of preprocessing is listed for the card."""
    module = load_script("build_reference_model", "tools")
    recorded, _ = _shipped_report()
    source = module.shipped_source(None)
    lineage = source["lineage"]
    assert lineage["recipe_run"] == recorded["recipe_run"] and lineage["val_accuracy_flip_average"] == recorded["val_accuracy_flip_average"]
    assert not set(lineage) & (module.RESCORED - {"rebuilt"})
    assert source["sidecar"]["preprocess"].face_template is None  # quantize learns it again
    assert source["model"].is_file() and source["config"] == recorded["train_config"]
    shipped_sigma = source["sidecar"]["preprocess"].smoothing_sigma
    blurred = module.shipped_source(shipped_sigma + 0.5)
    assert blurred["sidecar"]["preprocess"].smoothing_sigma == shipped_sigma + 0.5
    assert blurred["lineage"]["rebuilt"]["changes"][-1] == f"smoothing_sigma {shipped_sigma:g} -> {shipped_sigma + 0.5:g}"
    assert "Every number below comes from the rebuild" in (REPO / "MODEL_CARD.md").read_text()
