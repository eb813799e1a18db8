"""DiffAugment: translation, colour and cutout draws, and its use inside a compiled step."""


import numpy as np
import pytest
import tensorflow as tf

from sr_tf.data import transforms


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


def _per_image_factor(deviation_in, deviation_out):
    """The one scalar per image with out = factor * in (asserted), as an array."""
    a, b = deviation_in.reshape(len(deviation_in), -1), deviation_out.reshape(len(deviation_out), -1)
    factors = (a * b).sum(1) / (a * a).sum(1)
    np.testing.assert_allclose(b, factors[:, None] * a, atol=1e-5)
    return factors


def test_saturation_and_contrast_scale_each_image_by_its_own_draw():
    """Saturation: (x - channel mean) times 2U, U ~ U(0, 1) drawn per image; contrast: (x - image mean) times
    U + 0.5. An identity (or a shared factor) fails."""
    x = tf.random.uniform((64, 4, 4, 3), -1, 1)
    pixel_mean = tf.reduce_mean(x, -1, keepdims=True)
    saturation = _per_image_factor((x - pixel_mean).numpy(), (transforms.rand_saturation(x) - pixel_mean).numpy())
    assert saturation.min() >= 0 and saturation.max() <= 2 and saturation.std() > 0.3
    image_mean = tf.reduce_mean(x, [1, 2, 3], keepdims=True)
    contrast = _per_image_factor((x - image_mean).numpy(), (transforms.rand_contrast(x) - image_mean).numpy())
    assert contrast.min() >= 0.5 and contrast.max() <= 1.5 and contrast.std() > 0.15


def test_diff_augment_applies_each_part_of_the_policy():
    """'color' changes every image by a brightness shift and two scalings; 'translation' gives a shifted copy of
    each image; 'cutout' zeros a square in each."""
    x = tf.random.uniform((8, 16, 16, 3), 0.1, 1.0)
    coloured = transforms.diff_augment(x, "color").numpy()
    assert all(np.abs(coloured[i] - x[i].numpy()).max() > 1e-3 for i in range(8))
    shifted = transforms.diff_augment(x, "translation").numpy()
    offsets = [_find_offset(x[i], shifted[i], transforms.max_shift(16) + 1) for i in range(8)]
    assert any(offset != (0, 0) for offset in offsets)
    cut = transforms.diff_augment(x, "cutout").numpy()
    zeros = (cut == 0).all(axis=-1).sum(axis=(1, 2))
    assert (zeros > 0).all()
    kept = (cut != 0).all(axis=-1)
    np.testing.assert_array_equal(cut[kept], x.numpy()[kept])


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
