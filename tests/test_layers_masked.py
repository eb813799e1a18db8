"""Masked convolutions: the masks, colour groups, vertical masks, and that masked weights never move."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from sr_tf.layers import MaskedConv2D, autoregressive_mask


def test_mask_a_and_b_grey():
    a = autoregressive_mask("A", (5, 5), 1, 1)[..., 0, 0]
    b = autoregressive_mask("B", (5, 5), 1, 1)[..., 0, 0]
    expected_a = np.zeros((5, 5))
    expected_a[:2] = 1
    expected_a[2, :2] = 1
    np.testing.assert_array_equal(a, expected_a)
    expected_a[2, 2] = 1
    np.testing.assert_array_equal(b, expected_a)


def test_mask_colour_groups_at_centre():
    # 3 input channels (R, G, B) to 6 outputs (2 per group): group g sees < g ('A') or <= g ('B') at the centre.
    for kind, allowed in (("A", np.less), ("B", np.less_equal)):
        centre = autoregressive_mask(kind, (3, 3), 3, 6, color_groups=3)[1, 1]
        for i in range(3):
            for o in range(6):
                assert centre[i, o] == float(allowed(i, o // 2)), (kind, i, o)
        # everywhere above and to the left is fully connected
        np.testing.assert_array_equal(autoregressive_mask(kind, (3, 3), 3, 6, color_groups=3)[0], 1.0)


def test_vertical_masks():
    v_a = autoregressive_mask("V_A", (3, 3), 2, 2)
    v_b = autoregressive_mask("V_B", (3, 3), 2, 2)
    np.testing.assert_array_equal(v_a[:, :, 0, 0], [[1, 1, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(v_b[:, :, 0, 0], [[1, 1, 1], [1, 1, 1], [0, 0, 0]])


def test_masked_conv_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mask_type"):
        MaskedConv2D("C", 4, 3)
    with pytest.raises(ValueError, match="odd"):
        autoregressive_mask("A", (4, 4), 1, 1)
    with pytest.raises(ValueError, match="strides"):
        MaskedConv2D("A", 4, 3, strides=2)


def test_masked_weights_get_no_gradient_and_never_move():
    keras.utils.set_random_seed(0)
    layer = MaskedConv2D("B", 6, 3, color_groups=3)
    x = tf.random.normal((2, 5, 5, 3))
    layer(x)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]  # the mask is a constant, not a variable
    before = layer.kernel.numpy().copy()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layer(x)))
    grad = tape.gradient(loss, layer.kernel).numpy()
    masked = layer.mask == 0
    assert masked.any() and (grad[masked] == 0).all() and (grad[~masked] != 0).any()
    optimizer = keras.optimizers.Adam(0.1)
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(x)))
        optimizer.apply_gradients([(tape.gradient(loss, layer.kernel), layer.kernel)])
    after = layer.kernel.numpy()
    np.testing.assert_array_equal(after[masked], before[masked])
    assert not np.array_equal(after[~masked], before[~masked])
