"""Self-ensemble (EDSR+): unchanged for a model that commutes with flips and rotations by construction, the
mean of the 8 back-transformed outputs otherwise, and the same with tiles."""

import keras
import numpy as np
from helpers import random_image

from sr_tf import resolve_single
from sr_tf.models import edsr


def symmetric_model(seed=0):
    """Conv 3x3 whose every kernel slice is invariant under the square's symmetries (zero 'same' padding is too),
    then nearest x2 upsampling: a model that commutes with flips and 90-degree rotations by construction."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0.05, 0.3, (3, 3, 3)).astype(np.float32)  # corner, edge, centre weights per in/out
    kernel = np.empty((3, 3, 3, 3), np.float32)
    kernel[[0, 0, 2, 2], [0, 2, 0, 2]] = a
    kernel[[0, 1, 1, 2], [1, 0, 2, 1]] = b
    kernel[1, 1] = c
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(3, 3, padding="same", use_bias=False)(inputs)
    model = keras.Model(inputs, keras.layers.UpSampling2D(2)(x))
    model.layers[1].set_weights([kernel])
    return model


def test_equivariant_model_is_unchanged(rng):
    model = symmetric_model()
    image = random_image(rng, 11, 14)
    plain = model(image[None].astype(np.float32)).numpy()[0]
    rotated = model(np.rot90(image, 1)[None].astype(np.float32)).numpy()[0]
    np.testing.assert_allclose(np.rot90(plain, 1), rotated, atol=1e-3)  # the construction holds
    np.testing.assert_array_equal(resolve_single(model, image, self_ensemble=True), resolve_single(model, image))


def test_other_models_average_the_eight_back_transformed_outputs(rng):
    model = edsr.edsr(2, num_filters=4, num_res_blocks=1)
    image = random_image(rng, 10, 13)
    outputs = []
    for flip in (False, True):
        source = image[:, ::-1] if flip else image
        for k in range(4):
            out = model(np.rot90(source, k)[None].astype(np.float32)).numpy()[0]
            out = np.rot90(out, -k)
            outputs.append(out[:, ::-1] if flip else out)
    expected = np.clip(np.round(np.mean(outputs, axis=0)), 0, 255)
    got = resolve_single(model, image, self_ensemble=True)
    assert got.shape == (20, 26, 3)
    assert np.abs(got.astype(float) - expected).max() <= 1
    assert np.abs(got.astype(float) - resolve_single(model, image)).max() >= 1  # not the plain output
    tiled = resolve_single(model, image, tile=4, tile_pad=8, self_ensemble=True)
    assert np.abs(tiled.astype(int) - got).max() <= 1
