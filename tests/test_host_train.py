"""`edgeemo train` as a user runs it, through click's CliRunner: real (short) training runs on the
demo faces, so the slow tier."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_support import assert_one_line_error, invoke

pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def one_epoch_run(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-epoch mini_xception run (split seed 0): a teacher or a starting point."""
    run = tmp_path_factory.mktemp("runs") / "one-epoch"
    code, _, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "1", "--out", run,
                          "--batch-size", "32")
    assert code == 0, err
    return run


def _resume_to(run: Path, epochs: int, config: dict) -> tuple[int, str, str]:
    """Save `config` as the run's config.json with `epochs` planned, then `edgeemo train --resume` it."""
    (run / "config.json").write_text(json.dumps({**config, "epochs": epochs}))
    return invoke("train", "--out", run, "--resume")


def test_train_resume_continues_from_the_last_epoch(demo_root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    code, stdout, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "1", "--out", run,
                               "--batch-size", "32", "--weight-decay", "0.03")
    assert code == 0, err
    assert "inference smoothing: sigma" in stdout and "with flip averaging: validation accuracy" in stdout
    assert "BatchNorm statistics re-estimated on" in stdout
    state = json.loads((run / "state.json").read_text())
    bn = state["batchnorm_reestimation"]
    assert bn["kept"] == (bn["val_accuracy_after"] > bn["val_accuracy_before"]) and bn["faces"] > 0
    assert state["epochs_done"] == 1 and (run / "best.keras").is_file() and (run / "curves.png").is_file()
    # The inference smoothing was chosen on validation and written where quantize reads it.
    sigma = json.loads((run / "spec.json").read_text())["preprocess"]["smoothing_sigma"]
    tried = {float(s): a for s, a in state["smoothing_val_accuracy"].items()}
    assert sigma in tried and tried[sigma] == max(tried.values()) and 0.0 in tried
    # The flip-averaged grid, which run comparisons use, is recorded beside it.
    assert set(state["smoothing_val_accuracy_flip_average"]) == set(state["smoothing_val_accuracy"])
    config = json.loads((run / "config.json").read_text())
    assert config["warp"] == "single"
    del config["warp"]  # as runs saved before the option: they resume with the warp they started with
    code, _, err = _resume_to(run, 2, config)
    assert code == 0, err
    assert json.loads((run / "state.json").read_text())["epochs_done"] == 2
    assert len(json.loads((run / "history.json").read_text())["loss"]) == 2
    assert json.loads((run / "config.json").read_text())["warp"] == "chained"
    # The decay reached the optimizer and survived the resume with it.
    import keras

    assert config["weight_decay"] == 0.03
    assert keras.models.load_model(run / "last.keras").optimizer.weight_decay == pytest.approx(0.03)


def test_train_in_mixed_bfloat16_saves_a_float32_best_model_and_resumes(demo_root: Path, tmp_path: Path) -> None:
    import keras

    run = tmp_path / "bf16"
    code, _, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "1", "--out", run,
                          "--batch-size", "32", "--precision", "mixed_bfloat16", "--no-tune-smoothing",
                          "--no-reestimate-bn")  # best.keras keeps last.keras's statistics, to compare them
    assert code == 0, err
    last, best = keras.models.load_model(run / "last.keras"), keras.models.load_model(run / "best.keras")
    assert last.name == best.name == "mini_xception"
    assert {layer.dtype_policy.name for layer in last.layers[1:-1]} == {"mixed_bfloat16"}
    assert last.layers[-1].dtype_policy.name == "float32"  # the softmax
    # best.keras is what quantize, evaluate and teachers read: float32 throughout, same weights.
    assert {layer.dtype_policy.name for layer in best.layers} == {"float32"}
    for w_best, w_last in zip(best.get_weights(), last.get_weights(), strict=True):
        np.testing.assert_array_equal(w_best, w_last)
    faces = np.random.default_rng(0).random((8, 48, 48, 1), dtype=np.float32)
    np.testing.assert_allclose(best.predict(faces, verbose=0), last.predict(faces, verbose=0), atol=0.02)
    config = json.loads((run / "config.json").read_text())
    assert config["precision"] == "mixed_bfloat16"
    code, _, err = _resume_to(run, 2, config)
    assert code == 0, err
    assert json.loads((run / "state.json").read_text())["epochs_done"] == 2


