"""Benchmark sets laid out as SR papers distribute them (Set5, Set14, B100, Urban100, DIV2K valid), read as
(name, LR, HR) image triples the way published tables were computed.

A set is a folder holding either its HR images directly, or an `HR` (or `<prefix>_HR`, as in DIV2K) folder and,
optionally, an `LR_bicubic/X<scale>` (or `<prefix>_LR_bicubic/X<scale>`) folder whose files are named `<stem>x<scale>`
or `<stem>` with any image extension. The root given to `benchmark_sets` is one such set or a folder of them.

Without LR files, each HR image is cropped to a multiple of the scale and shrunk with MATLAB's bicubic
(`sr_tf.data.matlab.imresize`), as the tables' LR images were made. With LR files, HR is cropped at the bottom and
right to LR size times the scale.
"""

import os

import numpy as np

from sr_tf.data.io import SR_EXTENSIONS, list_images, read_image
from sr_tf.data.matlab import imresize
from sr_tf.errors import InputFileNotFoundError, UserInputError


def _images_here(folder):
    return any(os.path.splitext(f)[1].lower() in SR_EXTENSIONS for f in os.listdir(folder)
               if os.path.isfile(os.path.join(folder, f)))


def _hr_dir(folder):
    """(HR folder, LR folder prefix) of a set folder, or None if `folder` is not a set."""
    children = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    for d in children:
        if d == "HR" or d.endswith("_HR"):
            return os.path.join(folder, d), d[:-2]
    return (folder, None) if _images_here(folder) else None


def find_sets(root):
    """[(set name, set folder)] under `root`: `root` itself when it is a set, else its sub-folders that are sets.

    Raises:
        InputFileNotFoundError: `root` is missing; UserInputError: no set found in it.
    """
    if not os.path.isdir(root):
        raise InputFileNotFoundError(f"Benchmark folder not found: {root}")
    here = _hr_dir(root)
    children = [(d, os.path.join(root, d)) for d in sorted(os.listdir(root))
                if os.path.isdir(os.path.join(root, d)) and _hr_dir(os.path.join(root, d)) is not None]
    if here is not None and (here[1] is not None or not children):
        return [(os.path.basename(os.path.abspath(root)), root)]
    if not children:
        raise UserInputError(f"No benchmark set in {root}: expected image files, an HR/ folder, or folders of "
                             "those (Set5/HR/*.png, optional Set5/LR_bicubic/X4/*.png).")
    return children


def _lr_file(lr_dir, stem, scale):
    for name in (f"{stem}x{scale}", stem):
        for ext in SR_EXTENSIONS:
            for candidate in (name + ext, name + ext.upper()):
                if os.path.isfile(os.path.join(lr_dir, candidate)):
                    return os.path.join(lr_dir, candidate)
    return None


def set_images(folder, scale):
    """Yields (image name, LR uint8, HR uint8) for every HR image of the set in `folder` (see the module).

    Raises:
        UserInputError: an LR folder lacks one HR image's partner, or an LR image is larger than HR / scale.
    """
    hr_dir, prefix = _hr_dir(folder)
    lr_dir = None
    if prefix is not None:
        lr_dir = os.path.join(folder, f"{prefix}LR_bicubic", f"X{scale}")
        lr_dir = lr_dir if os.path.isdir(lr_dir) else None
    for path in list_images(hr_dir, SR_EXTENSIONS):
        if os.path.dirname(path) != os.path.normpath(hr_dir):
            continue  # only the set's own images, not those of sub-folders
        stem = os.path.splitext(os.path.basename(path))[0]
        hr = read_image(path)[0]
        if lr_dir is None:
            hr = hr[:hr.shape[0] - hr.shape[0] % scale, :hr.shape[1] - hr.shape[1] % scale]
            yield stem, imresize(hr, scale).numpy(), hr
            continue
        lr_path = _lr_file(lr_dir, stem, scale)
        if lr_path is None:
            raise UserInputError(f"No LR image for {path} in {lr_dir} (expected {stem}x{scale}.png or {stem}.png).")
        lr = read_image(lr_path)[0]
        height, width = lr.shape[0] * scale, lr.shape[1] * scale
        if height > hr.shape[0] or width > hr.shape[1]:
            raise UserInputError(f"{lr_path} is {lr.shape[1]}x{lr.shape[0]}: x{scale} that exceeds its HR image "
                                 f"{path} ({hr.shape[1]}x{hr.shape[0]}).")
        yield stem, lr, np.ascontiguousarray(hr[:height, :width])
