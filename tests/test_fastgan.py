"""FastGAN: parameter counts, shapes and ranges, spectral norm, DiffAugment, EMA, training and resume, FID/KID,
the folder data source and train_fastgan.py."""

import math
import os
import re
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import keras_round_trip, offline, random_image, run_cli, write_png
from sr_tf import losses, metrics
from sr_tf.data import transforms
from sr_tf.data.images import gan_dataset, read_image, readable_images, resize_square
from sr_tf.layers import SpectralNormConv2D, SpectralNormConv2DTranspose, crop_quadrant
from sr_tf.models import fastgan
from sr_tf.models.common import imagenet_application
from sr_tf.train.fastgan import FastGANTrainer
from sr_tf.weights_io import save_weights

TINY = dict(ngf=4, nz=8)
TINY_D = dict(ndf=4, decoder_width=4)


def tiny_models(im_size=64):
    return fastgan.generator(im_size, **TINY), fastgan.discriminator(im_size, **TINY_D)


# ----------------------------------------------------------------------------------------------- models
@pytest.mark.parametrize("im_size, g_params, d_params", [
    (256, 29_127_846, 11_526_160), (512, 29_174_392, 11_526_496), (1024, 29_176_512, 11_528_192)])
def test_parameter_counts_equal_the_official_code(im_size, g_params, d_params):
    g, d = fastgan.generator(im_size), fastgan.discriminator(im_size)
    assert fastgan.count_trainable(g) == g_params
    assert fastgan.count_trainable(d) == d_params
    decoders = sum(fastgan.count_trainable(layer) for layer in d.layers if layer.name.startswith("decoder_"))
    assert decoders == 3_139_488
    # The power-iteration vectors exist (one per spectrally normalized layer) but are not trainable.
    u = [w for w in d.non_trainable_weights if w.path.endswith("/u")]
    assert len(u) == sum(isinstance(layer, SpectralNormConv2D) for layer in d.layers) > 0


@pytest.mark.parametrize("im_size", [64, 128])
def test_small_sizes_build_with_the_expected_shapes_and_ranges(im_size):
    g, d = tiny_models(im_size)
    small, rec = fastgan.small_size(im_size), fastgan.reconstruction_size(im_size)
    # Large noise weights drive the pre-activations far outside [-1, 1]: tanh must still bound every output.
    for layer in g.layers:
        if layer.name.endswith(("noise1", "noise2")):
            layer.weight.assign([50.0])
    big_img, small_img = g(tf.random.normal((3, TINY["nz"])), training=False)
    assert big_img.shape == (3, im_size, im_size, 3) and small_img.shape == (3, small, small, 3)
    for image in (big_img, small_img):
        assert float(tf.reduce_max(tf.abs(image))) <= 1.0
        assert float(tf.reduce_max(tf.abs(image))) > 0.5
    logits, *recs = d([big_img, small_img, tf.constant([0, 1, 3])], training=False)
    assert logits.shape == (3, 50)  # two 5x5 maps
    for r in recs:
        assert r.shape == (3, rec, rec, 3) and float(tf.reduce_max(tf.abs(r))) <= 1.0
    logits_only = keras.Model(d.inputs[:2], d.outputs[0])
    np.testing.assert_array_equal(logits_only([big_img, small_img], training=False), logits)


def test_models_round_trip_as_keras_files_in_safe_mode(tmp_path):
    g, d = tiny_models(64)
    z = tf.random.normal((2, TINY["nz"]))
    loaded_g = keras_round_trip(g, tmp_path)
    for a, b in zip(g(z, training=False), loaded_g(z, training=False)):  # noise weights are 0: deterministic
        np.testing.assert_array_equal(a, b)
    inputs = [tf.random.uniform((2, 64, 64, 3), -1, 1), tf.random.uniform((2, 32, 32, 3), -1, 1), tf.constant([2, 3])]
    for a, b in zip(d(inputs, training=False), keras_round_trip(d, tmp_path)(inputs, training=False)):
        np.testing.assert_array_equal(a, b)


def test_invalid_sizes_and_widths_are_rejected():
    with pytest.raises(ValueError, match="im_size=96"):
        fastgan.generator(96)
    with pytest.raises(ValueError, match="ngf`=4 gives 0 channels at 1024x1024"):
        fastgan.generator(1024, ngf=4)
    with pytest.raises(ValueError, match="decoder_width=0"):
        fastgan.discriminator(64, ndf=4, decoder_width=0)


