"""FastGAN training: EMA arithmetic, grids, checkpoints, resume, FID scoring and train_fastgan.py end to end."""

import math
import os
import re
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_image, write_png
from model_helpers import FASTGAN_TINY_G, tiny_fastgan, write_gan_folder
from PIL import Image
from process_helpers import run_cli

from sr_tf import metrics
from sr_tf.cli import fastgan as fastgan_cli
from sr_tf.data.gan import gan_dataset
from sr_tf.models import fastgan
from sr_tf.models.common import imagenet_application
from sr_tf.train import FastGANTrainer
from sr_tf.weights_io import save_weights


def test_ema_update_arithmetic(tmp_path):
    g, d = tiny_fastgan(64)
    trainer = FastGANTrainer(g, d, str(tmp_path / "ckpt"), ema_decay=0.9)
    ema = trainer.models["generator_ema"]
    old = [v.numpy().copy() for v in ema.trainable_variables]
    for v in g.trainable_variables:
        v.assign(v + 1.0)
    for v in g.non_trainable_variables:
        v.assign(v * 2.0 + 3.0)
    trainer.update_ema()
    for avg, before, w in zip(ema.trainable_variables, old, g.trainable_variables):
        np.testing.assert_allclose(avg.numpy(), 0.9 * before + 0.1 * w.numpy(), rtol=1e-6, atol=1e-7)
    for avg, w in zip(ema.non_trainable_variables, g.non_trainable_variables):
        np.testing.assert_array_equal(avg.numpy(), w.numpy())


def _trainer(tmp_path, **kwargs):
    keras.utils.set_random_seed(0)
    g, d = tiny_fastgan(64)
    return FastGANTrainer(g, d, str(tmp_path / "ckpt"), sample_every=2, **kwargs)


def test_training_writes_grids_and_checkpoints_and_resumes_at_the_right_iteration(tmp_path, rng):
    root = write_gan_folder(tmp_path / "images", rng, n=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds, _ = gan_dataset(str(root), 64, batch_size=2)
    trainer = _trainer(tmp_path)
    before = [w.numpy().copy() for w in trainer.models["generator"].trainable_variables]
    logs = trainer.train(ds, steps=2, evaluate_every=2)
    assert set(logs) == {"d_real", "d_recon", "d_fake", "g_loss"} and all(math.isfinite(v) for v in logs.values())
    assert any(not np.array_equal(b, w.numpy()) for b, w in
               zip(before, trainer.models["generator"].trainable_variables))
    samples = tmp_path / "ckpt" / "samples"
    grid = np.asarray(Image.open(samples / "000002.png"))
    assert grid.shape == (2 * 64 + 1, 4 * 64 + 3, 3)  # 8 samples, 4 per row, 1 px padding
    rec = np.asarray(Image.open(samples / "000002-rec.png"))
    assert rec.shape == (2 * 65 - 1, 5 * 65 - 1, 3)  # per real image: target, 3 reconstructions, quadrant
    saved = {name: [w.numpy().copy() for w in m.weights] for name, m in trainer.models.items()}
    moments = {name: [v.numpy().copy() for v in o.variables] for name, o in trainer.optimizers.items()}

    # A restart restores the step, both optimizers (iterations and Adam's moments) and the three models, the EMA
    # generator included; training on from a restored step is the base trainer's (test_train.py).
    resumed = _trainer(tmp_path)
    resumed.restore()
    assert int(resumed.step.numpy()) == 2
    assert set(resumed.models) == {"generator", "discriminator", "generator_ema"}
    for name, model in resumed.models.items():
        for a, b in zip(saved[name], model.weights):
            np.testing.assert_array_equal(a, b.numpy())
    for name, optimizer in resumed.optimizers.items():
        assert int(optimizer.iterations.numpy()) == 2, name
        assert len(optimizer.variables) == len(moments[name]) > 1, name
        for a, b in zip(moments[name], optimizer.variables):
            np.testing.assert_array_equal(a, b.numpy())


def reference_fid(f1, f2):
    """FID with Tr((S1 S2)^(1/2)) from the eigenvalues of the non-symmetric product S1 S2 (the package takes the
    symmetric S1^(1/2) S2 S1^(1/2)): an independent route to the same number."""
    f1, f2 = np.asarray(f1, np.float64), np.asarray(f2, np.float64)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    root_trace = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    return float(((f1.mean(0) - f2.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * root_trace)


def reference_kid(f1, f2):
    """The unbiased squared MMD with the kernel (x.y / d + 1)^3 over the whole sets (with as many rows in each
    set as the subset size, every subset is the whole set)."""
    d = f1.shape[1]
    k = lambda a, b: (np.asarray(a, np.float64) @ np.asarray(b, np.float64).T / d + 1) ** 3  # noqa: E731
    m = len(f1)
    off = lambda g: (g.sum() - np.trace(g)) / (m * (m - 1))  # noqa: E731
    return off(k(f1, f1)) + off(k(f2, f2)) - 2 * k(f1, f2).mean()


def test_trainer_score_is_fid_of_ema_samples_against_the_dataset(tmp_path, rng):
    # a small random feature network in Inception's place: features that follow the images (a random-weight
    # Inception's are nearly constant, so any set of images would give the same score)
    keras.utils.set_random_seed(1)
    random_inception = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 5, strides=4,
                                                                                         activation="tanh"),
                                         keras.layers.GlobalAveragePooling2D()])
    trainer = _trainer(tmp_path, inception=random_inception)
    ema = trainer.models["generator_ema"]  # made unlike the training generator, as after some steps
    ema.set_weights([rng.normal(0, 0.3, w.shape).astype(w.dtype) if w.ndim > 1 else w for w in ema.get_weights()])
    real = tf.data.Dataset.from_tensor_slices(rng.uniform(-1, 1, (6, 64, 64, 3)).astype(np.float32)).batch(4)
    score = trainer.evaluate(real)
    assert math.isfinite(score) and score > 0
    # The score is the FID of 6 EMA-generator images (seed 1) against the 6 real ones, computed here another way.
    from sr_tf.inference import generate_images, signed_to_uint8

    real_images = np.concatenate([signed_to_uint8(batch) for batch in real])
    fake_images = generate_images(trainer.models["generator_ema"], 6, seed=1)
    expected = reference_fid(metrics.inception_features(real_images, random_inception),
                             metrics.inception_features(fake_images, random_inception))
    assert float(score) == pytest.approx(expected, rel=1e-6)
    trainer.best_score.assign(score)
    assert trainer.is_improvement(score - 1.0) and not trainer.is_improvement(score + 1.0)  # lower is better


