"""Inference and metrics: tiled equals whole, evaluation over every image, PSNR/SSIM properties, resolve CLI."""

import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import random_image, write_png
from PIL import Image
from process_helpers import run_cli

from sr_tf import evaluate, resolve, resolve_single, save_weights
from sr_tf.metrics import psnr, psnr_y, rgb_to_y, ssim
from sr_tf.models import edsr, srgan


class InputRecorder:
    """Wraps a model and records the spatial size of every input it is called on."""

    def __init__(self, model):
        self.model, self.sizes = model, []

    def __call__(self, x, training=False):
        self.sizes.append(tuple(x.shape[1:3]))
        return self.model(x, training=training)


@pytest.mark.parametrize("model,tile,pad", [
    (edsr.edsr(2, num_filters=4, num_res_blocks=1), 8, 6),
    (srgan.generator(num_filters=4, num_res_blocks=1), 7, 12),
])
def test_tiled_inference_equals_whole_image_and_bounds_input_size(model, tile, pad, rng):
    lr = random_image(rng, 37, 29)
    whole = resolve_single(model, lr)
    recorder = InputRecorder(model)
    tiled = resolve_single(recorder, lr, tile=tile, tile_pad=pad)
    assert tiled.shape == whole.shape and tiled.dtype == np.uint8
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1
    assert max(max(s) for s in recorder.sizes) <= tile + 2 * pad
    assert len(recorder.sizes) == int(np.ceil(37 / tile) * np.ceil(29 / tile))


def test_resolve_clips_rounds_and_casts(rng):
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    lr = random_image(rng, 6, 6)[None]
    raw = model(lr.astype("float32"), training=False).numpy()
    out = resolve(model, lr).numpy()
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, np.clip(np.round(raw), 0, 255).astype(np.uint8))


def test_evaluate_averages_every_image_of_every_batch(rng):
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    lr = np.stack([random_image(rng, 6, 6) for _ in range(5)])
    hr = np.stack([random_image(rng, 12, 12) for _ in range(5)])
    per_image = [float(psnr(hr[i], resolve(model, lr[i:i + 1])[0])) for i in range(5)]
    dataset = tf.data.Dataset.from_tensor_slices((lr, hr)).batch(2)  # batches of 2, 2, 1
    assert float(evaluate(model, dataset)) == pytest.approx(np.mean(per_image), rel=1e-6)


def test_psnr_properties(rng):
    a = random_image(rng, 16, 16)
    assert np.isinf(float(psnr(a, a))) and np.isinf(psnr_y(a, a, crop_border=2))
    b = np.clip(a.astype(int) + 3, 0, 255).astype(np.uint8)
    mse = np.mean((a.astype(float) - b) ** 2)
    assert float(psnr(a, b)) == pytest.approx(10 * np.log10(255 ** 2 / mse), rel=1e-5)
    # A constant RGB offset d moves Y by d * 219 / 255 everywhere (BT.601 studio range).
    a = rng.integers(10, 240, (16, 16, 3)).astype(np.uint8)
    b = a + 5
    assert psnr_y(a, b) == pytest.approx(10 * np.log10(255 ** 2 / (5 * 219 / 255) ** 2))
    assert rgb_to_y(np.array([[0, 0, 0], [255, 255, 255]])) == pytest.approx([16, 235], abs=1e-9)
    # Differences only inside the cropped border do not count.
    c = a.copy()
    c[:2] = 0
    assert np.isinf(psnr_y(a, c, crop_border=2)) and not np.isinf(psnr_y(a, c))
    batch = psnr_y(np.stack([a, a]), np.stack([a, b]))
    assert np.isinf(batch[0]) and batch[1] == pytest.approx(psnr_y(a, b))


def test_ssim_matches_tensorflow_and_falls_with_noise(rng):
    a = random_image(rng, 32, 32)
    noisy = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    assert ssim(a, a) == pytest.approx(1.0)
    expected = float(tf.image.ssim(tf.constant(a, tf.float64), tf.constant(noisy, tf.float64), max_val=255))
    assert ssim(a, noisy, y_only=False) == pytest.approx(expected, abs=1e-6)
    noisier = np.clip(a + rng.normal(0, 60, a.shape), 0, 255).astype(np.uint8)
    assert 1 > ssim(a, noisy, crop_border=4) > ssim(a, noisier, crop_border=4)


