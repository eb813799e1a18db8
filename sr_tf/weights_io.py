"""Weights files: Keras 3 `.weights.h5` and the legacy Keras-2 `.h5` layout the original tutorial wrote.

Legacy layout (what Keras 2's `model.save_weights('x.h5')` wrote, read by order of layers):

    /                     attrs: layer_names (every layer, in model order), backend, keras_version
    /<layer_name>         attrs: weight_names (e.g. b'conv2d/kernel:0'); empty for layers without weights
    /<layer_name>/<weight_name>   one dataset per weight, trainable weights first, then non-trainable ones

Keras 3 still reads this layout with `model.load_weights`, but refuses to write any name that does not end in
`.weights.h5`. `save_weights` below writes it itself, so the tutorial's paths keep working in both directions.
"""

import os
import re

import h5py
import numpy as np

from sr_tf.atomic import atomic_write
from sr_tf.errors import InputFileNotFoundError, UserInputError

KERAS_3_SUFFIX = ".weights.h5"
# HDF5 object headers hold at most 64 KiB of attributes; Keras 2 split long name lists into chunks.
_HDF5_ATTR_LIMIT = 64512


def _legacy_weights(layer):
    """A layer's variables in the order Keras 2 stored them: trainable first, then non-trainable."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _weight_name(layer, variable):
    # Keras 2 names looked like 'conv2d/kernel:0'; only their order matters when loading.
    return f"{layer.name}/{variable.name}:0"


def _write_attribute(group, name, values):
    data = np.asarray(values, dtype="S")
    chunks = 1
    while data.nbytes / chunks > _HDF5_ATTR_LIMIT:
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
    else:
        for i, chunk in enumerate(np.array_split(data, chunks)):
            group.attrs[f"{name}{i}"] = chunk


def _read_attribute(group, name):
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in values]


def load_keras_model(path):
    """Loads a whole model from a `.keras` file in safe mode; every way the file can be wrong is one line.

    Raises:
        InputFileNotFoundError: the file does not exist.
        UserInputError: naming the file and what is wrong with it: not a `.keras` archive (or cut short), a
            `Lambda` layer (arbitrary code, which safe mode refuses), or a model Keras cannot rebuild.
    """
    import zipfile

    import keras

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"Model file not found: {path}")
    if not path.endswith(".keras"):
        raise UserInputError(f"Expected a .keras model file (it holds the architecture). Received: {path}")
    if not zipfile.is_zipfile(path):
        raise UserInputError(f"{path} is not a .keras archive (it is cut short or in another format).")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # noqa: BLE001 - Keras reports bad files with many exception types
        reason = " ".join(str(e).split())
        if "lambda" in reason.lower() and "safe_mode" in reason:
            raise UserInputError(f"{path} contains a Lambda layer (arbitrary Python code), which safe mode does not "
                                 "load. Rebuild the model without Lambda layers, or load it yourself with "
                                 "safe_mode=False if you trust its source.") from None
        raise UserInputError(f"{path} could not be loaded as a Keras model ({type(e).__name__}: "
                             f"{reason[:300]}).") from None


def save_model(model, path):
    """Saves a whole model (architecture and weights) as a `.keras` file, atomically (temporary file + rename).

    Raises:
        UserInputError: if `path` does not end in `.keras`.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise UserInputError(f"A whole model is saved as '.keras'. Received: {path}")
    atomic_write(path, model.save)


def save_weights(model, path):
    """Saves a model's weights; the file name picks the format.

    A path ending in `.weights.h5` gets Keras 3's format. Any other `.h5` path (the tutorial's
    `weights/srgan/pre_generator.h5`, for example) gets the legacy Keras-2 layout, which Keras 3's
    `model.load_weights` and the original Keras-2 code both read. The file is written to a temporary name and
    renamed, so an interruption never leaves a truncated weights file behind.

    Args:
        model: a built `keras.Model`.
        path: destination file; parent folders are created.

    Raises:
        UserInputError: if `path` does not end in `.h5`.
    """
    path = os.fspath(path)
    if not path.endswith(".h5"):
        raise UserInputError(f"Weights path must end in '.weights.h5' (Keras 3) or '.h5' (legacy). Received: {path}")
    if path.endswith(KERAS_3_SUFFIX):
        atomic_write(path, lambda tmp: model.save_weights(tmp, overwrite=True))
    else:
        atomic_write(path, lambda tmp: _save_legacy(model, tmp))


