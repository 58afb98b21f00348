"""MODEL_CARD.md as text: what build_reference_model.py writes from the shipped model's report.

Kept apart from the build so the card can be rendered again from
benchmarks/results/reference-model/report.json without TensorFlow or FER-2013.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["chosen_weights", "in_run", "render_card"]


def in_run(model_path: str) -> str:
    """RUN/best.keras: a model named by its run folder, without this machine's path to it."""
    return f"{Path(model_path).parent.name}/{Path(model_path).name}"


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


def _built(info: dict[str, Any], machine: str) -> str:
    rebuilt = info.get("rebuilt")
    if not rebuilt:
        return (f"Built by `python tools/build_reference_model.py RUN --data fer2013` on\n{info['created'][:10]} ({machine}); "
                "every number below comes from that run\n(`benchmarks/results/reference-model/report.json`).")
    changes = "; ".join(rebuilt["changes"]) or "no change of preprocessing"
    return (f"First built on {rebuilt['first_built']} from run `{info['run']}`; rebuilt from the same weights by\n"
            f"`python tools/build_reference_model.py --from-shipped` on {info['created'][:10]} ({machine}), with\n"
            f"{changes} and the face template learnt again. Every number below comes from the rebuild\n"
            "(`benchmarks/results/reference-model/report.json`) except the training and validation ones, which are recorded.")


def _framing(spec: dict[str, Any]) -> str:
    template = spec.get("face_template")
    if template is None:
        return f"Face box from a detector (BlazeFace in the bundle), widened by {spec['crop_margin']:.0%} per side"
    corners = ", ".join(f"{v:.3f}" for v in template)
    return ("Face box from a detector (BlazeFace in the bundle), framed as FER-2013 frames its faces: the crop puts the\n"
            f"  box where BlazeFace finds it on FER-2013's own faces (the face template ({corners}) of the frame,\n"
            "  learnt by `edgeemo quantize` on its calibration faces)")


def _no_smoothing(by_sigma: dict[str, float], recorded_sigma: float, mode: str, on_validation: str) -> str:
    if recorded_sigma == 0.0:
        return "No inference smoothing: none gained on validation."
    gain = by_sigma[str(recorded_sigma)] - by_sigma["0.0"]
    return (f"No inference smoothing. A blur of sigma {recorded_sigma:g} px gained {100 * gain:+.2f} pp {mode} {on_validation}, "
            "but it is within noise on PublicTest and cost points on real photos through the device path "
            "(docs/quantize.md), so it is off.")


