"""Weights files: the legacy Keras-2 layout (written independently here), Keras 3 files, mismatch errors."""

import h5py
import numpy as np
import pytest

from sr_tf import load_weights, save_weights
from sr_tf.models import edsr, srgan, wdsr

# Keras-2 auto names for the tutorial's layers, by class (what its save_weights wrote).
KERAS2_NAMES = {"Conv2D": "conv2d", "BatchNormalization": "batch_normalization", "PReLU": "p_re_lu",
                "WeightNormConv2D": "weight_normalization", "Dense": "dense", "InputLayer": "input",
                "Add": "add", "LeakyReLU": "leaky_re_lu", "Flatten": "flatten"}


def write_keras2_file(model, path):
    """Writes `model`'s weights in the Keras-2 HDF5 layout with tutorial-style names, without sr_tf's writer."""
    counters, names = {}, []
    for layer in model.layers:
        base = KERAS2_NAMES.get(type(layer).__name__, "lambda")
        n = counters.get(base, 0)
        counters[base] = n + 1
        names.append(base if n == 0 else f"{base}_{n}")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array(names, dtype="S")
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.11.0"
        for name, layer in zip(names, model.layers):
            weights = list(layer.trainable_weights) + list(layer.non_trainable_weights)
            weight_names = [f"{name}/{w.name}:0" for w in weights]
            g = f.create_group(name)
            g.attrs["weight_names"] = np.array(weight_names, dtype="S")
            for wn, w in zip(weight_names, weights):
                g.create_dataset(wn, data=w.numpy())


BUILDERS = {
    "srgan": lambda: srgan.generator(num_filters=4, num_res_blocks=2),
    "discriminator": lambda: srgan.discriminator(num_filters=4, hr_size=16),
    "edsr": lambda: edsr.edsr(4, num_filters=4, num_res_blocks=2),
    "wdsr": lambda: wdsr.wdsr_b(2, num_filters=4, num_res_blocks=2),
}


def _randomize(model, rng):
    for w in model.weights:
        if w.dtype != "bool":
            w.assign(rng.normal(size=w.shape).astype("float32") * 0.1 + (1.0 if "variance" in w.name else 0.0))


def _input(model, rng):
    size = model.input_shape[1] or 10
    return rng.uniform(0, 255, (2, size, size, 3)).astype("float32")


@pytest.mark.parametrize("name", list(BUILDERS))
def test_keras2_layout_file_loads_and_gives_the_same_outputs(name, tmp_path, rng):
    original = BUILDERS[name]()
    _randomize(original, rng)
    path = str(tmp_path / "weights.h5")
    write_keras2_file(original, path)
    x = _input(original, rng)
    expected = original(x, training=False).numpy()
    via_keras, via_sr_tf = BUILDERS[name](), BUILDERS[name]()
    via_keras.load_weights(path)  # Keras 3's own reader, as users of the tutorial call it
    load_weights(via_sr_tf, path)
    np.testing.assert_array_equal(via_keras(x, training=False).numpy(), expected)
    np.testing.assert_array_equal(via_sr_tf(x, training=False).numpy(), expected)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_save_weights_round_trips_in_both_formats(name, tmp_path, rng):
    original = BUILDERS[name]()
    _randomize(original, rng)
    x = _input(original, rng)
    expected = original(x, training=False).numpy()
    for filename in ("srgan/pre_generator.h5", "model.weights.h5"):
        path = str(tmp_path / filename)
        save_weights(original, path)
        for loader in (lambda m: m.load_weights(path), lambda m: load_weights(m, path)):
            fresh = BUILDERS[name]()
            loader(fresh)
            np.testing.assert_array_equal(fresh(x, training=False).numpy(), expected)
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_legacy_writer_uses_the_keras2_layout(tmp_path):
    model = BUILDERS["edsr"]()
    path = str(tmp_path / "weights.h5")
    save_weights(model, path)
    with h5py.File(path, "r") as f:
        layer_names = [n.decode() for n in f.attrs["layer_names"]]
        assert layer_names == [layer.name for layer in model.layers]  # weightless layers listed too
        assert f.attrs["backend"] in ("tensorflow", b"tensorflow") and "keras_version" in f.attrs
        conv = model.get_layer("head_conv")
        weight_names = [n.decode() for n in f["head_conv"].attrs["weight_names"]]
        assert all(n.endswith(":0") for n in weight_names)
        np.testing.assert_array_equal(f["head_conv"][weight_names[0]][()], conv.kernel.numpy())
        assert len(f["normalize"].attrs["weight_names"]) == 0


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
def test_mismatched_file_names_the_file_layer_and_shapes(suffix, tmp_path):
    path = str(tmp_path / f"edsr{suffix}")
    save_weights(edsr.edsr(4, num_filters=4, num_res_blocks=2), path)
    wider = edsr.edsr(4, num_filters=8, num_res_blocks=2)
    before = [w.numpy() for w in wider.weights]
    with pytest.raises(ValueError) as info:
        load_weights(wider, path)
    message = str(info.value)
    assert path in message and "head_conv" in message and "(3, 3, 3, 8)" in message and "(3, 3, 3, 4)" in message
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, wider.weights))  # nothing half-loaded
    with pytest.raises(ValueError, match="res3_conv2"):  # the first layer the file does not have
        load_weights(edsr.edsr(4, num_filters=4, num_res_blocks=3), path)


def test_bad_paths(tmp_path):
    model = BUILDERS["edsr"]()
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load_weights(model, str(tmp_path / "nope.h5"))
    with pytest.raises(ValueError, match="must end in"):
        save_weights(model, str(tmp_path / "weights.ckpt"))
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    with pytest.raises(ValueError, match="junk.h5"):
        load_weights(model, str(junk))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_models_save_and_load_the_tutorials_plain_h5_paths_themselves(name, tmp_path, rng):
    from model_helpers import read_keras2_file

    original = BUILDERS[name]()
    _randomize(original, rng)
    path = str(tmp_path / "weights" / "model.h5")
    original.save_weights(path)  # Keras 3 alone refuses any name but *.weights.h5
    with h5py.File(path, "r") as f:
        assert "layer_names" in f.attrs  # the Keras-2 layout
    x = _input(original, rng)
    expected = original(x, training=False).numpy()
    via_model, via_keras2 = BUILDERS[name](), BUILDERS[name]()
    via_model.load_weights(path)
    read_keras2_file(via_keras2, path)
    np.testing.assert_array_equal(via_model(x, training=False).numpy(), expected)
    np.testing.assert_array_equal(via_keras2(x, training=False).numpy(), expected)
    with pytest.raises(ValueError, match="overwrite=False"):
        original.save_weights(path, overwrite=False)
    keras3 = str(tmp_path / "model.weights.h5")
    original.save_weights(keras3)  # Keras 3's own format, unchanged
    with h5py.File(keras3, "r") as f:
        assert "layer_names" not in f.attrs
