"""MODEL_CARD.md is what benchmarks/reference_model.py renders from the shipped model's report.json."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_model_card_renders_from_the_shipped_report() -> None:
    spec = importlib.util.spec_from_file_location("reference_model", REPO / "benchmarks" / "reference_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = json.loads((REPO / "benchmarks" / "results" / "reference-model" / "report.json").read_text())
    info, results = report["reference_model"], report["artifacts"]
    variant = "+flip" if info["flip_average"] else ""
    # File sizes are not in the report (only the int8 files ship); every other line must match.
    rendered = module.render_card(info, results, {key: 0 for key in results if not key.startswith("keras")}, info["labels"],
                                  results[f"tflite-int8{variant}"], results[f"keras-float{variant}"])
    card = (REPO / "MODEL_CARD.md").read_text()

    def without_sizes(text: str) -> list[str]:
        return [line for line in text.splitlines() if " KB" not in line]

    assert without_sizes(rendered) == without_sizes(card)
