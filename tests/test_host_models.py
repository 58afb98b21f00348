"""The zoo: every model builds for FER-2013 input and the students stay inside #5's budget."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("keras", reason="building zoo models needs the host extra")

from edgeemo.models import ZOO, build_model, count_macs, count_params  # noqa: E402


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_model_outputs_probabilities_for_48x48_grey(name: str) -> None:
    model = build_model(name, (48, 48, 1), 7)
    assert model.name == name
    assert tuple(model.input_shape) == (None, 48, 48, 1) and tuple(model.output_shape) == (None, 7)
    assert model.layers[-1].get_config()["activation"] == "softmax"


def test_accurate_keeps_the_shipped_architecture_and_its_variants_fit_the_budget() -> None:
    accurate, wide, deep = build_model("accurate"), build_model("accurate_wide"), build_model("accurate_deep")
    # The shipped FER-2013 model's weights must load into `accurate`: its shape is frozen.
    assert count_params(accurate) == 652_071
    assert count_params(accurate) < count_params(wide) < 1_000_000
    assert count_params(accurate) < count_params(deep) < 1_000_000
    # Widened where the maps are small: parameters +47%, multiply-adds only +22%.
    assert count_macs(wide) / count_macs(accurate) == pytest.approx(1.22, abs=0.01)
    # Deepened: two more 3x3 convs, each as costly as any other in the net.
    assert count_macs(deep) / count_macs(accurate) == pytest.approx(1.43, abs=0.01)
    convs = [layer for layer in deep.layers if layer.__class__.__name__ == "Conv2D"]
    assert len(convs) == 10


@pytest.mark.slow  # a TensorFlow process per model: 50 s on 2 cores
@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_model_takes_a_float32_training_step(name: str) -> None:
    # In a child process: a crash in a native kernel's gradient (TensorFlow 2.21's oneDNN aborts
    # on a strided 1x1 convolution on AVX-512 CPUs) would otherwise take the whole test run down.
    code = (
        "import numpy as np, keras\n"
        "from edgeemo.models import build_model\n"
        f"model = build_model({name!r}, (48, 48, 1), 7)\n"
        "model.compile('adam', 'categorical_crossentropy')\n"
        "faces = np.random.default_rng(0).random((16, 48, 48, 1), dtype=np.float32)\n"
        "loss = model.train_on_batch(faces, np.eye(7, dtype=np.float32)[np.arange(16) % 7])\n"
        "assert np.isfinite(loss), loss\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{name}: exit code {proc.returncode}\n{proc.stderr[-2000:]}"


def test_mini_xception_shortcut_computes_a_strided_1x1_convolution() -> None:
    import keras
    import numpy as np

    faces = np.random.default_rng(1).random((2, 12, 12, 8), dtype=np.float32)
    strided = keras.layers.Conv2D(16, 1, strides=2, padding="same", use_bias=False)
    pointwise = keras.layers.Conv2D(16, 1, use_bias=False)
    expected = strided(faces)
    pointwise.build((None, 6, 6, 8))
    pointwise.set_weights(strided.get_weights())
    subsampled = keras.layers.MaxPooling2D(1, strides=2, padding="same")(faces)
    np.testing.assert_allclose(pointwise(subsampled), expected, atol=1e-6)
