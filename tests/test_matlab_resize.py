"""MATLAB's bicubic `imresize` in TF ops: hand-computed kernel taps (interior and mirrored border), constants,
output sizes for sizes the scale does not divide, uint8 rounding, and use inside tf.data."""

import numpy as np
import pytest
import tensorflow as tf

from sr_tf.data import downscale
from sr_tf.data.matlab import imresize, resize_matrix
from sr_tf.errors import UserInputError

# MATLAB's cubic (a = -0.5) at 0.25, 0.75, 1.25, 1.75, worked out by hand:
# 1.5|x|^3 - 2.5|x|^2 + 1 (|x| <= 1) and -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2 (1 < |x| <= 2).
C025, C075, C125, C175 = 0.8671875, 0.2265625, -0.0703125, -0.0234375


def row(values):
    """A (4, n, 1) float image whose rows are `values` (MATLAB resizes rows first; constant columns stay)."""
    return np.tile(np.asarray(values, np.float64)[None, :, None], (4, 1, 1))


def test_x2_interior_taps_are_the_halved_cubic():
    """x2: output j sits at 2j - 0.5 and weighs pixels at distances 0.5, 1.5, 2.5, 3.5 (kernel cubic(x/2)/2)."""
    impulse = np.zeros(16)
    impulse[7] = 1.0  # pixel 8 (1-based): distance 0.5 from output 4 (at 7.5), 1.5 from output 5 (at 9.5)
    got = imresize(row(impulse), 2).numpy()[0, :, 0]
    expected = np.zeros(8)
    expected[[2, 3, 4, 5]] = [C125 / 2, C025 / 2, C075 / 2, C175 / 2]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_border_taps_mirror():
    """Taps left of pixel 1 mirror: index 0 is pixel 1, so output 1 (at 1.5) weighs pixel 1 at distances 0.5 and
    1.5, and output 2 (at 3.5) at 2.5 and 3.5."""
    impulse = np.zeros(16)
    impulse[0] = 1.0
    got = imresize(row(impulse), 2).numpy()[0, :3, 0]
    np.testing.assert_allclose(got, [(C025 + C075) / 2, (C125 + C175) / 2, 0.0], atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_constants_stay_constant_and_sizes_round_up(scale):
    for height, width in [(13, 11), (16, 9), (5, 7)]:
        image = np.full((height, width, 3), 77, np.uint8)
        out = imresize(image, scale).numpy()
        assert out.shape == (-(-height // scale), -(-width // scale), 3)
        assert out.dtype == np.uint8 and np.all(out == 77)
        flat = imresize(image.astype(np.float64) + 0.25, scale).numpy()
        np.testing.assert_allclose(flat, 77.25, atol=1e-9)


def test_uint8_rounds_after_each_dimension_and_downscale_selects_it(rng):
    image = rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)
    exact = imresize(image.astype(np.float64), 4).numpy()
    got = downscale(image, 4, method="matlab").numpy()
    assert got.dtype == np.uint8 and got.shape == (6, 5, 3)
    assert np.abs(got - np.clip(np.round(exact), 0, 255)).max() <= 1  # only the first pass's rounding differs
    # An explicit two-pass reference: rows (height) first, rounded half up to uint8, then columns, rounded again;
    # it must match exactly, and differ somewhere from a single rounding at the end.
    rows = np.einsum("oh,hwc->owc", resize_matrix(24, 1 / 4).numpy(), image.astype(np.float64))
    rows = np.clip(np.floor(rows + 0.5), 0, 255)
    both = np.einsum("ow,hwc->hoc", resize_matrix(20, 1 / 4).numpy(), rows)
    np.testing.assert_array_equal(got, np.clip(np.floor(both + 0.5), 0, 255).astype(np.uint8))
    assert (got != np.clip(np.floor(exact + 0.5), 0, 255)).any()
    bicubic = downscale(image, 4).numpy().astype(float)
    assert np.abs(bicubic - got).mean() > 0.1  # a different filter from tf.image.resize's
    with pytest.raises(UserInputError, match="Received: method='lanczos'"):
        downscale(image, 4, method="lanczos")


def test_runs_inside_tf_data_with_unknown_sizes(rng):
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(12, 16), (9, 10)]]
    ds = tf.data.Dataset.from_generator(lambda: iter(images), output_signature=tf.TensorSpec((None, None, 3),
                                                                                               tf.uint8))
    out = list(ds.map(lambda im: downscale(im, 2, method="matlab"), num_parallel_calls=tf.data.AUTOTUNE))
    for image, lr in zip(images, out):
        np.testing.assert_array_equal(lr.numpy(), imresize(image, 2).numpy())


def test_x2_upscale_taps_are_the_plain_cubic():
    """Enlarging x2, output j (1-based) sits at j / 2 + 1/4: pixel 4 is 1.75, 1.25, 0.75, 0.25, 0.25, ... away from
    outputs 4..11, with no widening of the kernel."""
    from sr_tf.data.matlab import upscale

    impulse = np.zeros(10)
    impulse[3] = 1.0
    got = upscale(row(impulse), 2).numpy()[0, :, 0]
    expected = np.zeros(20)
    expected[3:11] = [C175, C125, C075, C025, C025, C075, C125, C175]
    np.testing.assert_allclose(got, expected, atol=1e-12)
    flat = upscale(np.full((5, 3, 3), 200, np.uint8), 3).numpy()
    assert flat.shape == (15, 9, 3) and np.all(flat == 200)