def float64_reference(a, b, crop, y_only):
    """PSNR and SSIM computed in float64 with NumPy, as the package computed them before it used tf.image
    (11x11 Gaussian window, sigma 1.5, the valid region, channels averaged)."""
    def prepare(x):
        x = np.asarray(x, np.float64)
        x = (16.0 + x / 255.0 @ np.array([65.481, 128.553, 24.966]))[..., None] if y_only else x
        return x[crop:-crop, crop:-crop] if crop else x

    a, b = prepare(a), prepare(b)
    g = np.exp(-(np.arange(11) - 5.0) ** 2 / (2 * 1.5 ** 2))
    g /= g.sum()

    def blur(x):  # separable 'valid' filtering of (H, W, C)
        x = np.lib.stride_tricks.sliding_window_view(x, 11, axis=0) @ g
        return np.lib.stride_tricks.sliding_window_view(x, 11, axis=1) @ g

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = blur(a), blur(b)
    s1, s2, s12 = blur(a * a) - mu1 ** 2, blur(b * b) - mu2 ** 2, blur(a * b) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))
    return 10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2)), float(ssim_map.mean())


@pytest.mark.parametrize("y_only", [True, False])
def test_psnr_y_and_ssim_equal_the_float64_computation(rng, y_only):
    """tf.image's PSNR and SSIM (float32 inside) give the numbers of the float64 computation the package used
    before, on a photo and a degraded copy, cropped as the benchmark protocol crops."""
    from sr_tf.data.io import SAMPLE_HELD_OUT, load_image, sample_files

    hr = load_image(sample_files([SAMPLE_HELD_OUT])[0])[:96, :128]
    degraded = np.clip(hr + rng.normal(0, 8, hr.shape), 0, 255).astype(np.uint8)
    want_psnr, want_ssim = float64_reference(hr, degraded, 4, y_only)
    if y_only:
        assert psnr_y(hr, degraded, crop_border=4) == pytest.approx(want_psnr, abs=1e-4)
    assert ssim(hr, degraded, crop_border=4, y_only=y_only) == pytest.approx(want_ssim, abs=1e-5)


def test_package_exports_the_tutorial_names():
    import sr_tf

    # The tutorial's names are its functions' behaviour, not just names: resolve() on a batch is
    # resolve_single() image by image, and resolve_single is the inference module's.
    from sr_tf import inference, specs

    assert sr_tf.resolve_single is inference.resolve_single and sr_tf.resolve is inference.resolve
    model = specs.architecture("edsr-16-x4", num_filters=4, num_res_blocks=1, scale=2).build()
    batch = np.random.default_rng(0).integers(0, 256, (2, 6, 5, 3)).astype(np.uint8)
    out = np.asarray(sr_tf.resolve(model, batch))
    assert out.dtype == np.uint8 and out.shape == (2, 12, 10, 3)
    for image, single in zip(batch, out):
        diff = np.abs(sr_tf.resolve_single(model, image).astype(int) - single.astype(int))
        assert diff.max() <= 1  # float rounding of batch 1 against batch 2, at most one grey level
    assert {"resolve_single", "evaluate", "save_weights", "load_weights"} <= set(dir(sr_tf))


def _bicubic_axis(n, factor):
    """Keys' cubic (a = -0.5) upsampling along one axis as an (n * factor, n) matrix: half-pixel centres, taps
    outside the image dropped and the rest renormalized (Pillow's rule)."""
    def keys(x):
        x = abs(x)
        return (1.5 * x - 2.5) * x * x + 1 if x < 1 else ((-0.5 * x + 2.5) * x - 4) * x + 2 if x < 2 else 0.0

    matrix = np.zeros((n * factor, n))
    for i in range(n * factor):
        centre = (i + 0.5) / factor
        for j in range(n):
            matrix[i, j] = keys(j + 0.5 - centre)
        matrix[i] /= matrix[i].sum()
    return matrix