def test_decoder_part_reconstructs_the_chosen_quadrant_of_each_image():
    images = tf.reshape(tf.range(2 * 4 * 4, dtype=tf.float32), (2, 4, 4, 1))
    crops = crop_quadrant(images, tf.constant([1, 2]))
    np.testing.assert_array_equal(crops[0], images[0, :2, 2:])
    np.testing.assert_array_equal(crops[1], images[1, 2:, :2])


# ----------------------------------------------------------------------------------------------- spectral norm
def _largest_singular_value(matrix):
    return float(np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)[0])


@pytest.mark.parametrize("layer_class, output_axis", [(SpectralNormConv2D, 3), (SpectralNormConv2DTranspose, 2)])
def test_spectral_norm_keeps_the_raw_kernel_and_normalizes_in_the_forward_pass(layer_class, output_axis):
    layer = layer_class(6, 3, padding="same", use_bias=False)
    x = tf.random.normal((2, 5, 5, 4))
    layer(x)
    assert [w.name for w in layer.trainable_weights] == ["kernel"]
    assert [w.name for w in layer.non_trainable_weights] == ["u"]
    # A clear gap between the two largest singular values, so a few power iterations converge.
    rank_one = np.einsum("i,j->ij", np.linspace(1, 2, 36), np.linspace(-1, 1, 6)).reshape(3, 3, 4, 6)
    layer.kernel.assign(layer.kernel + np.moveaxis(rank_one, -1, output_axis).astype("float32"))
    kernel = layer.kernel.numpy().copy()
    u = layer.u.numpy().copy()
    layer(x, training=False)
    np.testing.assert_array_equal(layer.u.numpy(), u)  # inference: u as stored
    for _ in range(5):
        layer(x, training=True)
    np.testing.assert_array_equal(layer.kernel.numpy(), kernel)  # never overwritten
    assert not np.allclose(layer.u.numpy(), u)  # power iterations moved u
    matrix = np.moveaxis(kernel, output_axis, -1).reshape(-1, 6)
    normalized = np.moveaxis(layer.normalized_kernel().numpy(), output_axis, -1).reshape(-1, 6)
    assert _largest_singular_value(normalized) == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(normalized * _largest_singular_value(matrix), matrix, rtol=1e-3, atol=1e-6)


def test_spectral_norm_matches_one_pytorch_power_iteration_and_passes_gradients_through_sigma():
    layer = SpectralNormConv2D(3, 1, use_bias=False)
    x = tf.random.normal((1, 2, 2, 5))
    layer(x)
    w = layer.kernel.numpy().reshape(5, 3).T.astype(np.float64)  # PyTorch layout (out, in)
    u = layer.u.numpy().astype(np.float64)
    u /= np.linalg.norm(u)
    v = w.T @ u
    v /= np.linalg.norm(v)
    u = w @ v
    u /= np.linalg.norm(u)
    sigma = u @ w @ v
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        total = tf.reduce_sum(y)
    expected = np.einsum("bhwi,oi->bhwo", x.numpy(), w / sigma)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.u.numpy(), u, rtol=1e-5, atol=1e-6)
    # d(sum of W/sigma applied to x)/dW includes sigma's dependence on W: it differs from x-sums / sigma.
    gradient = tape.gradient(total, layer.kernel).numpy().reshape(5, 3)
    no_sigma_gradient = np.tile(x.numpy().sum(axis=(0, 1, 2))[:, None], (1, 3)) / sigma
    assert not np.allclose(gradient, no_sigma_gradient, atol=1e-4)


# ----------------------------------------------------------------------------------------------- DiffAugment
def test_translate_moves_content_by_the_offset_and_fills_with_zeros():
    x = tf.random.uniform((2, 8, 8, 3), 0.1, 1.0)
    out = transforms.translate(x, tf.constant([2, -3]), tf.constant([-1, 0])).numpy()
    np.testing.assert_array_equal(out[0, 2:, :7], x[0, :6, 1:])
    assert (out[0, :2] == 0).all() and (out[0, :, 7] == 0).all()
    np.testing.assert_array_equal(out[1, :5], x[1, 3:])
    assert (out[1, 5:] == 0).all()


def _find_offset(original, shifted, limit):
    matches = [(dy, dx) for dy in range(-limit, limit + 1) for dx in range(-limit, limit + 1)
               if np.array_equal(transforms.translate(original[None], [dy], [dx])[0], shifted)]
    assert len(matches) == 1
    return matches[0]


def test_rand_translation_draws_offsets_within_an_eighth_of_the_side():
    x = tf.random.uniform((24, 16, 16, 1), 0.1, 1.0)
    out = transforms.rand_translation(x).numpy()
    limit = transforms.max_shift(16)
    assert limit == 2
    offsets = [_find_offset(x[i], out[i], limit + 1) for i in range(24)]
    assert all(abs(dy) <= limit and abs(dx) <= limit for dy, dx in offsets)
    assert len(set(offsets)) > 3  # drawn per image