def test_train_with_weight_averaging_keeps_the_averaged_model_and_resumes(demo_root: Path, tmp_path: Path) -> None:
    import keras

    run = tmp_path / "ema"
    code, stdout, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "1", "--out", run,
                               "--batch-size", "32", "--ema", "0.9", "--no-tune-smoothing")
    assert code == 0, err
    history = json.loads((run / "history.json").read_text())
    state = json.loads((run / "state.json").read_text())
    scores = {"raw": history["val_accuracy"][0], "averaged": history["val_accuracy_ema"][0]}
    assert state["best_val_accuracy"] == pytest.approx(max(scores.values()))
    assert scores[state["best_weights"]] == max(scores.values())
    # last.keras keeps the raw weights and the optimizer's averages; best.keras holds the better set.
    last, best = keras.models.load_model(run / "last.keras"), keras.models.load_model(run / "best.keras")
    weights = {"raw": [v.numpy() for v in last.trainable_variables]}
    last.optimizer.finalize_variable_values(last.trainable_variables)
    weights["averaged"] = [v.numpy() for v in last.trainable_variables]
    assert any(not np.allclose(r, a) for r, a in zip(weights["raw"], weights["averaged"], strict=True))
    for w_best, w_kept in zip([v.numpy() for v in best.trainable_variables], weights[state["best_weights"]], strict=True):
        np.testing.assert_allclose(w_best, w_kept, atol=1e-6)
    config = json.loads((run / "config.json").read_text())
    assert config["ema"] == 0.9
    code, _, err = _resume_to(run, 2, config)
    assert code == 0, err
    assert len(json.loads((run / "history.json").read_text())["val_accuracy_ema"]) == 2


def test_train_with_sgd_builds_nesterov_sgd_and_resumes_with_it(demo_root: Path, tmp_path: Path) -> None:
    import keras

    run = tmp_path / "sgd"
    code, _, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "1", "--out", run,
                          "--batch-size", "32", "--optimizer", "sgd", "--lr", "0.01", "--weight-decay", "5e-4",
                          "--ema", "0.9", "--no-tune-smoothing", "--no-reestimate-bn")
    assert code == 0, err
    optimizer = keras.models.load_model(run / "last.keras").optimizer
    assert isinstance(optimizer, keras.optimizers.SGD) and optimizer.nesterov and optimizer.momentum == 0.9
    assert optimizer.weight_decay == pytest.approx(5e-4) and optimizer.use_ema
    config = json.loads((run / "config.json").read_text())
    assert config["optimizer"] == "sgd"
    code, _, err = _resume_to(run, 2, config)
    assert code == 0, err
    assert json.loads((run / "state.json").read_text())["epochs_done"] == 2
    assert isinstance(keras.models.load_model(run / "last.keras").optimizer, keras.optimizers.SGD)
    # Runs saved before the option read as AdamW, which they trained with.
    del config["optimizer"]
    from edgeemo.training import TrainConfig

    assert TrainConfig.model_validate(config).optimizer == "adamw"
    code, _, err = invoke("train", "--data", demo_root, "--optimizer", "adam", "--out", tmp_path / "bad")
    assert code == 2 and "'adam' is not one of 'adamw', 'sgd'" in err and not (tmp_path / "bad").exists()


