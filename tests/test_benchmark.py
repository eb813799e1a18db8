"""Benchmark protocol: set discovery in the published layouts, LR files used as given or made with MATLAB
bicubic, HR cropped to match, and `train_srgan.py evaluate --benchmark` printing per-set Y-PSNR/SSIM."""

import numpy as np
import pytest
from helpers import block_mean, random_image, write_png

from sr_tf.data.benchmark import find_sets, set_images
from sr_tf.data.matlab import imresize, upscale
from sr_tf.errors import UserInputError
from sr_tf.metrics import psnr_y, ssim


def lr_of(hr):
    return np.round(block_mean(hr, 2)).astype(np.uint8)


@pytest.fixture
def root(tmp_path, rng):
    base = tmp_path / "benchmark"
    for name in ("a", "b"):  # Set5 layout with LR files (made by block mean, not by this package's resize)
        hr = random_image(rng, 25, 31)
        write_png(str(base / "SetA" / "HR" / f"{name}.png"), hr)
        write_png(str(base / "SetA" / "LR_bicubic" / "X2" / f"{name}x2.png"), lr_of(hr[:24, :30]))
    write_png(str(base / "SetB" / "c.png"), random_image(rng, 27, 22))  # HR only, sizes not even
    write_png(str(base / "DIV2K" / "DIV2K_valid_HR" / "0801.png"), random_image(rng, 20, 24))
    return base


def test_sets_are_found_in_every_layout_and_lr_is_given_or_matlab(root):
    assert [name for name, _ in find_sets(str(root))] == ["DIV2K", "SetA", "SetB"]
    assert find_sets(str(root / "SetA")) == [("SetA", str(root / "SetA"))]
    given = list(set_images(str(root / "SetA"), 2))
    assert [name for name, _, _ in given] == ["a", "b"]
    for _, lr, hr in given:
        assert lr.shape == (12, 15, 3) and hr.shape == (24, 30, 3)
        np.testing.assert_array_equal(lr, lr_of(hr))
    [(name, lr, hr)] = list(set_images(str(root / "SetB"), 2))
    assert hr.shape == (26, 22, 3)  # cropped to a multiple of the scale
    np.testing.assert_array_equal(lr, imresize(hr, 2).numpy())
    (root / "SetA" / "LR_bicubic" / "X2" / "bx2.png").unlink()
    with pytest.raises(UserInputError, match="No LR image for .*b.png"):
        list(set_images(str(root / "SetA"), 2))
    (root / "empty" / "notes").mkdir(parents=True)
    with pytest.raises(UserInputError, match="No benchmark set"):
        find_sets(str(root / "empty"))


def test_evaluate_benchmark_prints_the_protocols_numbers(root, tmp_path, capsys):
    from sr_tf.cli import srgan as srgan_cli
    from sr_tf.inference import resolve_single
    from sr_tf.models import build_sr_model
    from sr_tf.weights_io import save_weights

    model = build_sr_model("edsr", scale=2, num_filters=4, num_res_blocks=1)
    save_weights(model, str(tmp_path / "edsr.h5"))
    args = ["evaluate", "--model", "edsr", "--scale", "2", "--num-filters", "4", "--num-res-blocks", "1",
            "--weights", str(tmp_path / "edsr.h5"), "--benchmark", str(root), "--self-ensemble"]
    assert srgan_cli.main(args) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    [(_, lr, hr)] = list(set_images(str(root / "SetB"), 2))
    for row, sr in [("bicubic", upscale(lr, 2).numpy()), ("model", resolve_single(model, lr)),
                    ("model+", resolve_single(model, lr, self_ensemble=True))]:
        assert f"{row} {psnr_y(hr, sr, crop_border=2):.2f} / {ssim(hr, sr, crop_border=2):.4f}" in lines["SetB"]
    assert "2 images" in lines["SetA"] and "1 images" in lines["DIV2K"]


def test_comparison_reports_each_channels_mean_error(rng):
    import tensorflow as tf

    from sr_tf.cli.sr_evaluate import compare_with_bicubic

    hr = rng.integers(50, 200, (16, 16, 3), dtype=np.uint8)
    lr = hr[::2, ::2]
    shift = np.array([3.0, -2.0, 0.5], np.float32)  # per channel: after rounding +3, -2 and 0 or +1

    def model(batch, training=False):
        return tf.image.resize(batch, (16, 16), method="nearest") + shift

    r = compare_with_bicubic(model, [(lr, hr)], 2)["model"]
    expected = (np.round(np.repeat(np.repeat(lr, 2, 0), 2, 1) + shift) - hr).mean(axis=(0, 1))
    np.testing.assert_allclose([r["bias_r"], r["bias_g"], r["bias_b"]], expected, atol=1e-9)
    assert r["n"] == 1
