"""On-device model choice: time every model of a bundle that this device can run, within a small
budget, and keep the fastest whose recorded accuracy is within a bound of the most accurate.

Which artifact is fastest depends on the CPU that runs it (int8 can be slower than fp32 for
depthwise nets with few channels on x86, and faster on a Cortex-A72), so the bundle carries the
candidates and the device decides during warm-up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeemo.errors import ConfigError, EdgeEmoError
from edgeemo.runtime.base import Runtime

if TYPE_CHECKING:
    from edgeemo.bundle import Bundle

__all__ = ["AUTO", "ModelChoice", "choose_model", "open_bundle_model", "recorded_accuracy_pp", "select_model",
           "wants_auto"]

log = logging.getLogger(__name__)

AUTO = "auto"
DEFAULT_BUDGET_S = 0.3
DEFAULT_MAX_DROP_PP = 1.0
MIN_ROUNDS = 5  # fewer timed runs than this per model and the median says little
MAX_ROUNDS = 2000  # the budget is the bound; this only caps a very fast model


@dataclass
class ModelChoice:
    """Which model runs, and why: the timings and accuracies the choice was made from."""

    file: str
    mode: str  # "auto": timed on this device; "fixed": named by the user or the only one
    reason: str
    timings_ms: dict[str, float] = field(default_factory=dict)  # median predict per face
    accuracy_pp: dict[str, float | None] = field(default_factory=dict)
    eligible: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why it was not timed
    rounds: int = 0
    spent_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file, "mode": self.mode, "reason": self.reason,
            "timings_ms": {k: round(v, 4) for k, v in self.timings_ms.items()},
            "accuracy_pp": self.accuracy_pp, "eligible": self.eligible, "skipped": self.skipped,
            "rounds": self.rounds, "spent_s": round(self.spent_s, 3),
        }


def wants_auto(bundle: Bundle, model: str | None) -> bool:
    """`auto` when asked for, and by default for a bundle that holds several models."""
    if model == AUTO:
        return True
    return model is None and len(bundle.manifest.models) > 1


def recorded_accuracy_pp(metrics: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Each model's recorded accuracy in percentage points, on one common scale.

    Accuracy on the evaluation set when every model has it; otherwise minus its drop against the
    float model (all drops share that reference); otherwise None for all: nothing to bound by.
    """
    acc = {f: _number(m.get("accuracy", m.get("fer2013_test_accuracy"))) for f, m in metrics.items()}
    if acc and all(v is not None for v in acc.values()):
        return {k: round(100.0 * v, 4) for k, v in acc.items() if v is not None}
    drops = {f: _number(m.get("drop_pp")) for f, m in metrics.items()}
    if drops and all(v is not None for v in drops.values()):
        return {k: round(-v, 4) for k, v in drops.items() if v is not None}
    return {f: None for f in metrics}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def select_model(timings_ms: dict[str, float], accuracy_pp: dict[str, float | None],
                 max_drop_pp: float) -> tuple[str, list[str], str]:
    """(file, eligible files, reason): the fastest of those within `max_drop_pp` of the most accurate."""
    if not timings_ms:
        raise ConfigError("expected at least one timed model to choose from, received none")
    known = {f: a for f, a in accuracy_pp.items() if f in timings_ms and a is not None}
    if known:
        best = max(known.values())
        eligible = [f for f in timings_ms if f in known and known[f] >= best - max_drop_pp]
        bound = f"accuracy within {max_drop_pp:g} pp of the best ({best:.2f})"
    else:
        eligible = list(timings_ms)
        bound = "no recorded accuracy to bound by"
    fastest = min(eligible, key=lambda f: timings_ms[f])
    others = ", ".join(f"{f} {timings_ms[f]:.3f} ms" for f in timings_ms if f != fastest)
    reason = f"fastest with {bound}: {fastest} {timings_ms[fastest]:.3f} ms" + (f" (vs {others})" if others else "")
    return fastest, eligible, reason


def _probe_batch(bundle: Bundle, seed: int = 0) -> np.ndarray:
    spec = bundle.preprocess
    pixels = np.random.default_rng(seed).integers(0, 256, size=(1, *spec.input_shape), dtype=np.uint8)
    return spec.normalize(pixels)


