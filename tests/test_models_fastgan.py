"""FastGAN builders: parameter counts against the official code, shapes and ranges at every size, .keras round
trips, argument checks and the quadrant decoder."""


import keras
import numpy as np
import pytest
import tensorflow as tf
from model_helpers import FASTGAN_TINY_G, keras_round_trip, tiny_fastgan

from sr_tf.layers import SpectralNormConv2D, crop_quadrant
from sr_tf.models import fastgan


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
    g, d = tiny_fastgan(im_size)
    small, rec = fastgan.small_size(im_size), fastgan.reconstruction_size(im_size)
    # Large noise weights drive the pre-activations far outside [-1, 1]: tanh must still bound every output.
    for layer in g.layers:
        if layer.name.endswith(("noise1", "noise2")):
            layer.weight.assign([50.0])
    big_img, small_img = g(tf.random.normal((3, FASTGAN_TINY_G["nz"])), training=False)
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
    g, d = tiny_fastgan(64)
    z = tf.random.normal((2, FASTGAN_TINY_G["nz"]))
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
