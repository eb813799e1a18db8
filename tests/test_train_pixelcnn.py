"""PixelCNN training: resume, learning beyond the per-pixel baseline, and train_pixelcnn.py end to end."""

import math
import os

import keras
import numpy as np
import pytest
from checkpoint_helpers import assert_restored, spy_checkpoints
from PIL import Image
from process_helpers import assert_one_line_errors

from sr_tf.cli import pixelcnn as pixelcnn_cli
from sr_tf.data.pixelcnn import load_digits, pixelcnn_dataset, quantize
from sr_tf.metrics import bits_per_dim, bits_per_image, histogram_baseline
from sr_tf.models import pixelcnn as P
from sr_tf.train import PixelCNNTrainer
from sr_tf.weights_io import save_model


def digits_datasets(levels=256, labelled=False, batch_size=64):
    splits = load_digits()
    train = pixelcnn_dataset(splits.train[0], splits.train[1] if labelled else None, levels=levels,
                             batch_size=batch_size, seed=0)
    valid = pixelcnn_dataset(splits.valid[0], splits.valid[1] if labelled else None, levels=levels,
                             batch_size=256, shuffle=False, repeat_count=1)
    test = pixelcnn_dataset(splits.test[0], splits.test[1] if labelled else None, levels=levels, batch_size=256,
                            shuffle=False, repeat_count=1)
    return splits, train, valid, test


def test_trainer_resumes_step_optimizer_and_best_score(tmp_path):
    _, train, valid, _ = digits_datasets(levels=4, labelled=True)
    keras.utils.set_random_seed(0)

    def build():
        return P.gated_pixelcnn((8, 8, 1), num_layers=1, hidden=4, levels=4, num_classes=10)

    trainer = PixelCNNTrainer(build(), tmp_path, log_every=1)
    trainer.train(train, valid, steps=4, evaluate_every=2)
    best = float(trainer.best_score.numpy())
    assert math.isfinite(best) and best <= trainer.evaluate(valid) + 1e-6  # the best is the lowest bits/dim seen
    weights = [w.numpy() for w in trainer.model.weights]
    again = PixelCNNTrainer(build(), tmp_path)
    again.restore()
    assert int(again.step.numpy()) == 4 and float(again.best_score.numpy()) == best
    assert int(again.optimizers["model"].iterations.numpy()) == 4
    for a, b in zip(weights, again.model.weights):
        np.testing.assert_array_equal(a, b.numpy())
    again.train(train, valid, steps=6, evaluate_every=2)
    assert int(again.step.numpy()) == 6
    assert os.listdir(tmp_path / "logs")


def test_short_training_on_digits_beats_the_per_pixel_histogram(tmp_path):
    splits, train, valid, test = digits_datasets()
    keras.utils.set_random_seed(0)
    model = P.pixelcnn((8, 8, 1), num_res_blocks=2, hidden=16)
    trainer = PixelCNNTrainer(model, tmp_path, log_every=10 ** 9)
    trainer.train(train, valid, steps=300, evaluate_every=75)
    trainer.restore_best()
    test_bits = bits_per_dim(model, test)
    baseline, _ = histogram_baseline(quantize(splits.train[0]), quantize(splits.test[0]), 256)
    assert test_bits < baseline - 0.1, (test_bits, baseline)
    # Per-image bits/dim as an out-of-distribution score: the test digits cost fewer bits than uniform noise
    # and than the same digits with their pixels shuffled (same histograms, no structure).
    digits = splits.test[0]
    rng = np.random.default_rng(0)
    shuffled = np.stack([rng.permutation(d.reshape(-1)).reshape(d.shape) for d in digits])
    noise = rng.integers(0, 256, digits.shape, dtype=np.uint8)

    def scores(images):
        return bits_per_image(model, pixelcnn_dataset(images, None, levels=256, batch_size=256, shuffle=False,
                                                      repeat_count=1))

    real = scores(digits)
    assert real.shape == (len(digits),) and abs(real.mean() - test_bits) < 1e-4
    assert real.mean() < scores(shuffled).mean() - 0.5 and real.mean() < scores(noise).mean() - 2
    assert np.mean(real < scores(shuffled)) > 0.95  # image by image, not only on average


