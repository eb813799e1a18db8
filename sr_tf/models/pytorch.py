"""`from_pytorch`: PyTorch weights (official releases' state dicts) as this package's Keras models, the family and
its architecture detected from the state dict.

Each family that reads PyTorch weights registers a `StateDictFormat` from its models module (`register`, as
`sr_tf/models/realesrgan_import.py` does for RRDBNet and SRVGGNetCompact): a `detect` condition on the keys, the
architecture the state dict holds, and the map from its Keras layers to the state dict's keys. Detection tries the
formats in the order of their `priority` (then of registration), as spandrel's registry does, so a narrow condition
can go before a broad one. This module holds what every format shares: reading the file, the checks that no key is
missing, extra or misshapen, and the default conversion of a tensor (convolution kernels from PyTorch's
(out, in, kh, kw) to Keras's (kh, kw, in, out); any other tensor reshaped to the Keras weight's shape).
"""

import dataclasses
from typing import Callable

import numpy as np

from sr_tf.errors import UserInputError
from sr_tf.models.pytorch_files import read_state_dict


@dataclasses.dataclass(frozen=True)
class StateDictFormat:
    """How a family's PyTorch state dicts are recognised and converted.

    Attributes:
        family: the spec family it gives (`specs.family(family)`).
        detect: state dict -> True when it looks like this family's (a cheap condition on its keys).
        architecture: (state dict, path) -> the architecture spec it holds (a `UserInputError` naming `path` when
            its shapes make no such architecture).
        layers: architecture -> {Keras layer name: (state dict key prefix, (parameter names, in the order of the
            layer's weights))}.
        convert: (architecture, layer name, [arrays]) -> [arrays]: a layer's tensors as its Keras weights; None:
            the default (`default_convert`). Called before the shapes are checked.
        rename: state dict -> the same under the family's key names (an older release's layout); None: as read.
        priority: lower goes first in detection.
    """

    family: str
    detect: Callable
    architecture: Callable
    layers: Callable
    convert: Callable = None
    rename: Callable = None
    priority: int = 0


FORMATS = {}  # family -> StateDictFormat


def register(state_dict_format):
    """Registers a family's `StateDictFormat` (one per family; registering again replaces it)."""
    FORMATS[state_dict_format.family] = state_dict_format
    return state_dict_format


def formats():
    """The registered formats in detection order."""
    ordered = list(FORMATS.values())
    return sorted(ordered, key=lambda f: (f.priority, ordered.index(f)))


def kernel(weight):
    """A PyTorch convolution kernel (out, in, kh, kw) as Keras's (kh, kw, in, out)."""
    return np.transpose(weight, (2, 3, 1, 0))


def default_convert(values, shapes):
    """Each 4-D tensor as a Keras kernel, and any other reshaped to its Keras weight's shape when the sizes agree."""
    converted = []
    for value, shape in zip(values, shapes):
        if value.ndim == 4:
            value = kernel(value)
        elif value.shape != shape and value.size == int(np.prod(shape)):
            value = value.reshape(shape)
        converted.append(value)
    return converted


def shuffle_permutation(channels, factor):
    """For each TensorFlow (depth_to_space / space_to_depth) channel index, the PyTorch (pixel_shuffle /
    pixel_unshuffle) channel index: TensorFlow orders them (row offset, column offset, channel), PyTorch (channel,
    row offset, column offset)."""
    return np.array([c * factor * factor + offset for offset in range(factor * factor) for c in range(channels)])


def read_weights(path):
    """The state dict of a PyTorch weights file (`read_state_dict`), in its family's key names (each registered
    format's `rename`)."""
    state = read_state_dict(path)
    for found in formats():
        if found.rename is not None:
            state = found.rename(state)
    return state


def detect(state, path="the file"):
    """The architecture spec of a state dict: that of the first registered format whose `detect` accepts it."""
    for found in formats():
        if found.detect(state):
            return found.architecture(state, path)
    keys = ", ".join(list(state)[:4])
    known = ", ".join(sorted(FORMATS)) or "none registered"
    raise UserInputError(f"{path} holds a state dict of no family this package reads (families: {known}; its "
                         f"first keys: {keys}).")


def load_state_dict(model, state, path="the file"):
    """Assigns a PyTorch state dict to a Keras model of a registered family (built from its detected spec); a
    missing, extra or misshapen key is a `UserInputError` naming it."""
    spec = model.spec
    if spec.family not in FORMATS:
        raise UserInputError(f"No PyTorch weights format is registered for the {spec.family} family; families with "
                             f"one: {', '.join(sorted(FORMATS))}.")
    found = FORMATS[spec.family]
    used = set()
    for layer_name, (prefix, names) in found.layers(spec).items():
        layer = model.get_layer(layer_name)
        values = []
        for name in names:
            key = f"{prefix}.{name}"
            if key not in state:
                raise UserInputError(f"{path} lacks {key}, which {spec.describe()} needs.")
            used.add(key)
            values.append(np.asarray(state[key]))
        expected = [tuple(w.shape) for w in layer.weights]
        values = (default_convert(values, expected) if found.convert is None else
                  found.convert(spec, layer_name, default_convert(values, expected)))
        if [v.shape for v in values] != expected:
            raise UserInputError(f"{path}: {prefix} has shapes {[v.shape for v in values]}, but the layer {layer_name} "
                                 f"of {spec.describe()} needs {expected}.")
        layer.set_weights([v.astype("float32") for v in values])
    extra = sorted(set(state) - used)
    if extra:
        raise UserInputError(f"{path} holds {extra[0]}" + (f" and {len(extra) - 1} more keys" if len(extra) > 1 else "")
                             + f" that {spec.describe()} does not have.")
    return model


def from_pytorch(path):
    """The Keras model of a PyTorch weights file, its family and architecture detected from the state dict.

    Args:
        path: `RealESRGAN_x4plus.pth`, `RealESRGAN_x2plus.pth`, `realesr-general-x4v3.pth`, ... (a `torch.save`
            zip archive, read without PyTorch and without running pickled code), or a `.safetensors` file.

    Returns:
        The `sr_tf.models.Model` (RGB 0..255 in and out) with `spec` set and the file's weights.
    """
    state = read_weights(path)
    spec = detect(state, path)
    return load_state_dict(spec.build(), state, path)