def choose_model(
    bundle: Bundle,
    *,
    threads: int = 1,
    providers: list[str] | None = None,
    flip_average: bool = False,
    budget_s: float = DEFAULT_BUDGET_S,
    max_drop_pp: float = DEFAULT_MAX_DROP_PP,
    opener: Callable[..., Runtime] | None = None,
    runtime_options: dict[str, Any] | None = None,
) -> tuple[ModelChoice, Runtime]:
    """Open every model this device can run, time one face (two with flip averaging) round-robin
    until `budget_s` is spent, and return the choice with the chosen runtime still open."""
    if opener is None:
        from edgeemo.runtime import open_runtime

        opener = open_runtime
    t_start = time.perf_counter()
    runtimes: dict[str, Runtime] = {}
    skipped: dict[str, str] = {}
    for entry in bundle.manifest.models:
        if entry.format == "keras":
            skipped[entry.file] = "Keras models need TensorFlow, which devices do not install"
            continue
        try:
            runtimes[entry.file] = opener(bundle.root / entry.file, threads=threads, providers=providers,
                                          **(runtime_options or {}))
        except (EdgeEmoError, ImportError, RuntimeError) as exc:
            skipped[entry.file] = str(exc)
            log.warning("model choice: %s cannot run here (%s); leaving it out", entry.file, exc)
    if not runtimes:
        raise ConfigError(f"expected at least one model in {bundle.root} that this device can run, received none: "
                          + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    batch = _probe_batch(bundle)
    samples: dict[str, list[int]] = {f: [] for f in runtimes}
    rounds = 0
    try:
        for rt in runtimes.values():  # first invokes pay for allocation and weight packing
            for _ in range(2):
                rt.predict_proba(batch, flip_average=flip_average)
        deadline = t_start + budget_s
        while rounds < MAX_ROUNDS and (rounds < MIN_ROUNDS or time.perf_counter() < deadline):
            order = list(runtimes.items())
            order = order[rounds % len(order):] + order[: rounds % len(order)]
            for f, rt in order:
                t0 = time.perf_counter_ns()
                rt.predict_proba(batch, flip_average=flip_average)
                samples[f].append(time.perf_counter_ns() - t0)
            rounds += 1
    except BaseException:
        for rt in runtimes.values():
            rt.close()
        raise
    timings = {f: float(np.median(s)) / 1e6 for f, s in samples.items()}
    accuracy = recorded_accuracy_pp({e.file: e.metrics for e in bundle.manifest.models if e.file in runtimes})
    file, eligible, reason = select_model(timings, accuracy, max_drop_pp)
    for f, rt in runtimes.items():
        if f != file:
            rt.close()
    choice = ModelChoice(file=file, mode=AUTO, reason=reason, timings_ms=timings, accuracy_pp=accuracy,
                         eligible=eligible, skipped=skipped, rounds=rounds, spent_s=time.perf_counter() - t_start)
    log.info("model: auto chose %s in %.3f s over %d rounds, %s thread(s), flip averaging %s: %s",
             file, choice.spent_s, rounds, threads, "on" if flip_average else "off", reason)
    return choice, runtimes[file]


def open_bundle_model(
    bundle: Bundle,
    model: str | None,
    *,
    threads: int = 1,
    providers: list[str] | None = None,
    flip_average: bool = False,
    budget_s: float = DEFAULT_BUDGET_S,
    max_drop_pp: float = DEFAULT_MAX_DROP_PP,
    runtime_options: dict[str, Any] | None = None,
) -> tuple[ModelChoice, Runtime]:
    """The runtime for `model` (a file in the bundle, "auto", or None: auto for several models,
    else the bundle's default_model) and the record of how it was chosen."""
    if wants_auto(bundle, model):
        return choose_model(bundle, threads=threads, providers=providers, flip_average=flip_average,
                            budget_s=budget_s, max_drop_pp=max_drop_pp, runtime_options=runtime_options)
    from edgeemo.runtime import open_runtime

    entry = bundle.model(model)
    why = "named with --model / bundle.model" if model else "the bundle's only model"
    runtime = open_runtime(bundle.root / entry.file, threads=threads, providers=providers, **(runtime_options or {}))
    log.info("model: %s (%s)", entry.file, why)
    return ModelChoice(file=entry.file, mode="fixed", reason=why), runtime
