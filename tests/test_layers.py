"""Every custom layer the package registers passes the keras-hub-style layer test (`helpers.run_layer_test`):
config round trip, build, symbolic and eager calls, a safe-mode `.keras` round trip, a gradient step and the
mixed_float16 policy. A newly registered layer without a case here fails `test_every_registered_layer_has_a_case`."""

import keras
import numpy as np
import pytest
from model_helpers import run_layer_test

import sr_tf.layers as L

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.uniform(-1, 1, shape).astype("float32")


# (layer class, constructor arguments, input, expected output shape, trainable weights, deterministic)
CASES = {
    "PixelShuffle": (L.PixelShuffle, dict(scale=2), _x(2, 3, 4, 8), (2, 6, 8, 2), 0, True),
    "PixelUnshuffle": (L.PixelUnshuffle, dict(scale=2), _x(2, 4, 6, 3), (2, 2, 3, 12), 0, True),
    "NearestUpsample": (L.NearestUpsample, dict(factor=2), _x(2, 3, 2, 3), (2, 6, 4, 3), 0, True),
    "BilinearUpsample": (L.BilinearUpsample, dict(factor=2), _x(2, 3, 2, 3), (2, 6, 4, 3), 0, True),
    "PadToMultiple": (L.PadToMultiple, dict(multiple=4), _x(2, 5, 6, 3), (2, 8, 8, 3), 0, True),
    "CropToScaled": (L.CropToScaled, dict(scale=2), [_x(2, 8, 8, 3), _x(2, 3, 2, 1)], (2, 6, 4, 3), 0, True),
    "Normalize": (L.Normalize, dict(mean=[1.0, 2.0, 3.0], stddev=2.0), _x(2, 3, 3, 3), (2, 3, 3, 3), 0, True),
    "Denormalize": (L.Denormalize, dict(mean=127.5, stddev=127.5), _x(2, 3, 3, 3), (2, 3, 3, 3), 0, True),
    "Scale": (L.Scale, dict(factor=0.1), _x(2, 3, 3, 4), (2, 3, 3, 4), 0, True),
    "FusedBatchNormalization": (L.FusedBatchNormalization, dict(momentum=0.9), _x(2, 3, 3, 4), (2, 3, 3, 4), 2, True),
    "PReLU": (L.PReLU, dict(shared_axes=[1, 2], alpha_initializer="ones"), _x(2, 3, 3, 4), (2, 3, 3, 4), 1, True),
    "WeightNormConv2D": (L.WeightNormConv2D, dict(filters=4, kernel_size=3, padding="same"), _x(2, 5, 5, 3),
                         (2, 5, 5, 4), 3, True),
    "MaskedConv2D": (L.MaskedConv2D, dict(mask_type="B", filters=6, kernel_size=3, color_groups=3),
                     _x(2, 5, 5, 3), (2, 5, 5, 6), 2, True),
    "SpectralNormConv2D": (L.SpectralNormConv2D, dict(filters=4, kernel_size=3, padding="same", use_bias=False),
                           _x(2, 6, 6, 3), (2, 6, 6, 4), 1, True),
    "SpectralNormConv2DTranspose": (L.SpectralNormConv2DTranspose,
                                    dict(filters=4, kernel_size=4, strides=2, padding="same", use_bias=False),
                                    _x(2, 3, 3, 5), (2, 6, 6, 4), 1, True),
    "GLU": (L.GLU, {}, _x(2, 3, 3, 6), (2, 3, 3, 3), 0, True),
    "NoiseInjection": (L.NoiseInjection, {}, _x(2, 4, 4, 3), (2, 4, 4, 3), 1, False),
    "DiscretizedLogisticMixture": (L.DiscretizedLogisticMixture, dict(num_mixtures=2, channels=3, levels=256),
                                   _x(2, 3, 3, 20), (2, 3, 3, 20), 0, True),
    "QuadrantCrop": (L.QuadrantCrop, {}, [_x(3, 4, 4, 2), np.array([[0], [3], [1]], np.int32)], (3, 2, 2, 2), 0,
                     True),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer(name, tmp_path):
    layer_cls, kwargs, data, shape, weights, deterministic = CASES[name]
    run_layer_test(layer_cls, kwargs, data, shape, expected_num_trainable_weights=weights,
                   deterministic=deterministic, tmp_path=str(tmp_path))


def test_every_registered_layer_has_a_case():
    registered = {name.split(">", 1)[1] for name, obj in keras.saving.get_custom_objects().items()
                  if name.startswith(f"{L.PACKAGE}>") and isinstance(obj, type)
                  and issubclass(obj, keras.layers.Layer) and not issubclass(obj, keras.Model)}
    assert registered and registered == set(CASES), registered ^ set(CASES)


def test_the_helper_catches_a_layer_without_get_config(tmp_path):
    class Unserializable(keras.layers.Layer):  # its constructor argument is not in its config
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

    with pytest.raises(TypeError):
        run_layer_test(Unserializable, dict(factor=2.0), _x(1, 2, 2, 1), (1, 2, 2, 1), tmp_path=str(tmp_path))


def _bilinear_axis(n, factor):
    """PyTorch's bilinear weights along one axis (align_corners=False): an (n * factor, n) matrix."""
    matrix = np.zeros((n * factor, n))
    for i in range(n * factor):
        src = max((i + 0.5) / factor - 0.5, 0.0)
        low = min(int(np.floor(src)), n - 1)
        high, frac = min(low + 1, n - 1), src - low
        matrix[i, low] += 1 - frac
        matrix[i, high] += frac
    return matrix


def test_bilinear_upsample_is_pytorchs_half_pixel_interpolation():
    x = _x(1, 3, 4, 2)
    rows, cols = _bilinear_axis(3, 2), _bilinear_axis(4, 2)
    expected = np.einsum("ih,jw,bhwc->bijc", rows, cols, x)
    np.testing.assert_allclose(L.BilinearUpsample(2)(x).numpy(), expected, atol=1e-6)


def test_nearest_upsample_repeats_every_pixel():
    x = _x(1, 3, 2, 2)
    np.testing.assert_array_equal(L.NearestUpsample(3)(x).numpy(), np.repeat(np.repeat(x, 3, axis=1), 3, axis=2))


@pytest.mark.parametrize("dtype", ["float32", "mixed_float16"])
def test_fused_batchnorm_trains_as_keras_batchnorm(dtype):
    """The fused kernel gives Keras's output, gradients and moving statistics (biased variance), and inference
    goes through Keras's own path."""
    import keras
    import tensorflow as tf

    x = tf.constant(RNG.normal(2.0, 3.0, (4, 5, 6, 8)).astype("float32"))
    fused = L.FusedBatchNormalization(momentum=0.8, dtype=dtype)
    plain = keras.layers.BatchNormalization(momentum=0.8, dtype=dtype)
    for layer in (fused, plain):
        layer.build(x.shape)
        layer.set_weights([RNG.uniform(0.5, 1.5, 8).astype("float32"), RNG.normal(0, 1, 8).astype("float32"),
                           np.zeros(8, "float32"), np.ones(8, "float32")] if layer is fused else fused.get_weights())
    outputs, grads = [], []
    for layer in (fused, plain):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.range(8, dtype=tf.float32))
        outputs.append(tf.cast(y, tf.float32).numpy())
        grads.append([g.numpy() for g in tape.gradient(loss, [x, *layer.trainable_weights])])
    tolerance = 1e-4 if dtype == "float32" else 2e-2
    np.testing.assert_allclose(outputs[0], outputs[1], atol=tolerance * 10, rtol=tolerance)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, atol=tolerance * 10, rtol=tolerance)
    for a, b in zip(fused.non_trainable_weights, plain.non_trainable_weights):  # moving mean and variance
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tf.cast(fused(x), tf.float32).numpy(), tf.cast(plain(x), tf.float32).numpy(),
                               atol=tolerance * 10, rtol=tolerance)


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_prelu_gives_keras_prelus_output_and_gradients(dtype):
    """The one-pass PReLU of the 16-bit precisions computes Keras's PReLU: the same output and gradients (of the
    input and of the slopes), slopes above 1 and negative ones included, where max(x, a * x) would not."""
    import keras
    import tensorflow as tf

    x = tf.constant(RNG.normal(0.0, 2.0, (2, 5, 6, 4)).astype("float32"))
    ours, plain = L.PReLU(shared_axes=[1, 2], dtype=dtype), keras.layers.PReLU(shared_axes=[1, 2], dtype=dtype)
    for layer in (ours, plain):
        layer.build(x.shape)
        layer.set_weights([np.array([0.25, 1.7, -0.4, 0.0], "float32").reshape(1, 1, 4)])
    results = []
    for layer in (ours, plain):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.cast(layer(x), tf.float32)
            loss = tf.reduce_sum(y * tf.range(4, dtype=tf.float32))
        results.append([y.numpy(), *[g.numpy() for g in tape.gradient(loss, [x, layer.alpha])]])
    tolerance = 1e-6 if dtype == "float32" else 1e-2
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance * np.abs(b).max())
