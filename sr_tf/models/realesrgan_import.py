"""How the official weights of RRDBNet (ESRGAN, Real-ESRGAN) and SRVGGNetCompact (`realesr-*`) are recognised and
converted: their PyTorch state dicts (BasicSR's key names, and the 2018 ESRGAN release's) and their ncnn graphs,
registered with `sr_tf.models.pytorch` and `sr_tf.models.ncnn` next to the builders in `realesrgan.py`.

Where PyTorch's `pixel_unshuffle` / `pixel_shuffle` and TensorFlow's `space_to_depth` / `depth_to_space` order
channels differently, the first convolution's input channels (RRDBNet x2, x1) or the last one's output channels
(SRVGGNetCompact) are permuted.
"""

import re

from sr_tf.errors import UserInputError
from sr_tf.models import ncnn, pytorch
from sr_tf.specs.realesrgan import RRDBNet, SRVGGNetCompact

RRDB_SCALES = {3: 4, 12: 2, 48: 1}  # first convolution's input channels -> scale
RRDB_CONVS = ("conv_first", "conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last")
SRVGG_LAYERS = {"Input", "Split", "Convolution", "PReLU", "PixelShuffle", "Interp", "BinaryOp"}
RRDB_LAYERS = {"Input", "Split", "Convolution", "Concat", "Eltwise", "Interp", "BinaryOp"}
WEIGHT_AND_BIAS = ("weight", "bias")


# -- RRDBNet: PyTorch ------------------------------------------------------------------------------------------------

def esrgan_2018_names(state):
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


def rrdbnet_architecture(state, path):
    """The RRDBNet of a state dict with BasicSR's names."""
    first = state["conv_first.weight"]
    if first.shape[1] not in RRDB_SCALES:
        raise UserInputError(f"{path}: conv_first.weight takes {first.shape[1]} channels; RRDBNet takes 3 (x4), "
                             "12 (x2) or 48 (x1).")
    blocks = {int(m.group(1)) for k in state if (m := re.match(r"body\.(\d+)\.rdb1\.conv1\.weight$", k))}
    return RRDBNet(scale=RRDB_SCALES[first.shape[1]], num_feat=first.shape[0], num_block=len(blocks),
                   num_grow_ch=state["body.0.rdb1.conv1.weight"].shape[0] if blocks else 32)


def rrdbnet_layers(spec):
    """{Keras layer: (key prefix, parameters)} of an RRDBNet."""
    plan = {name: (name, WEIGHT_AND_BIAS) for name in RRDB_CONVS}
    for i in range(spec.num_block):
        for j in (1, 2, 3):
            for k in range(1, 6):
                plan[f"rrdb{i + 1}_rdb{j}_conv{k}"] = (f"body.{i}.rdb{j}.conv{k}", WEIGHT_AND_BIAS)
    return plan


