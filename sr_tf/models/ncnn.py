"""`from_ncnn`: ncnn models (`.param` + `.bin`, as realesrgan-ncnn-vulkan and Upscayl ship them) as this package's
Keras models, for the RRDBNet and SRVGGNetCompact graphs.

The `.param` text is read layer by layer; the family and its sizes are detected from the graph (SRVGGNetCompact:
Convolution / PReLU pairs, PixelShuffle, a nearest Interp of the input and an Add; RRDBNet: 15 leaky-ReLU
convolutions per block between Split, Concat and Eltwise layers, two nearest x2 Interps). Any other layer is
refused, naming it. The `.bin` is read as ncnn reads it: each convolution's weights behind a 4-byte tag (float16,
int8, a 256-value table, or raw float32), then its biases (and, for int8, its scales) and the PReLU slopes as raw
float32; the bytes consumed must equal the file's size. int8 weights are divided by their per-channel scales: the
float weights of the int8 model, whose run-time quantization of activations is not reproduced. The weights become a
PyTorch-layout state dict (the authors' key names), which
`sr_tf.models.pytorch` detects and assigns: a model read from ncnn equals the same weights read from a `.pth`.

realesr-animevideov3's x2 and x3 files hold the x4 network followed by a bicubic Interp (0.5, 0.75): such a graph
is read as the x4 network, and the resize is returned as `final_scale` for the caller to apply (`--outscale`).
"""

import os
import re

import numpy as np

from sr_tf.errors import InputFileNotFoundError, UserInputError

MAGIC = "7767517"
TAG_FLOAT16, TAG_INT8, TAG_RAW = 0x01306B47, 0x000D4B38, 0x0002C056
SRVGG_LAYERS = {"Input", "Split", "Convolution", "PReLU", "PixelShuffle", "Interp", "BinaryOp"}
RRDB_LAYERS = {"Input", "Split", "Convolution", "Concat", "Eltwise", "Interp", "BinaryOp"}


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


def _int(params, key, default=0):
    return int(params.get(key, default))


def _convolutions(layers):
    return [(name, params) for kind, name, _, _, params in layers if kind == "Convolution"]


def _unknown(path, layers, allowed, family):
    for kind, name, _, _, _ in layers:
        if kind not in allowed:
            return UserInputError(f"{path}: layer {name} ({kind}) is not part of an {family} graph; from_ncnn reads "
                                  "RRDBNet and SRVGGNetCompact graphs only.")
    return None


def detect_graph(layers, path="the file"):
    """(family, the architecture's sizes, the final resize factor or None) of a parsed `.param` graph."""
    kinds = [kind for kind, *_ in layers]
    if "PReLU" in kinds or "PixelShuffle" in kinds:
        error = _unknown(path, layers, SRVGG_LAYERS, "SRVGGNetCompact")
        if error:
            raise error
        convs = _convolutions(layers)
        shuffle = [params for kind, _, _, _, params in layers if kind == "PixelShuffle"]
        interps = [(name, params) for kind, name, _, _, params in layers if kind == "Interp"]
        if len(shuffle) != 1 or len(convs) < 2 or kinds.count("PReLU") != len(convs) - 1:
            raise UserInputError(f"{path}: {len(convs)} convolutions, {kinds.count('PReLU')} PReLUs and "
                                 f"{len(shuffle)} PixelShuffles do not make an SRVGGNetCompact graph.")
        scale = _int(shuffle[0], "0")
        final = None
        for name, params in interps:
            if _int(params, "0") != 1:  # not the nearest upsampling of the input: a final resize
                if name != layers[-1][1]:
                    raise UserInputError(f"{path}: layer {name} (Interp, not nearest) is not the last layer; "
                                         "only a final resize is read.")
                final = float(params.get("1", "1"))
        sizes = dict(scale=scale, num_feat=_int(convs[0][1], "0"), num_conv=len(convs) - 2)
        return "srvgg", sizes, final
    error = _unknown(path, layers, RRDB_LAYERS, "RRDBNet")
    if error:
        raise error
    convs = _convolutions(layers)
    if len(convs) < 21 or (len(convs) - 6) % 15:
        raise UserInputError(f"{path}: {len(convs)} convolutions do not make an RRDBNet graph (15 per block + 6).")
    first_in = _int(convs[0][1], "6") // (_int(convs[0][1], "0") * 9)
    if first_in != 3:
        raise UserInputError(f"{path}: layer {convs[0][0]} takes {first_in} channels; from_ncnn reads the x4 RRDBNet "
                             "(3 input channels) only.")
    sizes = dict(scale=4, num_feat=_int(convs[0][1], "0"), num_block=(len(convs) - 6) // 15,
                 num_grow_ch=_int(convs[1][1], "0"))
    return "rrdbnet", sizes, None


def _conv_keys(family, sizes):
    """The PyTorch key prefixes of the convolutions in graph order (the order the authors' forward runs them)."""
    if family == "srvgg":
        return [f"body.{2 * i}" for i in range(sizes["num_conv"] + 2)]
    keys = ["conv_first"]
    for b in range(sizes["num_block"]):
        keys += [f"body.{b}.rdb{r}.conv{c}" for r in (1, 2, 3) for c in range(1, 6)]
    return keys + ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]


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
    state, convs = {}, iter(_conv_keys(family, sizes))
    prelu = 1
    for kind, name, _, _, params in layers:
        if kind == "Convolution":
            key, out = next(convs), _int(params, "0")
            kernel_w = _int(params, "1")
            kernel_h = _int(params, "11", kernel_w)
            size = _int(params, "6")
            if size % (out * kernel_h * kernel_w):
                raise UserInputError(f"{param_path}: layer {name} has {size} weights for {out} outputs of "
                                     f"{kernel_h}x{kernel_w}.")
            values, is_int8 = weights.tagged(size, f"layer {name}'s weights")
            values = values.reshape(out, -1, kernel_h, kernel_w)
            if _int(params, "5"):
                state[f"{key}.bias"] = weights.raw(out, f"layer {name}'s biases")
            int8_scales = _int(params, "8")
            if is_int8 and not int8_scales:
                raise UserInputError(f"{param_path}: layer {name} stores int8 weights without scales (8=0).")
            if int8_scales:  # weight scales per output channel, then the input's scale (and the output's above 100)
                scales = weights.raw(out, f"layer {name}'s int8 weight scales")
                weights.raw(1 + (int8_scales > 100), f"layer {name}'s int8 blob scales")
                if is_int8:
                    values = values / np.where(scales == 0, 1, scales)[:, None, None, None]
            state[f"{key}.weight"] = values
        elif kind == "PReLU":
            state[f"body.{prelu}.weight"] = weights.raw(_int(params, "0", 1), f"layer {name}'s slopes")
            prelu += 2
    if weights.offset != len(weights.data):
        raise UserInputError(f"{bin_path} holds {len(weights.data)} bytes, but the graph of {param_path} reads "
                             f"{weights.offset}: it belongs to another .param file.")
    return state, family, sizes, final


def from_ncnn(param_path, bin_path=None):
    """The Keras model of an ncnn RRDBNet or SRVGGNetCompact model (see the module).

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