def test_train_with_sharpness_aware_steps_binds_them_again_on_resume(demo_root: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from edgeemo.training import sharpness

    bound: list[float] = []

    def spy(model: object, rho: float) -> None:
        bound.append(rho)
        real(model, rho)

    real = sharpness.use_sharpness_aware_steps
    monkeypatch.setattr(sharpness, "use_sharpness_aware_steps", spy)
    run = tmp_path / "sam"
    code, _, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "1", "--out", run,
                          "--batch-size", "32", "--sam-rho", "0.05", "--precision", "mixed_bfloat16", "--ema", "0.9",
                          "--no-tune-smoothing", "--no-reestimate-bn")
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert config["sam_rho"] == 0.05 and bound == [0.05]
    code, _, err = _resume_to(run, 2, config)
    assert code == 0, err
    assert bound == [0.05, 0.05] and json.loads((run / "state.json").read_text())["epochs_done"] == 2
    assert np.all(np.isfinite(json.loads((run / "history.json").read_text())["loss"]))
    code, _, err = invoke("train", "--data", demo_root, "--sam-rho", "0", "--out", tmp_path / "bad")
    assert code == 2 and "--sam-rho" in err and not (tmp_path / "bad").exists()


def test_train_with_epoch_weight_averaging_offers_the_average_and_resumes(demo_root: Path, tmp_path: Path) -> None:
    import keras

    run = tmp_path / "swa"
    code, stdout, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "2", "--out", run,
                               "--batch-size", "32", "--swa-start", "1", "--no-tune-smoothing", "--no-reestimate-bn")
    assert code == 0, err
    assert "weight average of 2 epochs (from epoch 1)" in stdout
    state = json.loads((run / "state.json").read_text())
    swa = state["swa"]
    assert swa["epochs"] == 2 and swa["kept"] == (swa["val_accuracy"] > swa["val_accuracy_best_checkpoint"])
    # best.keras is the average when it scored higher, the best checkpoint otherwise.
    average, best = keras.models.load_model(run / "swa.keras"), keras.models.load_model(run / "best.keras")
    same = all(np.array_equal(a, b) for a, b in zip(average.get_weights(), best.get_weights(), strict=True))
    assert same == swa["kept"] and (state.get("best_weights") == "weight average") == swa["kept"]
    # The average is not the last epoch's weights: it holds epoch 1 too.
    last = keras.models.load_model(run / "last.keras")
    assert any(not np.allclose(a, b) for a, b in zip(average.trainable_variables, last.trainable_variables, strict=True))
    config = json.loads((run / "config.json").read_text())
    assert config["swa_start"] == 1
    code, stdout, err = _resume_to(run, 3, config)
    assert code == 0, err
    assert "weight average of 3 epochs (from epoch 1)" in stdout
    # An average that would start after the last epoch is refused before anything is written.
    code, _, err = invoke("train", "--data", demo_root, "--epochs", "2", "--swa-start", "3", "--out", tmp_path / "late")
    assert_one_line_error(code, err, "--swa-start", "received 3")
    assert not (tmp_path / "late").exists()