def test_train_pixelcnn_cli_train_resume_evaluate_sample(tmp_path, capsys, monkeypatch):
    common = ["--dataset", "digits", "--levels", "4", "--num-res-blocks", "1", "--hidden", "8",
              "--evaluate-every", "5", "--batch-size", "16", "--checkpoint-dir", str(tmp_path / "ckpt"),
              "--weights-dir", str(tmp_path / "weights")]
    saved, restored = spy_checkpoints(monkeypatch)
    assert pixelcnn_cli.main(["train", "--steps", "5", *common]) == 0
    out = capsys.readouterr().out
    assert "Test bits/dim" in out and "per-pixel histogram baseline" in out
    assert pixelcnn_cli.main(["train", "--steps", "10", *common]) == 0
    assert "at step 5" in capsys.readouterr().out  # resumed
    assert_restored(saved, restored, 5)
    model_path = str(tmp_path / "weights" / "pixelcnn-digits-4-num-res-blocks-1-hidden-8.keras")
    assert os.path.exists(tmp_path / "weights" / "pixelcnn-digits-4-num-res-blocks-1-hidden-8.weights.h5")
    csv = tmp_path / "scores.csv"
    assert pixelcnn_cli.main(["evaluate", "--dataset", "digits", "--weights", model_path, "--per-image",
                              str(csv)]) == 0
    out = capsys.readouterr().out
    rows = csv.read_text().splitlines()
    test_labels = load_digits().test[1]
    assert rows[0] == "index,label,bits_per_dim" and len(rows) == 1 + len(test_labels)
    assert [int(r.split(",")[1]) for r in rows[1:]] == list(test_labels)
    mean = np.mean([float(r.split(",")[2]) for r in rows[1:]])
    assert f"Test bits/dim: {mean:.4f}" in out
    from sr_tf.models import load_model

    model, test = load_model(model_path), load_digits().test
    for i in (0, 5, len(test_labels) - 1):  # row i is image i scored alone (not its batch's mean)
        labels = test[1][i:i + 1] if len(model.inputs) > 1 else None
        alone = bits_per_image(model, pixelcnn_dataset(test[0][i:i + 1], labels, levels=4, shuffle=False,
                                                       repeat_count=1))
        assert float(rows[1 + i].split(",")[2]) == pytest.approx(alone[0], abs=1e-4)
    completions = str(tmp_path / "completions.png")
    assert pixelcnn_cli.main(["complete", "--weights", model_path, "--dataset", "digits", "--observed-rows", "4",
                              "-n", "3", "-o", completions]) == 0
    grid = np.asarray(Image.open(completions))
    assert grid.shape == (3 * 64 + 16, 3 * 64 + 16)  # rows original | occluded | completion, zoom 8, 8 px apart
    tiles = [[grid[i * 72:i * 72 + 64:8, j * 72:j * 72 + 64:8] for j in range(3)] for i in range(3)]
    originals = np.round(quantize(load_digits().test[0][:3], 4)[..., 0].astype(float) * 85).astype(np.uint8)
    for (original, occluded, completion), expected in zip(tiles, originals):
        np.testing.assert_array_equal(original, expected)
        np.testing.assert_array_equal(completion[:4], expected[:4])  # observed rows kept
        assert np.all(occluded[4:] == 128) and np.array_equal(occluded[:4], expected[:4])
    assert pixelcnn_cli.main(["complete", "--weights", model_path, "--dataset", "digits", "--observed-rows", "9",
                              "-o", completions]) == 2
    assert "at most the image height 8" in capsys.readouterr().err
    grid = str(tmp_path / "grid.png")
    assert pixelcnn_cli.main(["sample", "--weights", model_path, "--n", "4", "--seed", "3", "-o", grid]) == 0
    image = np.asarray(Image.open(grid))
    assert image.shape == (2 * 64 + 8, 2 * 64 + 8)  # 2x2 grid of 8x8 digits zoomed x8, 8 px apart
    assert set(np.unique(image)) <= {0, 85, 170, 255}
    assert pixelcnn_cli.main(["sample", "--weights", str(tmp_path / "none.keras")]) == 2
    assert "not found" in capsys.readouterr().err