def _save_legacy(model, path):
    with h5py.File(path, "w") as f:
        _write_attribute(f, "layer_names", [layer.name for layer in model.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.15.0"
        for layer in model.layers:
            group = f.create_group(layer.name)
            weights = _legacy_weights(layer)
            names = [_weight_name(layer, w) for w in weights]
            _write_attribute(group, "weight_names", names)
            for name, w in zip(names, weights):
                value = np.asarray(w.numpy())
                group.create_dataset(name, data=value)


def _describe(layer):
    return f"layer '{layer.name}' ({type(layer).__name__})"


def load_weights(model, path):
    """Loads weights saved by `save_weights`, by Keras 3, or by the original Keras-2 tutorial.

    `.weights.h5` files are read by Keras 3 (matched by layer name); other `.h5` files, and a legacy file renamed
    to `.weights.h5`, are read in the legacy layout (matched by the order of layers that have weights), after
    checking that every layer and shape fits.

    Args:
        model: a built `keras.Model` of the architecture the file was written for.
        path: the weights file.

    Raises:
        InputFileNotFoundError: if `path` does not exist.
        UserInputError: if the file does not fit the model; the message names the file, the first mismatching layer
            and the shapes.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"Weights file not found: {path}")
    if path.endswith(KERAS_3_SUFFIX) and not _has_legacy_layout(path):
        _check_keras3(model, path)
        model.load_weights(path)
        return
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise UserInputError(f"{path} is not a readable HDF5 weights file ({e}).") from e
    with f:
        values = _read_legacy(_legacy_group(f), path)
        _assign_legacy(model, values, path)


def _legacy_group(f):
    """The group of an open HDF5 file that holds Keras 2's layout: the file, or its `model_weights` for a
    whole-model legacy .h5 (model.save('x.h5'))."""
    if "layer_names" not in f.attrs and "layer_names0" not in f.attrs and "model_weights" in f:
        return f["model_weights"]
    return f


def _has_legacy_layout(path):
    """Whether an HDF5 file holds Keras 2's layout (a `layer_names` attribute, at the top or in `model_weights`)."""
    try:
        with h5py.File(path, "r") as f:
            attrs = _legacy_group(f).attrs
            return "layer_names" in attrs or "layer_names0" in attrs
    except OSError:
        return False  # not HDF5: Keras 3's reader says so


def _read_legacy(group, path):
    layer_names = _read_attribute(group, "layer_names")
    if not layer_names:
        raise UserInputError(
            f"{path} is not a Keras weights file in the legacy layout (no 'layer_names' attribute). "
            "Keras 3 weights files must be named '*.weights.h5'."
        )
    saved = []
    for name in layer_names:
        weight_names = _read_attribute(group[name], "weight_names")
        if weight_names:
            saved.append((name, [np.asarray(group[name][w]) for w in weight_names]))
    return saved


def legacy_shapes(path):
    """The weight shapes of a legacy Keras-2 `.h5` file, layer by layer ([[shape, ...], ...]), or None when it is
    not such a file."""
    try:
        with h5py.File(os.fspath(path), "r") as f:
            return [[tuple(v.shape) for v in values] for _, values in _read_legacy(_legacy_group(f), path)]
    except (OSError, UserInputError):
        return None


def model_legacy_shapes(model):
    """The weight shapes of `model` in the order a legacy `.h5` file stores them (see `legacy_shapes`)."""
    return [[tuple(w.shape) for w in _legacy_weights(layer)] for layer in model.layers if _legacy_weights(layer)]


def _assign_legacy(model, saved, path):
    layers = [layer for layer in model.layers if _legacy_weights(layer)]
    pairs = list(zip(layers, saved))
    # Check everything before assigning anything, so a bad file leaves the model untouched.
    for layer, (saved_name, values) in pairs:
        k = model.layers.index(layer)
        expected = [tuple(w.shape) for w in _legacy_weights(layer)]
        received = [tuple(v.shape) for v in values]
        if expected != received:
            raise UserInputError(
                f"Weights file {path} does not fit model '{model.name}': layer #{k}, {_describe(layer)}, expects "
                f"weight shapes {expected} but the file's layer '{saved_name}' has {received}."
            )
    if len(layers) != len(saved):
        k = len(pairs)
        model_side = _describe(layers[k]) if k < len(layers) else "no more layers"
        file_side = f"layer '{saved[k][0]}'" if k < len(saved) else "no more layers"
        k = model.layers.index(layers[k]) if k < len(layers) else len(model.layers)
        raise UserInputError(
            f"Weights file {path} does not fit model '{model.name}': the model has {len(layers)} layers with "
            f"weights, the file {len(saved)}. First mismatch at layer #{k}: model has {model_side}, file has "
            f"{file_side}."
        )
    for layer, (_, values) in pairs:
        for variable, value in zip(_legacy_weights(layer), values):
            variable.assign(value)


def _snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _keras3_entries(model):
    """(layer, key) pairs as Keras 3 names layers inside `.weights.h5`: snake-cased class name plus a counter."""
    used = {}
    for layer in model.layers:
        key = _snake_case(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        yield layer, f"layers/{key}"


def _check_keras3(model, path):
    """Compares a `.weights.h5` file's per-layer variable shapes with the model before Keras loads it."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise UserInputError(f"{path} is not a readable HDF5 weights file (cut short or another format: {e}).") \
            from None
    with f:
        if "layers" not in f:
            return  # not a functional model's file: let Keras report whatever it finds
        checked = 0
        for k, (layer, key) in enumerate(_keras3_entries(model)):
            expected = [tuple(v.shape) for v in layer.weights]
            if not expected:
                continue
            checked += 1
            variables = f.get(f"{key}/vars")
            received = [] if variables is None else [
                tuple(variables[i].shape) for i in sorted(variables.keys(), key=int)
            ]
            if expected != received:
                raise UserInputError(
                    f"Weights file {path} does not fit model '{model.name}': layer #{k}, {_describe(layer)}, "
                    f"expects weight shapes {expected} but the file's entry '{key}' has {received or 'nothing'}."
                )
        in_file = sum(1 for g in f["layers"].values() if isinstance(g, h5py.Group) and len(g.get("vars", {})))
        if in_file != checked:
            raise UserInputError(
                f"Weights file {path} does not fit model '{model.name}': the model has {checked} layers with "
                f"weights, the file {in_file}."
            )
