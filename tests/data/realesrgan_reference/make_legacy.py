"""Writes `esrgan_2018_x4.pth`: the weights of `rrdbnet_x4.pth` (written by make.py) as the 2018 ESRGAN release
stores its RRDB_ESRGAN_x4.pth: a bare state dict with the old key names (`model.0.weight`,
`model.1.sub.<i>.RDB<j>.conv<k>.0.weight`, ...) in PyTorch's pre-1.6 (non-zip) serialization. Its network is the
same, so its expected output is rrdbnet_x4's in reference.npz. Needs PyTorch (see make.py); the tests do not.

    /tmp/torchenv/bin/python make_legacy.py
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


if __name__ == "__main__":
    main()
