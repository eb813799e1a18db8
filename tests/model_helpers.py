"""Model helpers the tests share: Keras round trips, `run_layer_test` (a custom layer checked the way
keras-hub's TestCase does), `run_model_test`, tiny PixelCNNs and FastGANs, a Keras-2 `.h5` reader."""

import functools
import os

import keras
import numpy as np
from helpers import random_image, write_png
from PIL import Image

FASTGAN_TINY_D = dict(ndf=4, decoder_width=4)


FASTGAN_TINY_G = dict(ngf=4, nz=8)


PIXELCNN_CASES = ["pixelcnn-grey", "pixelcnn-rgb", "gated-grey", "gated-rgb-conditional", "pixelcnn-rgb-mixture"]


def keras_round_trip(model, tmp_path):
    """Saves a model as .keras and loads it back in safe mode."""
    import keras

    path = os.path.join(tmp_path, f"{model.name}.keras")
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True)


def randomize_batchnorm(model, seed=0):
    """Random moving statistics, so inference-mode BatchNorm is not the identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.2, layer.moving_mean.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, layer.moving_variance.shape).astype("float32"))
    return model


def tiny_pixelcnn(name):
    """(model, labels) of one tiny network variant of PIXELCNN_CASES. All are built on first use, in one
    seeded sequence, and shared by the tests (none is built at import time)."""
    return _tiny_pixelcnns()[name]


@functools.lru_cache(maxsize=None)
def _tiny_pixelcnns():
    from sr_tf.models import pixelcnn

    keras.utils.set_random_seed(3)
    return {
        "pixelcnn-grey": (randomize_batchnorm(pixelcnn.pixelcnn((6, 7, 1), num_res_blocks=2, hidden=8, levels=4)),
                          None),
        "pixelcnn-rgb": (randomize_batchnorm(pixelcnn.pixelcnn((5, 6, 3), num_res_blocks=2, hidden=12, levels=5)),
                         None),
        "gated-grey": (pixelcnn.gated_pixelcnn((6, 7, 1), num_layers=3, hidden=8, levels=4), None),
        "gated-rgb-conditional": (pixelcnn.gated_pixelcnn((5, 6, 3), num_layers=2, hidden=12, levels=5, num_classes=3),
                                  np.array([0, 1, 2, 1], np.int32)),
        "pixelcnn-rgb-mixture": (randomize_batchnorm(pixelcnn.pixelcnn((5, 6, 3), num_res_blocks=2, hidden=12,
                                                                       head="logistic_mixture", num_mixtures=3)),
                                 None),
    }


def tiny_fastgan(im_size=64):
    """A tiny FastGAN (generator, discriminator) pair."""
    from sr_tf.models import fastgan

    return fastgan.generator(im_size, **FASTGAN_TINY_G), fastgan.discriminator(im_size, **FASTGAN_TINY_D)


def write_gan_folder(root, rng, n=5):
    """A folder of images for the GAN pipeline: n PNGs (some in a sub-folder), a JPEG, a WebP, a broken PNG
    and a text file."""
    for i in range(n):
        write_png(str(root / ("sub" if i % 2 else "") / f"img{i}.png"), random_image(rng, 40 + i, 48))
    Image.fromarray(random_image(rng, 30, 30)).save(root / "photo.jpg")
    Image.fromarray(random_image(rng, 30, 30)).save(root / "photo.webp")
    (root / "broken.png").write_bytes(b"not a png")
    (root / "notes.txt").write_text("ignored")
    return root


def run_layer_test(layer_cls, init_kwargs, input_data, expected_output_shape, expected_num_trainable_weights=None,
                   deterministic=True, tmp_path=None):
    """Checks a custom layer the way keras-hub's `TestCase.run_layer_test` does, on one small input.

    1. Config: `from_config(get_config())` gives the same config.
    2. Build: a call builds the layer, with `expected_num_trainable_weights` trainable weights when given.
    3. Symbolic call: on `keras.Input`s the output has `expected_output_shape` (batch dimension left free).
    4. Eager call: the output has `expected_output_shape`; a layer rebuilt from the config with the same weights
       gives the same output (when `deterministic`).
    5. `.keras` round trip: a model around the layer, saved and loaded in safe mode, gives the same output.
    6. Gradient step: every trainable weight gets a finite gradient and an SGD step changes it (a layer without
       weights must pass a gradient to its floating-point input).
    7. `mixed_float16`: variables stay float32, the output is float16 and close to the float32 output.

    Args:
        layer_cls: the layer class.
        init_kwargs: its constructor arguments.
        input_data: a numpy array, or a list of arrays for a layer with several inputs.
        expected_output_shape: the output shape for `input_data`.
        expected_num_trainable_weights: optional count to check.
        deterministic: False for layers that draw fresh randomness at every call (compares shapes only).
        tmp_path: a folder for the `.keras` file.
    """
    import tensorflow as tf

    multi = isinstance(input_data, (list, tuple))
    inputs = [tf.constant(x) for x in input_data] if multi else tf.constant(input_data)
    flat = inputs if multi else [inputs]

    def call(layer, x=inputs, **kwargs):
        return layer(x, **kwargs)

    def same(a, b, tolerance=1e-6):
        if deterministic:
            np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=tolerance,
                                       atol=tolerance)
        assert tuple(a.shape) == tuple(b.shape)

    # 1. config round trip
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config
    # 2, 4. build by an eager call; expected shape
    output = call(layer)
    assert layer.built and tuple(output.shape) == tuple(expected_output_shape)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    twin = layer_cls.from_config(config)
    call(twin)
    twin.set_weights(layer.get_weights())
    same(call(layer), call(twin))
    # 3. symbolic call
    symbolic = [keras.Input(shape=x.shape[1:], dtype=x.dtype.name) for x in flat]
    symbolic_output = layer_cls(**init_kwargs)(symbolic if multi else symbolic[0])
    assert tuple(symbolic_output.shape) == (None, *expected_output_shape[1:])
    # 5. .keras round trip in safe mode
    model = keras.Model(symbolic if multi else symbolic[0], symbolic_output)
    model.layers[-1].set_weights(layer.get_weights())
    path = os.path.join(tmp_path, f"{layer_cls.__name__}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded.layers[-1]) is layer_cls
    same(model(inputs), loaded(inputs))
    # 6. gradient step
    float_inputs = [x for x in flat if x.dtype.is_floating]
    with tf.GradientTape() as tape:
        tape.watch(float_inputs)
        loss = tf.reduce_sum(tf.square(tf.cast(call(layer, training=True), tf.float32)))
    variables = layer.trainable_variables
    gradients = tape.gradient(loss, variables + float_inputs)
    assert all(g is not None and np.isfinite(np.asarray(g)).all() for g in gradients[:len(variables)])
    if variables:
        before = [v.numpy().copy() for v in variables]
        keras.optimizers.SGD(0.1).apply_gradients(zip(gradients[:len(variables)], variables))
        assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, variables))
    else:
        assert gradients and gradients[0] is not None
    # 7. mixed precision
    mixed = layer_cls(**init_kwargs, dtype="mixed_float16")
    mixed_output = call(mixed)
    assert mixed_output.dtype == tf.float16
    assert all(v.dtype == "float32" for v in mixed.weights if v.dtype in ("float16", "float32"))
    mixed.set_weights(layer.get_weights())
    same(call(mixed), call(layer), tolerance=5e-2)


def read_keras2_file(model, path):
    """Loads a Keras-2 HDF5 weights file into `model` the way Keras 2's `load_weights` did, without sr_tf's reader:
    the file's layers that hold weights are matched in order to the model's layers that hold weights, each layer's
    weights (trainable first, then non-trainable) in the order of its `weight_names`, shapes checked.

    Returns the number of layers loaded.
    """
    import h5py

    def names(attrs, key):
        values = list(attrs[key]) if key in attrs else [v for i in range(99) if f"{key}{i}" in attrs
                                                          for v in attrs[f"{key}{i}"]]
        return [v.decode() if isinstance(v, bytes) else str(v) for v in values]

    with h5py.File(path, "r") as f:
        saved = [[np.asarray(f[name][w]) for w in names(f[name].attrs, "weight_names")]
                 for name in names(f.attrs, "layer_names")]
    saved = [values for values in saved if values]
    layers = [layer for layer in model.layers if layer.weights]
    assert len(saved) == len(layers), f"{path}: {len(saved)} layers with weights, the model {len(layers)}"
    for layer, values in zip(layers, saved):
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        assert [tuple(v.shape) for v in variables] == [v.shape for v in values], layer.name
        for variable, value in zip(variables, values):
            variable.assign(value)
    return len(layers)


def run_model_test(architecture, inputs, tmp_path, legacy_h5=False, deterministic=True):
    """Checks a model family at one architecture the way keras-hub's model tests do, and returns the model:

    - built from the spec, the model remembers it (`model.spec == architecture`) and runs on `inputs`;
    - `get_config()` alone rebuilds it (`from_config`, no builder call), spec included, weight for weight;
    - a `.keras` round trip in safe mode gives the same spec, weights and outputs;
    - `.weights.h5` (and, with `legacy_h5`, the legacy Keras-2 `.h5`) written from it load into a fresh model
      built from the spec with equal outputs;
    - one step of `fit` runs, with a finite loss, and changes the weights.

    `deterministic=False` (a model that draws noise in every call) compares weights instead of outputs.
    """
    import keras

    from sr_tf.weights_io import load_weights, save_weights

    model = architecture.build()
    assert model.spec == architecture
    outputs = keras.tree.flatten(model(inputs, training=False))

    def same(other):
        if deterministic:
            for a, b in zip(outputs, keras.tree.flatten(other(inputs, training=False))):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-4)
        for a, b in zip(model.get_weights(), other.get_weights()):
            np.testing.assert_array_equal(a, b)

    config = model.get_config()
    assert config["spec"] == architecture.get_config()
    rebuilt = type(model).from_config(config)
    assert rebuilt.spec == architecture and len(rebuilt.weights) == len(model.weights)
    rebuilt.set_weights(model.get_weights())
    same(rebuilt)

    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.spec == architecture
    same(loaded)

    files = [os.path.join(tmp_path, "model.weights.h5")] + ([os.path.join(tmp_path, "legacy.h5")] if legacy_h5 else [])
    for weights in files:
        save_weights(model, weights)
        fresh = architecture.build()
        load_weights(fresh, weights)
        same(fresh)

    before = [w.copy() for w in model.get_weights()]
    # Targets of ones, not zeros: a tiny model whose ReLUs are all dead on the batch outputs exactly its (zero) output
    # biases, and zero targets would then give zero gradients everywhere; ones always move the output biases.
    targets = [np.ones(o.shape, np.float32) for o in outputs]
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=["mse"] * len(targets))
    history = model.fit(inputs, targets if len(targets) > 1 else targets[0], epochs=1, batch_size=len(targets[0]),
                        verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    return model
