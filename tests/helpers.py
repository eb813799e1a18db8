"""Helpers the tests share: tiny generated images and files (PNG, safetensors), and an offline network."""

import io
import os

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout


def random_image(rng, height, width, channels=3):
    """A random uint8 image."""
    return rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)


def write_png(path, array, mode=None):
    """Writes an array as PNG (creating folders) and returns the path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(path)
    return path


def block_mean(hr, scale):
    """Mean of each scale x scale block of (..., H, W, C) images (the exact inverse of nearest upsampling)."""
    hr = np.asarray(hr, dtype=np.float64)
    *lead, h, w, c = hr.shape
    return hr.reshape(*lead, h // scale, scale, w // scale, scale, c).mean(axis=(-4, -2))


def offline(*args, **kwargs):
    """Stands in for a Keras application constructor on a machine without network: the download fails."""
    raise OSError("network unreachable")


def write_safetensors(path, values):
    """Writes {name: NumPy array} (float32 or int64) as a `.safetensors` file, as the format's specification lays
    it out (an 8-byte header length, a JSON header, the raw little-endian tensors); returns the path as a string."""
    import json

    header, body = {}, io.BytesIO()
    for key, value in values.items():
        start = body.tell()
        body.write(np.ascontiguousarray(value).tobytes())
        header[key] = {"dtype": {"float32": "F32", "int64": "I64"}[str(value.dtype)], "shape": list(value.shape),
                       "data_offsets": [start, body.tell()]}
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + body.getvalue())
    return str(path)
