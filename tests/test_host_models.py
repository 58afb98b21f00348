"""The zoo: every model builds for FER-2013 input and the students stay inside #5's budget."""

from __future__ import annotations

import pytest

pytest.importorskip("keras", reason="building zoo models needs the host extra")

from edgeemo.models import ZOO, build_model, count_macs, count_params  # noqa: E402


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_model_outputs_probabilities_for_48x48_grey(name: str) -> None:
    model = build_model(name, (48, 48, 1), 7)
    assert model.name == name
    assert tuple(model.input_shape) == (None, 48, 48, 1) and tuple(model.output_shape) == (None, 7)
    assert model.layers[-1].get_config()["activation"] == "softmax"


def test_accurate_keeps_the_shipped_architecture_and_the_wide_variant_fits_the_budget() -> None:
    accurate, wide = build_model("accurate"), build_model("accurate_wide")
    # The shipped FER-2013 model's weights must load into `accurate`: its shape is frozen.
    assert count_params(accurate) == 652_071
    assert count_params(accurate) < count_params(wide) < 1_000_000
    # Widened where the maps are small: parameters +47%, multiply-adds only +22%.
    assert count_macs(wide) / count_macs(accurate) == pytest.approx(1.22, abs=0.01)