def test_train_says_when_patience_ended_the_run_before_its_weight_average(one_epoch_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "plateau"
    shutil.copytree(one_epoch_run, run)
    # A run planned for 3 epochs, averaging from the third, whose checkpoint has not improved for
    # --patience epochs: the resume stops at once, and says what the stop cost.
    state = json.loads((run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps({**state, "wait": 1}))
    config = json.loads((run / "config.json").read_text())
    config.update(patience=1, swa_start=3, tune_smoothing=False, reestimate_batchnorm=False)
    code, stdout, err = _resume_to(run, 3, config)
    assert code == 0, err
    line = " ".join(stdout.split())  # rich wraps long lines
    assert "stopped early at epoch 1 of 3: no better checkpoint in the last 1 epoch (--patience)" in line
    assert "the weight average (--swa-start 3) never began. A --patience of 3 or more would have reached it" in line
    assert json.loads((run / "state.json").read_text())["epochs_done"] == 1


def test_train_distils_from_a_teacher_run(demo_root: Path, one_epoch_run: Path, tmp_path: Path) -> None:
    teacher = one_epoch_run
    student = tmp_path / "student"
    code, stdout, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "1", "--out", student,
                               "--batch-size", "32", "--teacher", teacher / "best.keras", "--distill-weight", "0.4")
    assert code == 0, err
    assert "distilling from 1 teacher(s)" in stdout
    probs = np.load(student / "teacher_probs.npy")
    assert probs.shape[1] == 7 and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert json.loads((student / "config.json").read_text())["teachers"] == [str(teacher / "best.keras")]
    # A teacher trained on another validation split would leak this run's validation images.
    code, _, err = invoke("train", "--data", demo_root, "--epochs", "1", "--out", tmp_path / "leaky", "--seed", "1",
                          "--teacher", teacher / "best.keras")
    assert_one_line_error(code, err, "validation split")
    assert not (tmp_path / "leaky").exists()  # refused before anything was written
    # Another seed for initialisation and augmentation is fine when the split seed is shared; soft
    # targets go through mixup, CutMix and random erasing like labels do.
    code, _, err = invoke("train", "--data", demo_root, "--epochs", "1", "--out", tmp_path / "second", "--seed", "1",
                          "--split-seed", "0", "--teacher", teacher / "best.keras", "--batch-size", "32", "--no-tune-smoothing",
                          "--mixup", "0.2", "--cutmix", "1.0", "--erase", "0.5")
    assert code == 0, err
    second_config = json.loads((tmp_path / "second" / "config.json").read_text())
    assert second_config["cutmix"] == 1.0 and second_config["erase"] == 0.5
    assert json.loads((tmp_path / "second" / "spec.json").read_text())["preprocess"]["smoothing_sigma"] == 0.0
    # Not tuned: validation is scored at the spec's sigma only, with and without flip averaging.
    second_state = json.loads((tmp_path / "second" / "state.json").read_text())
    assert set(second_state["smoothing_val_accuracy"]) == set(second_state["smoothing_val_accuracy_flip_average"]) == {"0.0"}


def test_train_distils_online_scoring_every_batch(demo_root: Path, one_epoch_run: Path, tmp_path: Path) -> None:
    student = tmp_path / "online"
    quick = ("--data", demo_root, "--epochs", "1", "--batch-size", "32", "--no-tune-smoothing", "--no-reestimate-bn")
    code, stdout, err = invoke("train", *quick, "--out", student, "--teacher", one_epoch_run / "best.keras",
                               "--distill-online", "--mixup", "0.2", "--precision", "mixed_bfloat16")
    assert code == 0, err
    assert "distilling from 1 teacher(s), each training batch scored as the student sees it" in stdout
    assert not (student / "teacher_probs.npy").exists()  # nothing cached: every batch is scored afresh
    assert json.loads((student / "config.json").read_text())["distill_online"] is True
    assert (student / "best.keras").is_file()
    code, _, err = invoke("train", *quick, "--out", tmp_path / "alone", "--distill-online")
    assert_one_line_error(code, err, "expected --distill-online with --teacher models", "received 0 teacher(s)")
    assert not (tmp_path / "alone").exists()


def test_cross_fitted_teachers_score_only_the_images_they_never_trained_on(
        demo_root: Path, one_epoch_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench_support import load_script

    from edgeemo.data import load_split
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.training.config import TrainConfig
    from edgeemo.training.distill import teacher_probabilities
    from edgeemo.training.split import held_out_indices, split_indices

    quick = ("--data", demo_root, "--epochs", "1", "--batch-size", "32", "--no-tune-smoothing", "--no-reestimate-bn")
    teachers = []
    for fold in (0, 1):
        run = tmp_path / f"fold{fold}"
        code, stdout, err = invoke("train", *quick, "--out", run, "--folds", "2", "--holdout-fold", fold, "--seed", fold,
                                   "--split-seed", "0")
        assert code == 0, err
        # 210 demo faces: 21 for validation, the other 189 dealt into two folds of 94-95, one left out.
        assert " train / 21 validation images" in stdout and stdout.split(" train / ")[0].split()[-1] in ("94", "95")
        teachers.append(run / "best.keras")
    student = tmp_path / "student"
    code, stdout, err = invoke("train", *quick, "--out", student, "--teacher", teachers[0], "--teacher", teachers[1],
                               "--cross-fit", "--seed", "2", "--split-seed", "0")
    assert code == 0, err
    assert "189 train / 21 validation images" in stdout
    assert "each image scored by the teachers that never trained on it" in stdout
    # Each training image's target is the one teacher's that left it out, not the mean of both.
    labels = load_split(demo_root, "train", PreprocessSpec(), progress=False)
    train_idx, _ = split_indices(TrainConfig(data=str(demo_root), split_seed=0), labels.labels)
    probs = np.load(student / "teacher_probs.npy")
    held_out_by = []
    for teacher in teachers:
        teacher_config = TrainConfig.model_validate(json.loads((teacher.parent / "config.json").read_text()))
        held_out = ~np.isin(train_idx, split_indices(teacher_config, labels.labels)[0])
        expected = teacher_probabilities([str(teacher)], labels.images[train_idx][held_out], PreprocessSpec(), 7)
        np.testing.assert_allclose(probs[held_out], expected, atol=1e-5)
        np.testing.assert_array_equal(held_out_indices(teacher_config, labels.labels), train_idx[held_out])
        held_out_by.append(held_out)
    assert not (held_out_by[0] & held_out_by[1]).any() and (held_out_by[0] | held_out_by[1]).all()
    both = teacher_probabilities([str(t) for t in teachers], labels.images[train_idx], PreprocessSpec(), 7)
    assert not np.allclose(probs, both, atol=1e-3)

    # research/fer2013/flip_gain.py --held-out scores each fold teacher on its own held-out fold and pools the two.
    flip_gain = load_script("flip_gain", "research/fer2013")
    out = tmp_path / "flip-gain-held-out.json"
    assert flip_gain.main([*map(str, teachers), "--data", str(demo_root), "--held-out", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    at_zero = [report["models"][f"fold{fold}/best.keras"]["0.0"] for fold in (0, 1)]
    assert [r["faces"] for r in at_zero] == [int(h.sum()) for h in held_out_by]
    pooled = report["pooled"]["0.0"]
    assert pooled["faces"] == 189
    assert pooled["single_pass"] == pytest.approx(sum(r["faces"] * r["single_pass"] for r in at_zero) / 189)
    capsys.readouterr()
    code = flip_gain.main([str(one_epoch_run / "best.keras"), "--data", str(demo_root), "--held-out"])
    assert_one_line_error(code, capsys.readouterr().err, "expected models trained with --folds", "--folds 0")

    # A teacher that trained on every image has nothing out of sample to give.
    code, _, err = invoke("train", *quick, "--out", tmp_path / "in-sample", "--teacher", one_epoch_run / "best.keras",
                          "--cross-fit")
    assert_one_line_error(code, err, "new to at least one --cross-fit teacher", "189 of 189")
    code, _, err = invoke("train", *quick, "--out", tmp_path / "one-fold", "--folds", "1")
    assert_one_line_error(code, err, "--folds of 2 or more", "received --folds 1")
    assert not (tmp_path / "in-sample").exists() and not (tmp_path / "one-fold").exists()


def test_refit_without_validation_trains_on_every_image_and_ships_the_average(demo_root: Path, one_epoch_run: Path,
                                                                            tmp_path: Path) -> None:
    import keras

    run = tmp_path / "refit"
    # A teacher from the split-0 carve-out is fine: a refit has no validation images it could leak.
    code, stdout, err = invoke("train", "--data", demo_root, "--model", "mini_xception", "--epochs", "2", "--out", run,
                               "--batch-size", "32", "--val-fraction", "0", "--swa-start", "1", "--ema", "0.9",
                               "--smoothing-sigma", "0.5", "--patience", "1", "--teacher", one_epoch_run / "best.keras")
    assert code == 0, err
    assert "refit, no validation after 2 epochs" in stdout and "210 train / 0 validation images" in stdout
    assert "the weight average of 2 epochs" in stdout
    assert np.load(run / "teacher_probs.npy").shape == (210, 7)  # every training image, none held out
    history = json.loads((run / "history.json").read_text())
    assert len(history["loss"]) == 2 and "val_accuracy" not in history  # patience 1 stopped nothing
    state = json.loads((run / "state.json").read_text())
    assert state["swa"] == {"epochs": 2, "first_epoch": 1, "kept": True} and state["best_weights"] == "weight average"
    assert json.loads((run / "spec.json").read_text())["preprocess"]["smoothing_sigma"] == 0.5
    # best.keras is the average of both epochs, not the last epoch's weights.
    average, best = keras.models.load_model(run / "swa.keras"), keras.models.load_model(run / "best.keras")
    assert all(np.array_equal(a, b) for a, b in zip(average.get_weights(), best.get_weights(), strict=True))
    last = keras.models.load_model(run / "last.keras")
    assert any(not np.allclose(a, b) for a, b in zip(best.trainable_variables, last.trainable_variables, strict=True))
    # A --resume of the finished refit leaves best.keras alone ...
    before = (run / "best.keras").stat().st_mtime_ns
    code, _, err = invoke("train", "--out", run, "--resume")
    assert code == 0, err
    assert (run / "best.keras").stat().st_mtime_ns == before
    # ... and one trained further ships the average of all its epochs again.
    config = json.loads((run / "config.json").read_text())
    code, stdout, err = _resume_to(run, 3, config)
    assert code == 0, err
    assert "the weight average of 3 epochs" in stdout
    state = json.loads((run / "state.json").read_text())
    assert state["swa"]["epochs"] == 3 and state["refit_finished_epoch"] == 3
    average, best = keras.models.load_model(run / "swa.keras"), keras.models.load_model(run / "best.keras")
    assert all(np.array_equal(a, b) for a, b in zip(average.get_weights(), best.get_weights(), strict=True))


def test_train_fine_tunes_from_a_model(demo_root: Path, one_epoch_run: Path, tmp_path: Path) -> None:
    import keras

    # A learning rate of ~0 leaves the loaded weights in place: proof that training started from them.
    start = one_epoch_run
    tuned = tmp_path / "tuned"
    code, _, err = invoke("train", "--data", demo_root, "--epochs", "1", "--out", tuned, "--batch-size", "32",
                          "--init-from", start / "best.keras", "--lr", "1e-12", "--warmup-epochs", "0", "--model", "accurate")
    assert code == 0, err
    assert json.loads((tuned / "config.json").read_text())["warmup_epochs"] == 0
    before, after = keras.models.load_model(start / "best.keras"), keras.models.load_model(tuned / "last.keras")
    assert after.name == "mini_xception" and json.loads((tuned / "spec.json").read_text())["model"] == "mini_xception"
    conv = next(i for i, layer in enumerate(before.layers) if isinstance(layer, keras.layers.Conv2D))
    np.testing.assert_allclose(after.layers[conv].get_weights()[0], before.layers[conv].get_weights()[0], atol=1e-6)
    # The shipped FER-2013 model, by name; a demo dataset is not FER-2013, so no split check applies.
    code, _, err = invoke("train", "--data", demo_root, "--epochs", "1", "--out", tmp_path / "ref", "--batch-size", "32",
                          "--init-from", "reference", "--seed", "3")
    assert code == 0, err
    assert json.loads((tmp_path / "ref" / "config.json").read_text())["model"] == "accurate"
    # Refused before anything is written: another validation split, another input size, a missing file.
    for args, needle in (
        (("--seed", "1", "--init-from", start / "best.keras"), "validation split"),
        (("--input-size", "64", "--init-from", start / "best.keras"), "taking (64, 64, 1)"),
        (("--init-from", tmp_path / "nope.keras"), "nope.keras"),
    ):
        code, _, err = invoke("train", "--data", demo_root, "--epochs", "1", "--out", tmp_path / "bad", *args)
        assert_one_line_error(code, err, needle)
        assert not (tmp_path / "bad").exists()