def test_brightness_shifts_each_image_by_one_value_within_half():
    x = tf.random.uniform((16, 6, 6, 3), -1, 1)
    delta = (transforms.rand_brightness(x) - x).numpy()
    per_image = delta.reshape(16, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1] * np.ones_like(per_image), atol=1e-6)
    assert (np.abs(per_image[:, 0]) <= 0.5).all() and np.std(per_image[:, 0]) > 0.05


def test_saturation_and_contrast_keep_their_means_and_cutout_zeros_a_clipped_square():
    x = tf.random.uniform((4, 8, 8, 3), -1, 1)
    np.testing.assert_allclose(tf.reduce_mean(transforms.rand_saturation(x), -1), tf.reduce_mean(x, -1), atol=1e-5)
    np.testing.assert_allclose(tf.reduce_mean(transforms.rand_contrast(x), [1, 2, 3]), tf.reduce_mean(x, [1, 2, 3]),
                               atol=1e-5)
    out = transforms.cutout(x[:2] + 2.0, tf.constant([4, 0]), tf.constant([4, 7]), 4).numpy()
    zero = (out == 0).all(axis=-1)
    assert zero[0, 2:6, 2:6].all() and zero[0].sum() == 16
    assert zero[1, 0:2, 5:8].all() and zero[1].sum() == 6  # rows -2..1, columns 5..8 clipped to 2 x 3
    zeros = (transforms.rand_cutout(x + 2.0).numpy() == 0).all(axis=-1).sum(axis=(1, 2))
    assert ((zeros > 0) & (zeros <= 16)).all()


def test_diff_augment_runs_in_a_compiled_step_and_passes_gradients():
    x = tf.random.uniform((3, 16, 16, 3), -1, 1)
    step = tf.function(lambda t: transforms.diff_augment(t, "color,translation,cutout"), jit_compile=True)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = step(x)
        total = tf.reduce_sum(y)
    assert y.shape == x.shape
    assert float(tf.reduce_sum(tf.abs(tape.gradient(total, x)))) > 0
    with pytest.raises(ValueError, match="Unknown DiffAugment policy 'colour'"):
        transforms.diff_augment(x, "colour")


# ----------------------------------------------------------------------------------------------- losses
def test_hinge_losses_use_a_random_margin_between_08_and_1():
    logits = tf.fill((64, 50), 0.5)
    real = losses.hinge_real(logits).numpy()  # relu(m - 0.5), m ~ U(0.8, 1): mean 0.4
    assert real.shape == (64,) and 0.3 < real.mean() < 0.5 and (real >= 0.3).all() and (real <= 0.5).all()
    assert np.allclose(losses.hinge_fake(tf.fill((4, 50), -2.0)), 0)  # far on the right side: no loss
    np.testing.assert_allclose(losses.generator_hinge(tf.constant([[1.0, 3.0]])), [-2.0])


def test_recon_loss_choice_is_explicit(monkeypatch):
    with pytest.raises(ValueError, match="only used by --recon-loss perceptual"):
        losses.reconstruction_distance("l1", perceptual_weights="vgg16.h5")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(RuntimeError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 .*--perceptual-weights"):
        losses.reconstruction_distance("perceptual")


def test_perceptual_distance_from_a_local_vgg16_file(tmp_path):
    path = str(tmp_path / "vgg16_notop.h5")
    save_weights(keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3)), path)
    distance = losses.reconstruction_distance("perceptual", perceptual_weights=path)
    x, y = tf.random.uniform((2, 32, 32, 3), -1, 1), tf.random.uniform((2, 32, 32, 3), -1, 1)
    np.testing.assert_allclose(distance(x, x), 0, atol=1e-6)
    np.testing.assert_allclose(distance(x, y), distance(y, x), rtol=1e-5)
    assert (distance(x, y).numpy() > 0).all()


# ----------------------------------------------------------------------------------------------- data
def _write_folder(root, rng, n=5):
    for i in range(n):
        write_png(str(root / ("sub" if i % 2 else "") / f"img{i}.png"), random_image(rng, 40 + i, 48))
    Image.fromarray(random_image(rng, 30, 30)).save(root / "photo.jpg")
    Image.fromarray(random_image(rng, 30, 30)).save(root / "photo.webp")
    (root / "broken.png").write_bytes(b"not a png")
    (root / "notes.txt").write_text("ignored")
    return root


