"""Writing `.pth` files as torch.save lays them out (a zip of data.pkl, data/<key>, version), without PyTorch:
the pickle is written opcode by opcode (protocol 2), naming torch._utils._rebuild_tensor_v2 and torch.FloatStorage
as torch's own pickles do, so sr_tf's reader meets the real layout."""

import struct
import zipfile

import numpy as np


def _text(value):
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value):
    return b"J" + struct.pack("<i", value)


def _global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _tuple(items):
    return b"(" + b"".join(items) + b"t"


def _tensor(key, array):
    persistent = _tuple([_text("storage"), _global("torch", "FloatStorage"), _text(key), _text("cpu"),
                         _int(array.size)]) + b"Q"
    strides = [int(np.prod(array.shape[i + 1:])) for i in range(array.ndim)]
    args = _tuple([persistent, _int(0), _tuple([_int(n) for n in array.shape]), _tuple([_int(s) for s in strides]),
                   b"\x89", _global("collections", "OrderedDict") + b")R"])
    return _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def write_pth(path, state, wrap="params_ema"):
    """Writes {name: float32 array} as torch.save({wrap: state}) would (wrap None: the bare state dict)."""
    storages, body = {}, b"}"
    for i, (name, array) in enumerate(state.items()):
        array = np.ascontiguousarray(array, dtype="<f4")
        storages[str(i)] = array.tobytes()
        body += _text(name) + _tensor(str(i), array) + b"s"
    pickle = b"\x80\x02" + (b"}" + _text(wrap) + body + b"s" if wrap else body) + b"."
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle)
        for key, data in storages.items():
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", "3\n")
    return path


def srvgg_state(spec, rng):
    """A state dict of SRVGGNetCompact `spec` in the authors' key names (`body.<i>.weight`), small random weights."""
    state = {}
    for i in range(spec.num_conv + 2):
        out = spec.num_feat if i <= spec.num_conv else 3 * spec.scale ** 2
        state[f"body.{2 * i}.weight"] = rng.normal(0, 0.01, (out, 3 if i == 0 else spec.num_feat, 3, 3))
        state[f"body.{2 * i}.bias"] = np.zeros(out)
        if i <= spec.num_conv:
            state[f"body.{2 * i + 1}.weight"] = np.full(spec.num_feat, 0.25)
    return state
