"""`from_pytorch`: the official PyTorch weights of RRDBNet (ESRGAN, Real-ESRGAN) and SRVGGNetCompact
(`realesr-*`) as this package's Keras models, the architecture detected from the state dict.

Convolution kernels go from PyTorch's (out, in, kh, kw) to Keras's (kh, kw, in, out). Where PyTorch's
`pixel_unshuffle` / `pixel_shuffle` and TensorFlow's `space_to_depth` / `depth_to_space` order channels
differently ((channel, row offset, column offset) against (row offset, column offset, channel)), the first
convolution's input channels (RRDBNet x2, x1) or the last one's output channels (SRVGGNetCompact) are permuted.
"""

import re

import numpy as np

from sr_tf import specs
from sr_tf.errors import UserInputError
from sr_tf.models.pytorch_files import read_state_dict

RRDB_SCALES = {3: 4, 12: 2, 48: 1}  # first convolution's input channels -> scale


def _shuffle_permutation(channels, factor):
    """For each TensorFlow (depth_to_space / space_to_depth) channel index, the PyTorch channel index."""
    return np.array([c * factor * factor + offset for offset in range(factor * factor) for c in range(channels)])


def _esrgan_2018_names(state):
    """The state dict of the 2018 ESRGAN release (`model.0.weight`, `model.1.sub.<i>.RDB<j>.conv<k>.0.weight`, ...)
    under BasicSR's RRDBNet names; any other state dict as it is."""
    if "model.0.weight" not in state:
        return state
    num_block = sum(1 for k in state if re.fullmatch(r"model\.1\.sub\.\d+\.RDB1\.conv1\.0\.weight", k))
    layers = {"model.0": "conv_first", f"model.1.sub.{num_block}": "conv_body", "model.3": "conv_up1",
              "model.6": "conv_up2", "model.8": "conv_hr", "model.10": "conv_last"}
    renamed = {}
    for key, value in state.items():
        match = re.fullmatch(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)", key)
        layer, _, kind = key.rpartition(".")
        renamed[f"body.{match[1]}.rdb{match[2]}.conv{match[3]}.{match[4]}" if match else
                f"{layers.get(layer, layer)}.{kind}"] = value
    return renamed


def read_weights(path):
    """The state dict of a PyTorch weights file (`read_state_dict`), the 2018 ESRGAN names mapped to BasicSR's."""
    return _esrgan_2018_names(read_state_dict(path))


def detect(state, path="the file"):
    """The architecture spec of a state dict: RRDBNet or SRVGGNetCompact with its sizes."""
    if "conv_first.weight" in state:
        first = state["conv_first.weight"]
        if first.shape[1] not in RRDB_SCALES:
            raise UserInputError(f"{path}: conv_first.weight takes {first.shape[1]} channels; RRDBNet takes 3 (x4), "
                                 "12 (x2) or 48 (x1).")
        blocks = {int(m.group(1)) for k in state if (m := re.match(r"body\.(\d+)\.rdb1\.conv1\.weight$", k))}
        return specs.RRDBNet(scale=RRDB_SCALES[first.shape[1]], num_feat=first.shape[0], num_block=len(blocks),
                             num_grow_ch=state["body.0.rdb1.conv1.weight"].shape[0] if blocks else 32)
    convs = sorted(int(m.group(1)) for k, v in state.items()
                   if (m := re.match(r"body\.(\d+)\.weight$", k)) and v.ndim == 4)
    if convs and convs == list(range(0, 2 * len(convs), 2)):
        last = state[f"body.{convs[-1]}.weight"]
        scale = int(round((last.shape[0] / 3) ** 0.5))
        return specs.SRVGGNetCompact(scale=scale, num_feat=state["body.0.weight"].shape[0], num_conv=len(convs) - 2)
    keys = ", ".join(list(state)[:4])
    raise UserInputError(f"{path} holds neither an RRDBNet nor an SRVGGNetCompact state dict (its first keys: {keys}).")


def _kernel(weight):
    return np.transpose(weight, (2, 3, 1, 0))


def _rrdbnet_weights(spec):
    """{Keras layer name: [(state dict key, converter)]} of an RRDBNet."""
    plan = {name: name for name in ("conv_first", "conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last")}
    for i in range(spec.num_block):
        for j in (1, 2, 3):
            for k in range(1, 6):
                plan[f"rrdb{i + 1}_rdb{j}_conv{k}"] = f"body.{i}.rdb{j}.conv{k}"
    return plan


def _srvgg_weights(spec):
    plan = {f"body{i}_conv": f"body.{2 * i}" for i in range(spec.num_conv + 1)}
    plan.update({f"body{i}_prelu": f"body.{2 * i + 1}" for i in range(spec.num_conv + 1)})
    plan["conv_last"] = f"body.{2 * (spec.num_conv + 1)}"
    return plan


def load_state_dict(model, state, path="the file"):
    """Assigns a PyTorch state dict to a Keras model built from its detected spec; a missing, extra or misshapen
    key is a `UserInputError` naming it."""
    spec = model.spec
    plan = _rrdbnet_weights(spec) if isinstance(spec, specs.RRDBNet) else _srvgg_weights(spec)
    used = set()
    for layer_name, prefix in plan.items():
        layer = model.get_layer(layer_name)
        names = ["weight"] if layer_name.endswith("_prelu") else ["weight", "bias"]
        values = []
        for name in names:
            key = f"{prefix}.{name}"
            if key not in state:
                raise UserInputError(f"{path} lacks {key}, which {spec.describe()} needs.")
            used.add(key)
            values.append(state[key])
        if layer_name.endswith("_prelu"):
            values = [values[0].reshape(1, 1, -1)]
        else:
            values[0] = _kernel(values[0])
            if layer_name == "conv_first" and spec.family == "rrdbnet" and spec.scale < 4:
                values[0] = values[0][:, :, _shuffle_permutation(3, 4 // spec.scale), :]
            if layer_name == "conv_last" and spec.family == "srvgg":
                order = _shuffle_permutation(3, spec.scale)
                values = [values[0][..., order], values[1][order]]
        expected = [tuple(w.shape) for w in layer.weights]
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
    """The Keras model of an official PyTorch weights file, its architecture detected from the state dict.

    Args:
        path: `RealESRGAN_x4plus.pth`, `RealESRGAN_x2plus.pth`, `realesr-general-x4v3.pth`, ... (a `torch.save`
            zip archive, read without PyTorch and without running pickled code), or a `.safetensors` file.

    Returns:
        The `sr_tf.models.Model` (RGB 0..255 in and out) with `spec` set and the file's weights.
    """
    state = read_weights(path)
    spec = detect(state, path)
    return load_state_dict(spec.build(), state, path)
