"""`from_ncnn`: ncnn models (`.param` + `.bin`, as realesrgan-ncnn-vulkan and Upscayl ship them) as this package's
Keras models.

The `.param` text is read layer by layer, and each family that reads ncnn graphs registers an `NcnnFormat` from
its models module (`register`; `sr_tf/models/realesrgan_import.py` does for SRVGGNetCompact and RRDBNet): a
`detect` condition on the graph, the architecture's sizes it reads from the graph (refusing, by name, any layer its
graph has not), and the PyTorch key of each weighted layer in graph order. The `.bin` is read as ncnn reads it:
each convolution's weights behind a 4-byte tag (float16, int8, a 256-value table, or raw float32), then its biases
(and, for int8, its scales) and the PReLU slopes as raw float32; the bytes consumed must equal the file's size. int8
weights are divided by their per-channel scales: the float weights of the int8 model, whose run-time quantization
of activations is not reproduced. The weights become a PyTorch-layout state dict (the authors' key names), which
`sr_tf.models.pytorch` detects and assigns: a model read from ncnn equals the same weights read from a `.pth`.

A graph that ends in a resize (realesr-animevideov3's x2 and x3 files hold the x4 network followed by a bicubic
Interp of 0.5 or 0.75) is read as the network, and the resize is returned as `final_scale` for the caller to apply
(`--outscale`).
"""

import dataclasses
import os
import re
from typing import Callable

import numpy as np

from sr_tf.errors import InputFileNotFoundError, UserInputError

MAGIC = "7767517"
TAG_FLOAT16, TAG_INT8, TAG_RAW = 0x01306B47, 0x000D4B38, 0x0002C056
WEIGHTED = ("Convolution", "PReLU")  # the layers whose weights the .bin holds, in graph order


@dataclasses.dataclass(frozen=True)
class NcnnFormat:
    """How a family's ncnn graphs are recognised and read.

    Attributes:
        family: the spec family the graph is.
        detect: layers (`read_param`'s) -> True when the graph looks like this family's.
        sizes: (layers, path) -> (the architecture's sizes as a dict, the final resize factor or None); a
            `UserInputError` naming `path` and the layer when the graph is not one of the family.
        keys: sizes -> [(layer type, PyTorch key prefix)] of each weighted layer (`WEIGHTED`) in graph order.
        priority: lower goes first in detection.
    """

    family: str
    detect: Callable
    sizes: Callable
    keys: Callable
    priority: int = 0


FORMATS = {}  # family -> NcnnFormat


def register(ncnn_format):
    """Registers a family's `NcnnFormat` (one per family; registering again replaces it)."""
    FORMATS[ncnn_format.family] = ncnn_format
    return ncnn_format


def read_param(path):
    """The layers of an ncnn `.param` file: [(type, name, inputs, outputs, {param id: text value})]."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"ncnn .param file not found: {path}")
    try:
        with open(path, encoding="ascii") as f:
            lines = [line.split() for line in f if line.strip()]
    except UnicodeDecodeError:
        raise UserInputError(f"{path} is not an ncnn .param text file (a binary .param.bin is not read).") from None
    if not lines or lines[0] != [MAGIC] or len(lines) < 2 or len(lines[1]) != 2:
        raise UserInputError(f"{path} is not an ncnn .param file: it must start with the line {MAGIC} and the layer "
                             "and blob counts.")
    layers = []
    for number, fields in enumerate(lines[2:], start=3):
        try:
            kind, name, n_in, n_out = fields[0], fields[1], int(fields[2]), int(fields[3])
            inputs, outputs = fields[4:4 + n_in], fields[4 + n_in:4 + n_in + n_out]
            params = dict(item.split("=", 1) for item in fields[4 + n_in + n_out:])
        except (IndexError, ValueError):
            raise UserInputError(f"{path}, line {number}: not an ncnn layer line: {' '.join(fields)[:80]}") from None
        layers.append((kind, name, inputs, outputs, params))
    if int(lines[1][0]) != len(layers):
        raise UserInputError(f"{path} declares {lines[1][0]} layers but holds {len(layers)}.")
    return layers


def param_int(params, key, default=0):
    """An integer parameter of a layer line (`key=value`), or `default`."""
    return int(params.get(key, default))


def convolutions(layers):
    """[(name, params)] of the graph's Convolution layers, in order."""
    return [(name, params) for kind, name, _, _, params in layers if kind == "Convolution"]


def refuse_others(path, layers, allowed, family):
    """A `UserInputError` naming the first layer whose type is not in `allowed` (the family's graph's)."""
    for kind, name, _, _, _ in layers:
        if kind not in allowed:
            raise UserInputError(f"{path}: layer {name} ({kind}) is not part of an {family} graph; from_ncnn reads "
                                 f"the graphs of {', '.join(sorted(FORMATS))}.")


def detect_graph(layers, path="the file"):
    """(family, the architecture's sizes, the final resize factor or None) of a parsed `.param` graph: those of
    the first registered format whose `detect` accepts it."""
    for found in sorted(FORMATS.values(), key=lambda f: f.priority):
        if found.detect(layers):
            sizes, final = found.sizes(layers, path)
            return found.family, sizes, final
    raise UserInputError(f"{path} is a graph of no family this package reads from ncnn ({', '.join(sorted(FORMATS))}).")


