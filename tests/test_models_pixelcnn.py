"""PixelCNN builders: .keras round trips, parameter counts, causality over pixels and colours, the blind spot."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from model_helpers import PIXELCNN_CASES, keras_round_trip, randomize_batchnorm, tiny_pixelcnn

from sr_tf import sampling
from sr_tf.layers.mixture import value_logits
from sr_tf.models import pixelcnn as P


@pytest.mark.parametrize("name", PIXELCNN_CASES)
def test_models_round_trip_as_keras(name, tmp_path):
    model, labels = tiny_pixelcnn(name)
    loaded = keras_round_trip(model, tmp_path)
    h, w, c, levels = sampling.image_geometry(model)
    x = np.random.default_rng(0).integers(0, levels, (4, h, w, c)).astype("float32")
    inputs = sampling.model_inputs(x, labels)
    np.testing.assert_array_equal(model(inputs, training=False), loaded(inputs, training=False))


def test_pixelcnn_parameter_count_matches_the_architecture():
    # input 7x7 A conv (C -> 2h) + BN; per block 1x1 2h->h, 3x3 h->h, 1x1 h->2h, each + BN; head 2h->h, h->h, h->C*L.
    for (h, w, c), blocks, hidden, levels in [((28, 28, 1), 15, 128, 256), ((8, 8, 3), 2, 6, 4)]:
        bn = 4
        expected = 49 * c * 2 * hidden + 2 * hidden + bn * 2 * hidden
        expected += blocks * ((2 * hidden * hidden + hidden) + (9 * hidden * hidden + hidden) +
                              (hidden * 2 * hidden + 2 * hidden) + bn * (hidden + hidden + 2 * hidden))
        expected += (2 * hidden * hidden + hidden) + (hidden * hidden + hidden) + (hidden * c * levels + c * levels)
        model = P.pixelcnn((h, w, c), num_res_blocks=blocks, hidden=hidden, levels=levels)
        assert model.count_params() == expected
        assert model.output.shape[1:] == (h, w, c, levels)


def dependency(model, labels, seed=0, batch=4):
    """|d logits(out position, out channel) / d input(in position, in channel)| under a random projection of the
    levels (for the mixture head, of the per-channel conditional log-probabilities), summed over `batch` random inputs
    (one input can leave a small network's ReLUs all off somewhere).

    Returns an array (H, W, C, H, W, C), computed in inference mode.
    """
    h, w, c, levels = sampling.image_geometry(model)
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.integers(0, levels, (batch, h, w, c)).astype("float32"))
    projection = tf.constant(rng.normal(size=(levels,)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        output = model(sampling.model_inputs(x, None if labels is None else labels[:batch]), training=False)
        logits = value_logits(model, output, x)  # (B, H, W, C, levels) for either head
        projected = tf.reduce_sum(tf.tensordot(logits, projection, axes=[[4], [0]]), axis=0)  # (H, W, C)
    jacobian = tape.jacobian(projected, x)  # (H, W, C, batch, H, W, C); examples are independent
    return np.abs(jacobian.numpy()).sum(axis=3)


@pytest.mark.parametrize("name", PIXELCNN_CASES)
def test_causality_over_pixels_and_colours(name):
    model, labels = tiny_pixelcnn(name)
    h, w, c, _ = sampling.image_geometry(model)
    dep = dependency(model, labels)
    order = np.arange(h * w * c).reshape(h, w, c)  # raster order, then R, G, B within a pixel
    later = order[None, None, None] >= order[:, :, :, None, None, None]
    assert (dep[later] == 0).all(), "an output depends on its own or a later value"
    # ... and it does see its past: the value just before it in its row, and every channel of the pixel above.
    for r in range(h):
        for col in range(w):
            for ch in range(c):
                if ch > 0:
                    assert dep[r, col, ch, r, col, ch - 1] > 0, f"{(r, col, ch)} ignores the previous channel"
                elif col > 0:
                    assert dep[r, col, ch, r, col - 1, c - 1] > 0, f"{(r, col, ch)} ignores the pixel to its left"
    for r in range(1, h):
        for col in range(w):
            assert (dep[r, col, :, r - 1, col, :] > 0).all(), f"output {(r, col)} ignores the pixel above"


def test_gated_pixelcnn_has_no_blind_spot_and_pixelcnn_has_one():
    keras.utils.set_random_seed(1)
    h = w = 9
    r, c = 6, 4
    gated = P.gated_pixelcnn((h, w, 1), num_layers=3, hidden=8, levels=4, kernel_size=3, first_kernel_size=3)
    dep = dependency(gated, None)[r, c, 0, :, :, 0]
    # first layer reaches 1 row up and 1 column each side; each of the 3 gated layers one more of each
    reach = 1 + 3
    for rr in range(r - reach, r):  # every row of the reach above, the full width of the reach
        for cc in range(max(0, c - reach), min(w, c + reach + 1)):
            assert dep[rr, cc] > 0, f"blind spot at {(rr, cc)}"
    for cc in range(c - reach, c):
        assert dep[r, cc] > 0, f"blind spot at {(r, cc)}"
    # ... and nothing beyond the reach: the receptive field is exactly that.
    assert (dep[:r - reach] == 0).all() and dep[r, c - reach - 1] == 0
    plain = randomize_batchnorm(P.pixelcnn((h, w, 1), num_res_blocks=4, hidden=8, levels=4))
    plain_dep = dependency(plain, None)[r, c, 0, :, :, 0]
    # 7x7 mask A sees (r-1, c+3); masked 3x3 B layers never see (r-1, c+4): the blind spot.
    assert plain_dep[r - 1, c + 3] > 0
    assert plain_dep[r - 1, c + 4] == 0 and dep[r - 1, c + 4] > 0