# The run's name: the data, the size the template shows, then the settings that differ from fastgan-256.
RUN = "fastgan-faces-64-ngf-4-ndf-4-nz-8-decoder-width-4"


def test_train_fastgan_cli_trains_resumes_generates_and_evaluates(tmp_path, rng, capsys):
    root = write_gan_folder(tmp_path / "faces", rng, n=3)
    ckpt, weights = str(tmp_path / "ckpt"), str(tmp_path / "weights")
    common = ["train_fastgan.py", "train", "--path", str(root), "--im-size", "64", "--batch-size", "2",
              "--ngf", "4", "--ndf", "4", "--nz", "8", "--decoder-width", "4", "--sample-every", "1",
              "--checkpoint-every", "1", "--checkpoint-dir", ckpt, "--weights-dir", weights]
    # One run of two iterations (resuming is tested on the trainer here, and through the command lines with
    # a killed worker in test_distribute.py).
    result = run_cli(common + ["--iterations", "2"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reconstruction loss l1" in result.stdout and "--recon-loss perceptual" in result.stdout
    generator_file = os.path.join(weights, f"{RUN}-generator.keras")
    for suffix in ("-generator.keras", "-generator.weights.h5", "-discriminator.weights.h5", "-samples.png"):
        assert os.path.exists(os.path.join(weights, RUN + suffix))
    assert sorted(os.listdir(os.path.join(ckpt, "samples"))) == ["000001-rec.png", "000001.png",
                                                                   "000002-rec.png", "000002.png"]

    # The other commands run in this process (no interpreter and TensorFlow start-up each).
    out = tmp_path / "generated"
    assert fastgan_cli.main(["generate", "--weights", generator_file, "--n", "3", "-o", str(out)]) == 0
    files = sorted(os.listdir(out))
    assert len(files) == 3 and np.asarray(Image.open(out / files[0])).shape == (64, 64, 3)
    capsys.readouterr()
    assert fastgan_cli.main(["evaluate", "--weights", generator_file, "--path", str(root),
                             "--inception-weights", str(tmp_path / "missing.h5")]) == 2
    assert "missing.h5" in capsys.readouterr().err
    assert fastgan_cli.main(["train", "--path", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        fastgan_cli.main(common[1:] + ["--iterations", "3", "--batch-size", "0"])
    assert exit_info.value.code == 2
    assert "argument --batch-size: must be at least 1. Received: 0" in capsys.readouterr().err


def test_cli_evaluate_prints_fid_and_kid_with_a_local_inception_file(tmp_path, rng):
    inception = str(tmp_path / "inception_notop.h5")
    keras.utils.set_random_seed(0)
    save_weights(imagenet_application(keras.applications.InceptionV3, None, metrics.INCEPTION_NOTOP_FILE, "",
                                      include_top=False, pooling="avg", input_shape=(299, 299, 3)), inception)
    g = fastgan.generator(64, **FASTGAN_TINY_G)
    g.save(str(tmp_path / "g.keras"))
    root = tmp_path / "real"
    for i in range(3):
        write_png(str(root / f"{i}.png"), random_image(rng, 64, 64))
    result = run_cli(["train_fastgan.py", "evaluate", "--weights", str(tmp_path / "g.keras"), "--path", str(root),
                      "--inception-weights", inception])
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"FID ([-+.\de]+)\s+KID ([-+.\de]+)", result.stdout)
    assert match and float(match.group(1)) > 0
    # The printed values against the same images scored here by the independent formulas above.
    from sr_tf.data.gan import decode_resized
    from sr_tf.inference import generate_images

    model = metrics.inception_model(inception)
    real = metrics.inception_features(decode_resized(sorted(str(p) for p in root.iterdir()), 64), model)
    keras.utils.set_random_seed(0)
    fake = metrics.inception_features(generate_images(keras.saving.load_model(str(tmp_path / "g.keras")), 3,
                                                      seed=0), model)
    assert float(match.group(1)) == pytest.approx(reference_fid(real, fake), rel=1e-4)
    assert float(match.group(2)) == pytest.approx(reference_kid(real, fake), rel=1e-4, abs=1e-9)