def test_gan_dataset_reads_folders_recursively_and_scales_to_minus_one_one(tmp_path, rng):
    root = _write_folder(tmp_path / "images", rng)
    with pytest.warns(UserWarning, match="broken.png"):
        ds, files = gan_dataset(str(root), 16, batch_size=3, shuffle=False, flip=False, repeat=False)
    assert len(files) == 7 and any(f.endswith(".webp") for f in files) and any("sub" in f for f in files)
    images = np.concatenate(list(ds.as_numpy_iterator()))
    expected = np.stack([resize_square(read_image(f)[0], 16) for f in files]).astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(images, expected, atol=1e-6)
    with pytest.warns(UserWarning, match="broken.png"):
        repeated, _ = gan_dataset(str(root), 16, batch_size=10)
    batch = next(iter(repeated))  # repeats: full batches even of 7 images
    assert batch.shape == (10, 16, 16, 3)


def test_empty_or_unreadable_folders_are_clear_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"No images .* found in {re.escape(str(empty))}"):
        readable_images(str(empty))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"junk")
    (bad / "b.jpg").write_bytes(b"")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=f"None of the 2 image files .* in {re.escape(str(bad))}"):
            readable_images(str(bad))


# ----------------------------------------------------------------------------------------------- trainer
def test_ema_update_arithmetic(tmp_path):
    g, d = tiny_models(64)
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
    g, d = tiny_models(64)
    return FastGANTrainer(g, d, str(tmp_path / "ckpt"), sample_every=2, **kwargs)


def test_training_writes_grids_and_checkpoints_and_resumes_at_the_right_iteration(tmp_path, rng):
    root = _write_folder(tmp_path / "images", rng, n=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds, _ = gan_dataset(str(root), 64, batch_size=2)
    trainer = _trainer(tmp_path)
    before = [w.numpy().copy() for w in trainer.models["generator"].trainable_variables]
    logs = trainer.train(ds, steps=2, evaluate_every=2)
    assert set(logs) == {"d_real", "d_recon", "d_fake", "g_loss"} and all(math.isfinite(v) for v in logs.values())
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, trainer.models["generator"].trainable_variables))
    samples = tmp_path / "ckpt" / "samples"
    grid = np.asarray(Image.open(samples / "000002.png"))
    assert grid.shape == (2 * 64 + 1, 4 * 64 + 3, 3)  # 8 samples, 4 per row, 1 px padding
    rec = np.asarray(Image.open(samples / "000002-rec.png"))
    assert rec.shape == (2 * 65 - 1, 5 * 65 - 1, 3)  # per real image: target, 3 reconstructions, quadrant
    saved = {name: [w.numpy().copy() for w in m.weights] for name, m in trainer.models.items()}
    d_iterations = int(trainer.optimizers["discriminator"].iterations.numpy())

    resumed = _trainer(tmp_path)
    assert int(resumed.step.numpy()) == 2
    assert int(resumed.optimizers["discriminator"].iterations.numpy()) == d_iterations == 2
    for name, model in resumed.models.items():
        for a, b in zip(saved[name], model.weights):
            np.testing.assert_array_equal(a, b.numpy())
    resumed.train(ds, steps=3, evaluate_every=2)
    assert int(resumed.step.numpy()) == 3 and int(resumed.optimizers["generator"].iterations.numpy()) == 3
    assert (tmp_path / "ckpt" / "ckpt-3.index").exists()


# ----------------------------------------------------------------------------------------------- FID / KID
@pytest.fixture(scope="module")
def random_inception():
    keras.utils.set_random_seed(0)
    return metrics.inception_model(weights=None, input_size=75)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift(random_inception, rng):
    images = rng.integers(0, 200, (24, 32, 32, 3)).astype(np.uint8)
    assert abs(metrics.fid(images, images, model=random_inception)) < 1e-6
    features = metrics.inception_features(images, random_inception)
    distances = [metrics.fid(features, metrics.inception_features(images + shift, random_inception))
                 for shift in (0, 10, 25, 50)]
    assert distances[0] == pytest.approx(0.0, abs=1e-6)
    assert all(a < b for a, b in zip(distances, distances[1:])), distances
    kids = [metrics.kid(features, metrics.inception_features(images + s, random_inception), subsets=10)[0]
            for s in (0, 50)]
    assert abs(kids[0]) < kids[1]


def test_frechet_distance_of_a_translated_set_is_the_squared_translation(rng):
    features = rng.normal(size=(50, 6))
    shift = rng.normal(size=6)
    assert metrics.frechet_distance(features, features + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-6)
    with pytest.raises(ValueError, match="at least 2 images"):
        metrics.frechet_distance(features[:1], features)


def test_inception_download_failure_names_the_local_file_option(monkeypatch):
    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(RuntimeError, match="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 .*--inception"):
        metrics.inception_model()


