"""Writes the fixtures derived from make.py's files, in other release layouts (needs PyTorch, see make.py; the tests
do not):

- `esrgan_2018_x4.pth`: the weights of `rrdbnet_x4.pth` as the 2018 ESRGAN release stores its RRDB_ESRGAN_x4.pth:
  a bare state dict with the old key names (`model.0.weight`, `model.1.sub.<i>.RDB<j>.conv<k>.0.weight`, ...) in
  PyTorch's pre-1.6 (non-zip) serialization. Its network is the same, so its expected output is rrdbnet_x4's in
  reference.npz.
- `srvgg_x4.pth` and `srvgg_wdn_x4.pth`: the SRVGGNetCompact of `srvgg_x4.safetensors` as realesr-general-x4v3.pth
  is released ({'params': ...}), and a twin with other weights (half of them, plus 0.01), standing in for the
  -wdn- (weak denoise) file the denoise strength blends with (docs/real-world.md).

    /tmp/torchenv/bin/python make_layouts.py
"""

import collections
import os
import re

import torch

OUT = os.path.dirname(os.path.abspath(__file__))


def old_name(key, num_block):
    """The 2018 name of a BasicSR RRDBNet key."""
    match = re.fullmatch(r"body\.(\d+)\.rdb(\d)\.conv(\d)\.(weight|bias)", key)
    if match:
        i, j, k, kind = match.groups()
        return f"model.1.sub.{i}.RDB{j}.conv{k}.0.{kind}"
    layer, kind = key.rsplit(".", 1)
    index = {"conv_first": "0", "conv_body": f"1.sub.{num_block}", "conv_up1": "3", "conv_up2": "6",
             "conv_hr": "8", "conv_last": "10"}[layer]
    return f"model.{index}.{kind}"


def main():
    state = torch.load(os.path.join(OUT, "rrdbnet_x4.pth"), weights_only=True)["params_ema"]
    num_block = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("body."))
    old = collections.OrderedDict((old_name(k, num_block), v) for k, v in state.items())
    torch.save(old, os.path.join(OUT, "esrgan_2018_x4.pth"), _use_new_zipfile_serialization=False)
    srvgg = read_safetensors(os.path.join(OUT, "srvgg_x4.safetensors"))
    torch.save({"params": srvgg}, os.path.join(OUT, "srvgg_x4.pth"))
    torch.save({"params": {k: v * 0.5 + 0.01 for k, v in srvgg.items()}}, os.path.join(OUT, "srvgg_wdn_x4.pth"))


def read_safetensors(path):
    """{name: float32 tensor} of a .safetensors file (8-byte header size, JSON header, raw tensors)."""
    import json

    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header, body = json.loads(f.read(size)), f.read()
    return collections.OrderedDict(
        (k, torch.frombuffer(bytearray(body[e["data_offsets"][0]:e["data_offsets"][1]]), dtype=torch.float32)
         .reshape(e["shape"]).clone()) for k, e in header.items() if k != "__metadata__")


if __name__ == "__main__":
    main()