def test_resolve_cli_keeps_alpha_and_reports_bad_files(tmp_path, rng):
    model = edsr.edsr(2, num_filters=4, num_res_blocks=2)
    weights = str(tmp_path / "edsr.h5")
    save_weights(model, weights)
    rgba = random_image(rng, 10, 12, 4)
    write_png(str(tmp_path / "in" / "sub" / "rgba.png"), rgba)
    grey = write_png(str(tmp_path / "in" / "grey.png"), rng.integers(0, 256, (9, 7), dtype=np.uint8))
    (tmp_path / "in" / "broken.jpg").write_text("not an image")
    result = run_cli(["-m", "sr_tf.resolve", "--model", "edsr", "--scale", "2", "--num-filters", "4",
                      "--num-res-blocks", "2", "--weights", weights, "--tile", "4", "--precision", "float32",
                      str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert result.returncode == 1, result.stderr
    assert "broken.jpg" in result.stderr and "2 of 3 images written" in result.stdout
    out = np.asarray(Image.open(tmp_path / "out" / "sub" / "rgba.png"))
    assert out.shape == (20, 24, 4)
    expected_alpha = _bicubic_axis(10, 2) @ rgba[..., 3].astype(float) @ _bicubic_axis(12, 2).T
    assert np.abs(out[..., 3] - np.clip(np.round(expected_alpha), 0, 255)).max() <= 1
    np.testing.assert_array_equal(out[..., :3], resolve_single(model, rgba[..., :3]))
    grey_out = np.asarray(Image.open(tmp_path / "out" / "grey.png"))
    assert grey_out.shape == (18, 14)  # grey in, grey out
    rgb = model(np.repeat(np.asarray(Image.open(grey))[None, ..., None], 3, -1).astype("float32")).numpy()[0]
    expected_grey = np.clip(np.round(rgb @ [0.299, 0.587, 0.114]), 0, 255)
    assert np.abs(grey_out - expected_grey).max() <= 1
    assert os.path.exists(grey)


def test_resolve_cli_keeps_16_bits_and_alpha_through_tiles_and_outscale(tmp_path, rng):
    from sr_tf.cli import resolve as resolve_cli
    from sr_tf.data.io import read_image_channels
    from sr_tf.inference import resolve_photo
    from sr_tf.models import from_pytorch

    weights = os.path.join(os.path.dirname(__file__), "data", "realesrgan_reference", "srvgg_x4.safetensors")
    model = from_pytorch(weights)  # 3 + 2 convolutions: a receptive field of 5 LR pixels, inside --tile-pad 8
    image = rng.integers(0, 65536, (9, 7, 4)).astype(np.uint16)
    path = tmp_path / "in16.png"
    path.write_bytes(tf.io.encode_png(image).numpy())
    assert resolve_cli.main([str(path), "-o", str(tmp_path / "out"), "--weights", weights, "--tile", "4",
                             "--tile-pad", "8", "--alpha", "model", "--precision", "float32"]) == 0
    out = read_image_channels(tmp_path / "out" / "in16.png")
    assert out.dtype == np.uint16 and out.shape == (36, 28, 4)
    colour = model(image[None, ..., :3].astype("float32") / 257).numpy()[0] * 257  # fractions of 8 bits kept
    np.testing.assert_allclose(out[..., :3], np.clip(np.round(colour), 0, 65535), atol=2)
    alpha = model(np.repeat(image[None, ..., 3:], 3, -1).astype("float32") / 257).numpy()[0] @ [0.299, 0.587, 0.114]
    np.testing.assert_allclose(out[..., 3], np.clip(np.round(alpha * 257), 0, 65535), atol=2)
    # --outscale: the result resized with antialiasing to any size; at the model's own scale it changes nothing
    same = resolve_photo(model, image, outscale=4.0, alpha="model")
    assert np.abs(same.astype(int) - out).max() <= 2
    smaller = resolve_photo(model, image, outscale=2.5, alpha="model")
    assert smaller.shape == (22, 18, 4) and smaller.dtype == np.uint16
    assert abs(smaller[..., :3].mean() - out[..., :3].mean()) < 0.02 * out[..., :3].mean()
