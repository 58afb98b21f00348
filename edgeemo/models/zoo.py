"""Zoo definitions. Every net ends in Dense + softmax so every artifact outputs probabilities, and
uses only ops that LiteRT int8 and ONNX Runtime int8 support (Conv, DepthwiseConv, Add, ReLU/ReLU6,
pooling, Dense, Softmax); BatchNorm directly follows a bias-free conv so converters fold it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgeemo._lazy import require_keras
from edgeemo.errors import ModelError

__all__ = ["ZOO", "ZooModel", "build_model", "count_macs", "count_params"]

# Faster-moving BatchNorm statistics than Keras' 0.99: short runs (the demo, small custom datasets)
# otherwise evaluate with running statistics still far from the data's and predict one class.
BN_MOMENTUM = 0.9


def _keras() -> Any:
    return require_keras()


def _conv_bn(x: Any, filters: int, kernel: int = 3, strides: int = 1, relu6: bool = False) -> Any:
    k = _keras().layers
    x = k.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = k.BatchNormalization(momentum=BN_MOMENTUM)(x)
    return k.ReLU(max_value=6.0 if relu6 else None)(x)


def _sep_bn(x: Any, filters: int, relu: bool = True) -> Any:
    # Depthwise + pointwise as two layers (not SeparableConv2D) so BatchNorm sits where converters fold it.
    k = _keras().layers
    x = k.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = k.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = k.ReLU()(x)
    x = k.Conv2D(filters, 1, use_bias=False)(x)
    x = k.BatchNormalization(momentum=BN_MOMENTUM)(x)
    return k.ReLU()(x) if relu else x


def _head(x: Any, num_classes: int, dropout: float) -> Any:
    k = _keras().layers
    x = k.GlobalAveragePooling2D()(x)
    if dropout:
        x = k.Dropout(dropout)(x)
    return k.Dense(num_classes, activation="softmax", name="probabilities")(x)


def mini_xception(input_shape: tuple[int, int, int], num_classes: int, *, stem: int = 8,
                  widths: tuple[int, ...] = (32, 64, 128, 256)) -> Any:
    """Arriaga et al. 2017 mini-Xception's residual depthwise-separable modules at twice its widths
    (~0.19M parameters): at Arriaga's (16, 32, 64, 128) int8 ran at 0.62-0.74x of fp32 on an
    AVX-512 VNNI CPU, because depthwise convolutions gain nothing from int8 there and the few-channel
    pointwise ones little; wider pointwise convolutions are where int8 pays (docs/performance.md)."""
    keras = _keras()
    k = keras.layers
    inp = keras.Input(input_shape, name="face")
    x = _conv_bn(inp, stem)
    x = _conv_bn(x, stem)
    for filters in widths:
        # Every second pixel, then a 1x1 convolution: what a strided 1x1 convolution computes, without
        # its gradient, which crashes TensorFlow 2.21's oneDNN kernels on AVX-512 CPUs (AMD Zen 4).
        shortcut = k.MaxPooling2D(1, strides=2, padding="same")(x)
        shortcut = k.Conv2D(filters, 1, use_bias=False)(shortcut)
        shortcut = k.BatchNormalization(momentum=BN_MOMENTUM)(shortcut)
        y = _sep_bn(x, filters)
        y = _sep_bn(y, filters, relu=False)
        y = k.MaxPooling2D(3, strides=2, padding="same")(y)
        x = k.Add()([y, shortcut])
    return keras.Model(inp, _head(x, num_classes, 0.0), name="mini_xception")


# (expansion, out channels, repeats, first stride). Expansion 6 as in MobileNetV2 (was 4) and a
# 16-channel stem (was 32): int8 then runs at ~0.55x of fp32 instead of 0.61-0.65x on an AVX-512
# VNNI CPU: an int8 convolution of a 1-channel input is slower than fp32, and the wider expansion
# convolutions are where int8 gains most (docs/performance.md).
MOBILENET_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 3, 2), (6, 96, 2, 1), (6, 128, 1, 2))


def mobilenet(input_shape: tuple[int, int, int], num_classes: int, *, stem: int = 16,
              blocks: tuple[tuple[int, int, int, int], ...] = MOBILENET_BLOCKS, top: int = 256) -> Any:
    """MobileNetV2-style inverted residuals with ReLU6, sized for 48x48 faces (~0.56M parameters)."""
    keras = _keras()
    k = keras.layers
    inp = keras.Input(input_shape, name="face")
    x = _conv_bn(inp, stem, strides=1, relu6=True)
    # (expansion, out channels, repeats, first stride)
    for t, c, n, s in blocks:
        for i in range(n):
            stride = s if i == 0 else 1
            in_c = x.shape[-1]
            y = _conv_bn(x, in_c * t, kernel=1, relu6=True) if t != 1 else x
            y = k.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(y)
            y = k.BatchNormalization(momentum=BN_MOMENTUM)(y)
            y = k.ReLU(max_value=6.0)(y)
            y = k.Conv2D(c, 1, use_bias=False)(y)
            y = k.BatchNormalization(momentum=BN_MOMENTUM)(y)
            x = k.Add()([x, y]) if stride == 1 and in_c == c else y
    x = _conv_bn(x, top, kernel=1, relu6=True)
    return keras.Model(inp, _head(x, num_classes, 0.2), name="mobilenet")


def _vgg_bn(input_shape: tuple[int, int, int], num_classes: int, name: str, stage_widths: tuple[int, int, int],
            top: int, stage_depths: tuple[int, int, int] = (2, 2, 2)) -> Any:
    """VGG-style stacks with BatchNorm: 3x3 convs (two per stage unless stage_depths says otherwise),
    max-pooling after each stage, then a 3x3 and a 1x1 conv."""
    keras = _keras()
    k = keras.layers
    inp = keras.Input(input_shape, name="face")
    x = inp
    for filters, depth in zip(stage_widths, stage_depths, strict=True):
        for _ in range(depth):
            x = _conv_bn(x, filters)
        x = k.MaxPooling2D(2)(x)
    x = _conv_bn(x, top)
    x = _conv_bn(x, top, kernel=1)
    return keras.Model(inp, _head(x, num_classes, 0.3), name=name)


def accurate(input_shape: tuple[int, int, int], num_classes: int) -> Any:
    """~0.65M parameters: the compact net tuned for accuracy (the shipped FER-2013 model)."""
    return _vgg_bn(input_shape, num_classes, "accurate", (32, 64, 128), 256)


def accurate_wide(input_shape: tuple[int, int, int], num_classes: int) -> Any:
    """~0.96M parameters: `accurate` widened where the maps are small (12x12, 6x6), so it costs
    only 22% more multiply-adds; int8 with flip averaging stays well under 1 ms on one x86 core."""
    return _vgg_bn(input_shape, num_classes, "accurate_wide", (32, 64, 160), 320)


def accurate_deep(input_shape: tuple[int, int, int], num_classes: int) -> Any:
    """~0.84M parameters: `accurate` with a third conv in the 24x24 and 12x12 stages (10 conv layers
    instead of 8): depth where width (accurate_wide) bought nothing; +43% multiply-adds, so int8
    with flip averaging stays well under 1 ms on one x86 core."""
    return _vgg_bn(input_shape, num_classes, "accurate_deep", (32, 64, 128), 256, stage_depths=(2, 3, 3))


@dataclass(frozen=True)
class ZooModel:
    name: str
    build: Callable[[tuple[int, int, int], int], Any]
    summary: str


ZOO: dict[str, ZooModel] = {
    m.name: m
    for m in (
        ZooModel("mini_xception", mini_xception, "mini-Xception (Arriaga 2017) at 2x width, ~0.19M params"),
        ZooModel("mobilenet", mobilenet, "MobileNetV2-style inverted residuals (expansion 6), ReLU6"),
        ZooModel("accurate", accurate, "VGG-style with BatchNorm, ~0.65M params"),
        ZooModel("accurate_wide", accurate_wide, "accurate with wider late stages, ~0.96M params"),
        ZooModel("accurate_deep", accurate_deep, "accurate with a third conv in stages 2-3, ~0.84M params"),
    )
}


def build_model(name: str, input_shape: tuple[int, int, int] = (48, 48, 1), num_classes: int = 7) -> Any:
    if name not in ZOO:
        raise ModelError(f"expected --model to be one of {', '.join(ZOO)}, received {name!r}")
    return ZOO[name].build(input_shape, num_classes)


def count_params(model: Any) -> int:
    return int(model.count_params())


def count_macs(model: Any) -> int:
    """Multiply-accumulates of one forward pass, from the layers' output shapes."""
    keras = _keras()
    k = keras.layers
    total = 0
    for layer in model.layers:
        if isinstance(layer, k.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c * kh * kw
        elif isinstance(layer, k.SeparableConv2D):
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += h * w * c_in * kh * kw + h * w * c_in * c_out
        elif isinstance(layer, k.Conv2D):
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += h * w * c_in * c_out * kh * kw
        elif isinstance(layer, k.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)
