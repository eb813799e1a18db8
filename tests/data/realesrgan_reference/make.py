"""Writes the reference fixtures of this folder with the authors' own architecture code: BasicSR 1.4.2's
`basicsr/archs/rrdbnet_arch.py`, `srvgg_arch.py` and `arch_util.py` (from the `basicsr-1.4.2.tar.gz` source
package), run by a CPU PyTorch in a scratch environment. The tests need neither.

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch-<version>+cpu-...whl numpy
    pip download basicsr==1.4.2 --no-deps --no-binary basicsr -d /tmp/src && tar xzf /tmp/src/basicsr-1.4.2.tar.gz
    /tmp/torchenv/bin/python make.py /tmp/basicsr-1.4.2

BasicSR's package __init__ files import OpenCV, torchvision and compiled ops that the three architecture files do
not use; this script loads those files alone, with empty stand-ins for the modules they import but never call.

For three tiny random-weight networks (RRDBNet x4 and x2, SRVGGNetCompact x4) it writes the weights in the
release files' layouts (`rrdbnet_x4.pth`: {'params_ema': ...} as Real-ESRGAN releases them, `rrdbnet_x2.pth`:
{'params': ...}, `srvgg_x4.safetensors`), and `reference.npz`: a random LR image (NHWC, 0..255) and each network's
output on it, in the authors' 0..1 convention scaled to 0..255.
"""

import json
import os
import sys
import types

import numpy as np
import torch

OUT = os.path.dirname(os.path.abspath(__file__))


def load_basicsr_archs(root):
    """The three architecture modules, loaded from the source tree with stand-ins for unused imports."""
    stubs = ["basicsr", "basicsr.archs", "basicsr.utils", "basicsr.utils.registry", "basicsr.ops", "basicsr.ops.dcn",
             "torchvision"]
    for name in stubs:
        sys.modules[name] = types.ModuleType(name)
    sys.modules["basicsr.archs"].__path__ = [os.path.join(root, "basicsr", "archs")]

    class Registry:
        def register(self, suffix=None):
            return lambda cls: cls

    sys.modules["basicsr.utils.registry"].ARCH_REGISTRY = Registry()
    sys.modules["basicsr.utils"].get_root_logger = lambda: None
    sys.modules["basicsr.ops.dcn"].ModulatedDeformConvPack = torch.nn.Module
    sys.modules["basicsr.ops.dcn"].modulated_deform_conv = None
    import importlib

    return (importlib.import_module("basicsr.archs.rrdbnet_arch"), importlib.import_module("basicsr.archs.srvgg_arch"))


def randomize(net, seed):
    """Random weights everywhere (PReLU slopes too), so a wrong mapping cannot pass."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return net.eval()


def write_safetensors(path, state_dict):
    """The safetensors layout: 8-byte little-endian header size, a JSON header, the raw tensors."""
    header, chunks, offset = {}, [], 0
    for key, tensor in state_dict.items():
        data = tensor.detach().contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(chunks))


def main(root):
    rrdbnet_arch, srvgg_arch = load_basicsr_archs(root)
    lr = np.random.default_rng(0).uniform(0, 255, (1, 12, 16, 3)).astype(np.float32)
    x = torch.from_numpy(lr.transpose(0, 3, 1, 2) / 255.0)
    nets = {
        "rrdbnet_x4": randomize(rrdbnet_arch.RRDBNet(3, 3, scale=4, num_feat=8, num_block=2, num_grow_ch=4), 1),
        "rrdbnet_x2": randomize(rrdbnet_arch.RRDBNet(3, 3, scale=2, num_feat=8, num_block=2, num_grow_ch=4), 2),
        "srvgg_x4": randomize(srvgg_arch.SRVGGNetCompact(3, 3, num_feat=8, num_conv=3, upscale=4), 3),
    }
    outputs = {"lr": lr}
    for name, net in nets.items():
        with torch.no_grad():
            outputs[name] = net(x).numpy().transpose(0, 2, 3, 1) * 255.0
    torch.save({"params_ema": nets["rrdbnet_x4"].state_dict()}, os.path.join(OUT, "rrdbnet_x4.pth"))
    torch.save({"params": nets["rrdbnet_x2"].state_dict()}, os.path.join(OUT, "rrdbnet_x2.pth"))
    write_safetensors(os.path.join(OUT, "srvgg_x4.safetensors"), nets["srvgg_x4"].state_dict())
    np.savez(os.path.join(OUT, "reference.npz"), **outputs)
    print(f"torch {torch.__version__}; wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main(sys.argv[1])