def test_trainer_score_is_fid_of_ema_samples_against_the_dataset(tmp_path, random_inception, rng):
    trainer = _trainer(tmp_path, inception=random_inception)
    real = tf.data.Dataset.from_tensor_slices(rng.uniform(-1, 1, (6, 64, 64, 3)).astype(np.float32)).batch(4)
    score = trainer.evaluate(real)
    assert math.isfinite(score) and score > 0
    assert trainer.is_improvement(score)  # lower is better, from +inf


# ----------------------------------------------------------------------------------------------- CLI
def test_train_fastgan_cli_trains_resumes_generates_and_evaluates(tmp_path, rng):
    root = _write_folder(tmp_path / "faces", rng, n=3)
    ckpt, weights = str(tmp_path / "ckpt"), str(tmp_path / "weights")
    common = ["train_fastgan.py", "train", "--path", str(root), "--im-size", "64", "--batch-size", "2",
              "--ngf", "4", "--ndf", "4", "--nz", "8", "--decoder-width", "4", "--sample-every", "1",
              "--checkpoint-every", "1", "--checkpoint-dir", ckpt, "--weights-dir", weights]
    result = run_cli(common + ["--iterations", "1"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reconstruction loss l1" in result.stdout and "--recon-loss perceptual" in result.stdout
    result = run_cli(common + ["--iterations", "2"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "at step 1" in result.stdout
    generator_file = os.path.join(weights, "fastgan-faces-64-generator.keras")
    for suffix in ("-generator.keras", "-generator.weights.h5", "-discriminator.weights.h5", "-samples.png"):
        assert os.path.exists(os.path.join(weights, "fastgan-faces-64" + suffix))
    assert sorted(os.listdir(os.path.join(ckpt, "samples"))) == ["000001-rec.png", "000001.png",
                                                                   "000002-rec.png", "000002.png"]

    out = tmp_path / "generated"
    result = run_cli(["train_fastgan.py", "generate", "--weights", generator_file, "--n", "3", "-o", str(out)])
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted(os.listdir(out))
    assert len(files) == 3 and np.asarray(Image.open(out / files[0])).shape == (64, 64, 3)

    result = run_cli(["train_fastgan.py", "evaluate", "--weights", generator_file, "--path", str(root),
                      "--inception-weights", str(tmp_path / "missing.h5")])
    assert result.returncode == 2 and "missing.h5" in result.stderr
    result = run_cli(["train_fastgan.py", "train", "--path", str(tmp_path / "nowhere")])
    assert result.returncode == 2 and "nowhere" in result.stderr
    result = run_cli(common + ["--iterations", "3", "--batch-size", "0"])
    assert result.returncode == 2 and "--batch-size must be at least 1. Received: 0" in result.stderr


def test_cli_evaluate_prints_fid_and_kid_with_a_local_inception_file(tmp_path, rng):
    inception = str(tmp_path / "inception_notop.h5")
    keras.utils.set_random_seed(0)
    save_weights(imagenet_application(keras.applications.InceptionV3, None, metrics.INCEPTION_NOTOP_FILE, "",
                                      include_top=False, pooling="avg", input_shape=(299, 299, 3)), inception)
    g = fastgan.generator(64, **TINY)
    g.save(str(tmp_path / "g.keras"))
    root = tmp_path / "real"
    for i in range(3):
        write_png(str(root / f"{i}.png"), random_image(rng, 64, 64))
    result = run_cli(["train_fastgan.py", "evaluate", "--weights", str(tmp_path / "g.keras"), "--path", str(root),
                      "--inception-weights", inception])
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"FID ([-+.\de]+)\s+KID ([-+.\de]+)", result.stdout)
    assert match and float(match.group(1)) > 0



def test_gan_dataset_cache_dir_is_filled_once_and_read_back(tmp_path, rng):
    files = [write_png(str(tmp_path / "img" / f"{i}.png"), random_image(rng, 20, 24)) for i in range(3)]
    cache = tmp_path / "cache"
    first = np.concatenate(list(gan_dataset(files, 8, cache_dir=str(cache), shuffle=False, flip=False,
                                            repeat=False)[0].as_numpy_iterator()))
    assert len(os.listdir(cache)) == 1 and not any(".tmp" in n for n in os.listdir(cache))
    for f in files:
        os.remove(f)  # the second run must not decode them again
    second = np.concatenate(list(gan_dataset(files, 8, cache_dir=str(cache), shuffle=False, flip=False,
                                             repeat=False)[0].as_numpy_iterator()))
    np.testing.assert_array_equal(first, second)