def rrdbnet_convert(spec, layer_name, values):
    """x2 and x1 take a pixel-unshuffled input: the first kernel's input channels in TensorFlow's order."""
    if layer_name == "conv_first" and spec.scale < 4:
        values = [values[0][:, :, pytorch.shuffle_permutation(3, 4 // spec.scale), :], values[1]]
    return values


pytorch.register(pytorch.StateDictFormat(
    RRDBNet.family, detect=lambda state: "conv_first.weight" in state, architecture=rrdbnet_architecture,
    layers=rrdbnet_layers, convert=rrdbnet_convert, rename=esrgan_2018_names))


# -- SRVGGNetCompact: PyTorch ----------------------------------------------------------------------------------------

def _srvgg_convs(state):
    return sorted(int(m.group(1)) for k, v in state.items() if (m := re.match(r"body\.(\d+)\.weight$", k))
                  and v.ndim == 4)


def srvgg_detect(state):
    """body.0, body.2, ... convolutions (with PReLUs between them) and nothing of RRDBNet's."""
    convs = _srvgg_convs(state)
    return bool(convs) and convs == list(range(0, 2 * len(convs), 2))


def srvgg_architecture(state, path):
    """The SRVGGNetCompact of a state dict: its scale from the last convolution's 3 x scale^2 outputs."""
    convs = _srvgg_convs(state)
    last = state[f"body.{convs[-1]}.weight"]
    scale = int(round((last.shape[0] / 3) ** 0.5))
    if 3 * scale * scale != last.shape[0]:
        raise UserInputError(f"{path}: body.{convs[-1]}.weight has {last.shape[0]} outputs; SRVGGNetCompact's last "
                             "convolution has 3 x scale^2.")
    return SRVGGNetCompact(scale=scale, num_feat=state["body.0.weight"].shape[0], num_conv=len(convs) - 2)


def srvgg_layers(spec):
    """{Keras layer: (key prefix, parameters)} of an SRVGGNetCompact."""
    plan = {f"body{i}_conv": (f"body.{2 * i}", WEIGHT_AND_BIAS) for i in range(spec.num_conv + 1)}
    plan.update({f"body{i}_prelu": (f"body.{2 * i + 1}", ("weight",)) for i in range(spec.num_conv + 1)})
    plan["conv_last"] = (f"body.{2 * (spec.num_conv + 1)}", WEIGHT_AND_BIAS)
    return plan


def srvgg_convert(spec, layer_name, values):
    """The last convolution feeds a pixel shuffle: its output channels in TensorFlow's order."""
    if layer_name == "conv_last":
        order = pytorch.shuffle_permutation(3, spec.scale)
        values = [values[0][..., order], values[1][order]]
    return values


pytorch.register(pytorch.StateDictFormat(
    SRVGGNetCompact.family, detect=srvgg_detect, architecture=srvgg_architecture, layers=srvgg_layers,
    convert=srvgg_convert, priority=1))


# -- ncnn graphs -----------------------------------------------------------------------------------------------------

def srvgg_graph_sizes(layers, path):
    """SRVGGNetCompact's sizes from its graph: Convolution / PReLU pairs, one PixelShuffle, a nearest Interp of the
    input and an Add, maybe a final resize."""
    ncnn.refuse_others(path, layers, SRVGG_LAYERS, "SRVGGNetCompact")
    kinds = [kind for kind, *_ in layers]
    convs = ncnn.convolutions(layers)
    shuffle = [params for kind, _, _, _, params in layers if kind == "PixelShuffle"]
    if len(shuffle) != 1 or len(convs) < 2 or kinds.count("PReLU") != len(convs) - 1:
        raise UserInputError(f"{path}: {len(convs)} convolutions, {kinds.count('PReLU')} PReLUs and "
                             f"{len(shuffle)} PixelShuffles do not make an SRVGGNetCompact graph.")
    final = None
    for kind, name, _, _, params in layers:
        if kind == "Interp" and ncnn.param_int(params, "0") != 1:  # not the input's nearest upsampling: a resize
            if name != layers[-1][1]:
                raise UserInputError(f"{path}: layer {name} (Interp, not nearest) is not the last layer; only a "
                                     "final resize is read.")
            final = float(params.get("1", "1"))
    sizes = dict(scale=ncnn.param_int(shuffle[0], "0"), num_feat=ncnn.param_int(convs[0][1], "0"),
                 num_conv=len(convs) - 2)
    return sizes, final


def srvgg_graph_keys(sizes):
    """body.0 (Convolution), body.1 (PReLU), ..., the last convolution."""
    keys = []
    for i in range(sizes["num_conv"] + 1):
        keys += [("Convolution", f"body.{2 * i}"), ("PReLU", f"body.{2 * i + 1}")]
    return keys + [("Convolution", f"body.{2 * (sizes['num_conv'] + 1)}")]


def rrdbnet_graph_sizes(layers, path):
    """RRDBNet x4's sizes from its graph: 15 leaky-ReLU convolutions per block between Split, Concat and Eltwise
    layers, two nearest x2 Interps."""
    ncnn.refuse_others(path, layers, RRDB_LAYERS, "RRDBNet")
    convs = ncnn.convolutions(layers)
    if len(convs) < 21 or (len(convs) - 6) % 15:
        raise UserInputError(f"{path}: {len(convs)} convolutions do not make an RRDBNet graph (15 per block + 6).")
    first_in = ncnn.param_int(convs[0][1], "6") // (ncnn.param_int(convs[0][1], "0") * 9)
    if first_in != 3:
        raise UserInputError(f"{path}: layer {convs[0][0]} takes {first_in} channels; from_ncnn reads the x4 RRDBNet "
                             "(3 input channels) only.")
    return dict(scale=4, num_feat=ncnn.param_int(convs[0][1], "0"), num_block=(len(convs) - 6) // 15,
                num_grow_ch=ncnn.param_int(convs[1][1], "0")), None


def rrdbnet_graph_keys(sizes):
    """The convolutions in the order the authors' forward runs them."""
    keys = ["conv_first"]
    for b in range(sizes["num_block"]):
        keys += [f"body.{b}.rdb{r}.conv{c}" for r in (1, 2, 3) for c in range(1, 6)]
    return [("Convolution", key) for key in keys + list(RRDB_CONVS[1:])]


ncnn.register(ncnn.NcnnFormat(SRVGGNetCompact.family, detect=lambda layers: any(
    kind in ("PReLU", "PixelShuffle") for kind, *_ in layers), sizes=srvgg_graph_sizes, keys=srvgg_graph_keys))
ncnn.register(ncnn.NcnnFormat(RRDBNet.family, detect=lambda layers: True, sizes=rrdbnet_graph_sizes,
                              keys=rrdbnet_graph_keys, priority=1))
