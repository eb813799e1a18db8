"""Degradation pipeline: seeded and reproducible, HR/LR aligned through crop/rotate/flip, Real-ESRGAN's pieces
(kernels, noise) with the properties their definitions give, and the sources' `degradation=` options."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import block_mean, random_image, write_png

from sr_tf.data import DIV2K, ImageFolder
from sr_tf.data import degradations as D
from sr_tf.data.matlab import imresize
from sr_tf.errors import UserInputError
from sr_tf.ops import Draws


def draws(a, b=1):
    return Draws(tf.constant([a, b], tf.int64))


@pytest.fixture
def folder(tmp_path, rng):
    for i in range(3):
        write_png(str(tmp_path / "hr" / f"{i}.png"), random_image(rng, 40, 48))
    return str(tmp_path / "hr")


def test_training_patches_are_seeded_and_each_lr_comes_from_its_own_hr_patch(folder):
    """A callable degradation (exact 2x2 block mean) sees the HR patch after crop, rotation and flip."""
    def block(hr, scale, draws):
        return tf.cast(tf.round(tf.nn.avg_pool2d(tf.cast(hr, tf.float32)[None], scale, scale, "VALID")[0]),
                       tf.uint8)

    source = ImageFolder(folder, scale=2, hr_crop_size=16, degradation=block)
    batches = list(source.dataset(batch_size=4, seed=3).take(3))
    again = list(source.dataset(batch_size=4, seed=3).take(3))
    other = list(source.dataset(batch_size=4, seed=4).take(3))
    for (lr, hr), (lr2, hr2) in zip(batches, again):
        assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 16, 16, 3)
        np.testing.assert_array_equal(lr.numpy(), np.round(block_mean(hr.numpy(), 2)).astype(np.uint8))
        np.testing.assert_array_equal(hr.numpy(), hr2.numpy())
    assert any(np.any(a[1].numpy() != b[1].numpy()) for a, b in zip(batches, other))


def test_realesrgan_patches_are_reproducible_and_aligned(folder, rng):
    source = ImageFolder(folder, scale=4, hr_crop_size=32, degradation="realesrgan")
    first = [b[0].numpy() for b in source.dataset(batch_size=2, seed=5).take(2)]
    second = [b[0].numpy() for b in source.dataset(batch_size=2, seed=5).take(2)]
    np.testing.assert_array_equal(first, second)
    assert first[0].shape == (2, 8, 8, 3) and first[0].dtype == np.uint8
    # Alignment: a bright square on a dark patch keeps its centre at HR centre / scale, whatever is drawn.
    fn = tf.function(lambda hr, seed: D.realesrgan(hr, 4, Draws(seed)))
    errors = []
    for k in range(12):
        top, left = rng.integers(16, 56, 2)
        hr = np.full((96, 96, 3), 30, np.uint8)
        hr[top:top + 24, left:left + 24] = 220
        lr = fn(hr, tf.constant([k, 9], tf.int64)).numpy().astype(float).mean(axis=-1)
        weight = (lr > (np.median(lr) + np.percentile(lr, 99)) / 2).astype(float)  # the square, despite noise
        ys, xs = np.mgrid[:24, :24] + 0.5
        centre = np.array([(ys * weight).sum(), (xs * weight).sum()]) / weight.sum()
        errors.append(np.abs(centre - (np.array([top, left]) + 12) / 4).max())
    assert np.mean(errors) < 0.25 and max(errors) < 0.5, errors  # LR pixels


def test_kernels_are_normalized_sized_and_isotropic_ones_symmetric():
    fn = tf.function(lambda seed: D.mixed_kernel(Draws(seed), D.REALESRGAN.first.blur))
    for k in range(20):
        kernel = fn(tf.constant([k, 2], tf.int64)).numpy()
        assert kernel.shape == (21, 21) and abs(kernel.sum() - 1) < 1e-5
        support = np.argwhere(kernel != 0)
        side = support.max(0) - support.min(0) + 1
        assert side[0] == side[1] and side[0] % 2 == 1 and 7 <= side[0] <= 21  # centred odd square
    iso = D.Blur(kernel_prob=(1, 0, 0, 0, 0, 0), sinc_prob=0.0)
    kernel = D.mixed_kernel(draws(1), iso).numpy()
    np.testing.assert_allclose(kernel, kernel.T, atol=1e-7)
    np.testing.assert_allclose(kernel, kernel[::-1], atol=1e-7)
    sinc = D.sinc_kernel(np.float32(np.pi / 2), 15).numpy()
    np.testing.assert_allclose(sinc, np.rot90(sinc), atol=1e-7)
    assert np.all(sinc[:3] == 0) and abs(sinc.sum() - 1) < 1e-5


def test_noise_has_the_drawn_strength():
    image = tf.fill((64, 64, 3), 0.5)
    gaussian = D.Stage(gaussian_noise_prob=1.0, noise_sigma=(10.0, 10.0), gray_noise_prob=0.0)
    noisy = D.add_noise(image, gaussian, draws(3)).numpy() - 0.5
    assert abs(noisy.std() * 255 - 10) < 0.5 and abs(noisy.mean()) < 0.01
    gray = D.Stage(gaussian_noise_prob=1.0, noise_sigma=(10.0, 10.0), gray_noise_prob=1.0)
    noisy = D.add_noise(image, gray, draws(3)).numpy()
    np.testing.assert_array_equal(noisy[..., 0], noisy[..., 2])
    poisson = D.Stage(gaussian_noise_prob=0.0, poisson_scale=(1.0, 1.0), gray_noise_prob=0.0)
    noisy = D.add_noise(image, poisson, draws(4)).numpy() - 0.5
    # One grey level present -> counts at rate 0.5 * 1 (2^0 levels): variance 0.5 / 1^2, mean 0.
    assert abs(noisy.mean()) < 0.05 and abs(noisy.var() - 0.5) < 0.05


def test_sources_choose_their_lr(folder, tmp_path):
    matlab = ImageFolder(folder, scale=2, hr_crop_size=16, degradation="matlab")
    for lr, hr in matlab.dataset(batch_size=1, random_transform=False, repeat_count=1):
        np.testing.assert_array_equal(lr[0].numpy(), imresize(hr[0].numpy(), 2).numpy())
    full = ImageFolder(folder, scale=4, hr_crop_size=16, degradation="realesrgan")
    from sr_tf.data import downscale

    pairs = [(lr.numpy(), hr.numpy()) for lr, hr in full.dataset(batch_size=1, random_transform=False,
                                                                   repeat_count=1)]
    lrs = [lr for lr, _ in pairs]
    again = [lr.numpy() for lr, _ in full.dataset(batch_size=1, random_transform=False, repeat_count=1)]
    np.testing.assert_array_equal(lrs, again)  # validation draws fixed seeds
    assert lrs[0].shape == (1, 10, 12, 3)
    for lr, hr in pairs:  # Real-ESRGAN's degradations (blur, resize, noise, JPEG), not a plain bicubic shrink
        assert np.abs(lr[0].astype(int) - downscale(hr[0], 4).numpy()).mean() > 1
    with pytest.raises(UserInputError, match="Received: degradation='blurry'"):
        ImageFolder(folder, scale=2, hr_crop_size=16, degradation="blurry")
    with pytest.raises(UserInputError, match="Pass one of the two"):
        ImageFolder(folder, scale=2, hr_crop_size=16, lr_dir=folder, degradation="matlab")
    # DIV2K with a degradation reads only the HR images: no LR archive is fetched (the server is unreachable).
    rng = np.random.default_rng(0)
    for image_id in range(801, 901):
        write_png(str(tmp_path / "div2k" / "DIV2K_valid_HR" / f"{image_id:04}.png"), random_image(rng, 16, 16))
    div2k = DIV2K(scale=4, subset="valid", images_dir=str(tmp_path / "div2k"), caches_dir=str(tmp_path / "c"),
                  base_url="http://127.0.0.1:9/", hr_crop_size=16, degradation="realesrgan")
    lr, hr = next(iter(div2k.dataset(batch_size=2, seed=0)))
    assert lr.shape == (2, 4, 4, 3) and hr.shape == (2, 16, 16, 3)
    assert np.abs(lr.numpy().astype(int) - np.stack([downscale(h, 4).numpy() for h in hr.numpy()])).mean() > 1


def test_the_test_photo_degradation_is_seeded_sized_and_not_bicubic(rng):
    from sr_tf.data import downscale

    hr = random_image(rng, 48, 40)
    a = D.photo(hr, 4, draws(1)).numpy()
    np.testing.assert_array_equal(a, D.photo(hr, 4, draws(1)).numpy())
    assert a.shape == (12, 10, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - downscale(hr, 4).numpy()).mean() > 1  # blur, noise and JPEG were applied