class _Bin:
    """The `.bin` file read as ncnn's ModelBin does."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        self.offset = 0

    def take(self, size, what):
        if self.offset + size > len(self.data):
            raise UserInputError(f"{self.path} is cut short: {what} needs {size} bytes at offset {self.offset}, but "
                                 f"the file has {len(self.data)}.")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def raw(self, count, what):
        return np.frombuffer(self.take(4 * count, what), "<f4").copy()

    def tagged(self, count, what):
        """`count` weights behind their 4-byte tag, as ncnn's ModelBin reads them: float16, int8 (its scales
        follow the layer's biases), raw float32 (tag 0 or 0x0002C056), or uint8 indices into a table of 256
        floats (any other tag whose bytes do not sum to 0). Returns (values, is_int8)."""
        flag = self.take(4, what)
        tag = int.from_bytes(flag, "little")
        if tag == TAG_FLOAT16:
            values = np.frombuffer(self.take(2 * count, what), "<f2").astype(np.float32)
            self.take((-2 * count) % 4, what)  # padded to 4 bytes
            return values, False
        if tag == TAG_INT8:
            values = np.frombuffer(self.take(count, what), "i1").astype(np.float32)
            self.take((-count) % 4, what)
            return values, True
        if tag == TAG_RAW or sum(flag) == 0:
            return self.raw(count, what), False
        table = self.raw(256, what)
        indices = np.frombuffer(self.take(count, what), "u1")
        self.take((-count) % 4, what)
        return table[indices], False


def read_ncnn(param_path, bin_path=None):
    """(PyTorch-layout state dict, family, sizes, final resize or None) of an ncnn model.

    Args:
        param_path: the `.param` file.
        bin_path: its `.bin` file (default: beside it, the same name with `.bin`).
    """
    param_path = os.fspath(param_path)
    bin_path = bin_path or re.sub(r"\.param$", "", param_path) + ".bin"
    layers = read_param(param_path)
    family, sizes, final = detect_graph(layers, param_path)
    if not os.path.isfile(bin_path):
        raise InputFileNotFoundError(f"ncnn .bin file not found: {bin_path} (expected beside {param_path}).")
    weights = _Bin(bin_path)
    state, keys = {}, iter(FORMATS[family].keys(sizes))
    for kind, name, _, _, params in layers:
        if kind not in WEIGHTED:
            continue
        expected, key = next(keys, (None, None))
        if expected != kind:
            raise UserInputError(f"{param_path}: layer {name} ({kind}) is not where the {family} graph has "
                                 f"{'no more weighted layers' if expected is None else 'a ' + expected}.")
        if kind == "Convolution":
            out = param_int(params, "0")
            kernel_w = param_int(params, "1")
            kernel_h = param_int(params, "11", kernel_w)
            size = param_int(params, "6")
            if size % (out * kernel_h * kernel_w):
                raise UserInputError(f"{param_path}: layer {name} has {size} weights for {out} outputs of "
                                     f"{kernel_h}x{kernel_w}.")
            values, is_int8 = weights.tagged(size, f"layer {name}'s weights")
            values = values.reshape(out, -1, kernel_h, kernel_w)
            if param_int(params, "5"):
                state[f"{key}.bias"] = weights.raw(out, f"layer {name}'s biases")
            int8_scales = param_int(params, "8")
            if is_int8 and not int8_scales:
                raise UserInputError(f"{param_path}: layer {name} stores int8 weights without scales (8=0).")
            if int8_scales:  # weight scales per output channel, then the input's scale (and the output's above 100)
                scales = weights.raw(out, f"layer {name}'s int8 weight scales")
                weights.raw(1 + (int8_scales > 100), f"layer {name}'s int8 blob scales")
                if is_int8:
                    values = values / np.where(scales == 0, 1, scales)[:, None, None, None]
            state[f"{key}.weight"] = values
        else:
            state[f"{key}.weight"] = weights.raw(param_int(params, "0", 1), f"layer {name}'s slopes")
    if weights.offset != len(weights.data):
        raise UserInputError(f"{bin_path} holds {len(weights.data)} bytes, but the graph of {param_path} reads "
                             f"{weights.offset}: it belongs to another .param file.")
    return state, family, sizes, final


def from_ncnn(param_path, bin_path=None):
    """The Keras model of an ncnn model of a registered family (see the module).

    Args:
        param_path: the `.param` file, e.g. `realesr-animevideov3-x4.param`.
        bin_path: its `.bin` file (default: beside it).

    Returns:
        The `sr_tf.models.Model` (RGB 0..255 in and out) with `spec` set, and `final_scale`: the output scale of the
        file's final resize (e.g. 2.0 for realesr-animevideov3-x2), or None when the graph has none.
    """
    from sr_tf.models.pytorch import detect, load_state_dict

    state, family, sizes, final = read_ncnn(param_path, bin_path)
    spec = detect(state, param_path)
    model = load_state_dict(spec.build(), state, param_path)
    model.final_scale = None if final is None else final * spec.scale
    return model