def _device_path_section(info: dict[str, Any], labels: list[str]) -> str:
    device = info.get("device_path")
    if not device:
        return ""
    rows = ["| model | faces found | accuracy | macro recall | " + " | ".join(labels) + " |",
            "|---|---:|---:|---:|" + "---:|" * len(labels)]
    flip = " + flip" if info["flip_average"] else ""
    for name, m in device["artifacts"].items():
        rows.append(f"| edgeemo `{name}`{flip} | {_pct(m['face_hit_rate'])} | {_pct(m['accuracy'])} | {_pct(m['macro_recall'])} | "
                    + " | ".join(_pct(m["per_class_recall"][c]) for c in labels) + " |")
    for peer in info.get("peers_on_photos") or []:
        rows.append(f"| {peer['peer']} | {_pct(peer['face_hit_rate'])} | {_pct(peer['accuracy'])} | {_pct(peer['macro_recall'])} | "
                    + " | ".join(_pct(peer["per_class_recall"][c]) for c in labels) + " |")
    images = next(iter(device["artifacts"].values()))["images"]
    return f"""## Real photos through the device path

FER-2013 accuracy says little about a camera's faces. `{device['command']}` runs {images}
posed photos from another source ({device['photos']}: colour head-and-shoulder shots of professional
performers, evaluation only) through the device's own path: BlazeFace, the largest face, the
crop above, the raw label per photo; a photo without a face counts as wrong. The peer ran with its
own face detector in a virtual environment of its own (`benchmarks/peer_fer_photos.py`).

{chr(10).join(rows)}

Expressive faces other than happy come out neutral far more often than on FER-2013: a model that
learnt FER-2013's faces, labels and poses does not carry its accuracy to other faces. Measure on
your own people (`edgeemo evaluate BUNDLE --data PHOTOS --detect`) before relying on it.

"""


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render_card(info: dict[str, Any], results: dict[str, dict[str, Any]], sizes: dict[str, int], labels: list[str],
                headline: dict[str, Any], float_headline: dict[str, Any]) -> str:
    from edgeemo.training.config import saved_config

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
    flags += [f"--teacher {in_run(t)}" for t in teachers]
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
        flags.append(f"--init-from {in_run(init_from)}")
    extra_flags = "".join(f" {flag}" for flag in flags)
    lineage = ""
    if init_from:
        lineage += f"fine-tuned from the weights of run `{Path(init_from).parent.name}` (see `research/fer2013/EXPERIMENTS.md`); "
    if teachers:
        # Teacher folders named rowN are what research/fer2013/recover_teachers.py writes: say how to get them back.
        recovered = ("; teachers named rowN are the shipped models of that row of `research/fer2013/EXPERIMENTS.md`, rebuilt "
                     "from git history by `python research/fer2013/recover_teachers.py OUT`"
                     if all(in_run(t).startswith("row") for t in teachers) else "")
        lineage += (f"distilled from {len(teachers)} teacher model(s) of the same split (targets: one-hot label mixed with the "
                    f"teachers' flip-averaged, temperature-softened probabilities, computed once before training{recovered}); ")
    m = info["machine"]
    machine = f"{m['cpu_model']}, {m['usable_cores']} cores, load {m['loadavg_1m_at_start']} at the start"
    lat_key = "latency_ms_flip_average" if flip else "latency_ms"
    by_sigma = info["val_accuracy_by_smoothing"]["flip_average" if flip else "plain"]
    sigma = spec["smoothing_sigma"]
    recorded_sigma = next((float(k) for k, v in by_sigma.items() if v == max(by_sigma.values())), 0.0)
    smoothing = (f"Smoothed with a Gaussian blur of sigma {sigma:g} px (`smoothing_sigma` in the manifest; edgeemo applies it in "
                 "`PreprocessSpec.normalize`, code feeding the model files directly must do the same). Training augmentation "
                 f"resamples every image, so the model learned on slightly soft faces; {on_validation} the blur took accuracy from "
                 f"{_pct(by_sigma['0.0'])} to {_pct(by_sigma[str(sigma)])} ({mode}). It costs about 0.01 ms per face."
                 if sigma > 0 else _no_smoothing(by_sigma, recorded_sigma, mode, on_validation))
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
`--bundle` is given. {_built(info, machine)}

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

- {_framing(spec)},
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
The path to this model, run by run, is in `research/fer2013/EXPERIMENTS.md`; curves in
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

{_device_path_section(info, labels)}## How it compares (FER-2013 top-1 as published; some papers report the PrivateTest split)

| model | accuracy | size |
|---|---:|---|
| human agreement on FER-2013 labels | ~65% | - |
| mini-Xception (Arriaga et al., 2017) | 66% | 60k parameters |
| compact CNNs (Cotter, 2019: MobileNet-style under 500k parameters) | 68.4% | < 500k parameters |
| 2013 challenge winner (Tang, SVM loss CNN) | 71.2% | large |
| best single large CNNs (e.g. VGG variants) | 73.3-73.7% | millions of parameters |
| **this model** (float / int8, {mode}) | **{_pct(float_headline['accuracy'])} / {_pct(headline['accuracy'])}** | {info['params']:,} parameters |

This model is {"above" if float_headline['accuracy'] >= 0.70 else "below"} the 70% the project aims for; `research/fer2013/EXPERIMENTS.md` says what
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