def test_sample_with_a_label_from_the_command_line(tmp_path, capsys):
    """`sample --label` draws from a conditional model exactly as `sampling.sample(..., labels=label)` does, and
    is refused for an unconditional model (and left out for a conditional one) with a one-line error."""
    from sr_tf import sampling
    from sr_tf.cli.common import load_keras_file

    common = ["--dataset", "digits", "--levels", "4", "--num-res-blocks", "1", "--hidden", "8", "--evaluate-every",
              "2", "--batch-size", "16", "--steps", "2", "--weights-dir", str(tmp_path / "weights")]
    assert pixelcnn_cli.main(["train", "--model", "gated", "--conditional", "--checkpoint-dir",
                              str(tmp_path / "c1"), *common]) == 0
    conditional = str(tmp_path / "weights" / "gated-conditional-digits-4-num-layers-1-hidden-8.keras")
    unconditional = str(tmp_path / "unconditional.keras")  # (untrained: only its lack of a label input matters)
    save_model(P.pixelcnn((8, 8, 1), num_res_blocks=1, hidden=4, levels=4), unconditional)
    capsys.readouterr()
    grid = str(tmp_path / "three.png")
    assert pixelcnn_cli.main(["sample", "--weights", conditional, "--label", "3", "--n", "4", "--seed", "5",
                              "-o", grid]) == 0
    expected = sampling.sample(load_keras_file(conditional, "Model", ""), 4, seed=5, labels=3)
    zoom = 64 // 8
    image = np.asarray(Image.open(grid))
    first = image[:8 * zoom:zoom, :8 * zoom:zoom]  # the grid's first sample, un-zoomed
    np.testing.assert_array_equal(first, np.round(expected[0, ..., 0].astype(float) * 255 / 3).astype(np.uint8))
    sample = ["sample", "-o", str(tmp_path / "x.png")]
    assert_one_line_errors(pixelcnn_cli.main, [([*sample, "--weights", unconditional, "--label", "3"],
                                                 "not class-conditional"),
                                                ([*sample, "--weights", conditional], "is class-conditional"),
                                                ([*sample, "--weights", conditional, "--label", "10"],
                                                 "must lie in 0..9")], capsys)


def test_logistic_mixture_head_from_the_command_line(tmp_path, capsys):
    """`train --head logistic_mixture` learns (well under the 8 bits/dim of a uniform guess within 40 steps),
    names its files by the head, and its saved model evaluates and samples like a softmax one."""
    from sr_tf import sampling
    from sr_tf.cli.common import load_keras_file

    common = ["--dataset", "digits", "--num-res-blocks", "1", "--hidden", "16", "--evaluate-every", "20",
              "--batch-size", "32", "--weights-dir", str(tmp_path / "weights")]
    assert pixelcnn_cli.main(["train", "--head", "logistic_mixture", "--num-mixtures", "3", "--steps", "40",
                              "--checkpoint-dir", str(tmp_path / "ckpt"), *common]) == 0
    path = str(tmp_path / "weights" / "pixelcnn-digits-256-mix3-num-res-blocks-1-hidden-16.keras")
    model = load_keras_file(path, "Model", "")
    assert sampling.image_geometry(model) == (8, 8, 1, 256) and model.output.shape[-1] == 9
    capsys.readouterr()
    assert pixelcnn_cli.main(["evaluate", "--dataset", "digits", "--weights", path]) == 0
    bits = float(capsys.readouterr().out.split("Test bits/dim: ")[1].split()[0])
    _, _, _, test = digits_datasets()
    assert bits == round(bits_per_dim(model, test), 4) and bits < 6.0, bits
    grid = str(tmp_path / "grid.png")
    assert pixelcnn_cli.main(["sample", "--weights", path, "--n", "4", "--seed", "2", "-o", grid]) == 0
    first = np.asarray(Image.open(grid))[:64:8, :64:8]
    np.testing.assert_array_equal(first, sampling.sample(model, 4, seed=2)[0, ..., 0])
    assert_one_line_errors(pixelcnn_cli.main, [(["train", "--num-mixtures", "3", *common],
                                                "--num-mixtures needs --head logistic_mixture")], capsys)


def test_bits_per_image_matches_numpy_on_uneven_batches():
    """Each image's bits/dim against a NumPy computation from the model's logits: -sum log softmax at the
    image's levels / (H W C) / ln 2, over 7 images in batches of 3 (the last one short)."""
    from sr_tf.models import pixelcnn as P

    model = P.pixelcnn((4, 3, 2), num_res_blocks=1, hidden=4, levels=4)
    images = np.random.default_rng(1).integers(0, 256, (7, 4, 3, 2), dtype=np.uint8)
    got = bits_per_image(model, pixelcnn_dataset(images, None, levels=4, batch_size=3, shuffle=False,
                                                 repeat_count=1))
    levels = quantize(images, 4).astype(np.int64)
    logits = np.asarray(model(levels.astype(np.float32), training=False), np.float64)
    log_p = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    picked = np.take_along_axis(log_p, levels[..., None], axis=-1)[..., 0]
    expected = -picked.reshape(7, -1).mean(axis=1) / np.log(2)
    assert got.shape == (7,)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert np.ptp(expected) > 0  # the images score differently: a per-image value, not a batch mean
