"""Constants and small checks shared by the super-resolution builders."""

import numpy as np

# Mean RGB of the DIV2K training images in the 0..255 range, used by EDSR and WDSR (as in the original code).
DIV2K_RGB_MEAN = tuple(float(v) for v in np.array([0.4488, 0.4371, 0.4040]) * 255)

SUPPORTED_SCALES = (2, 3, 4, 8)


def check_scale(scale, supported=SUPPORTED_SCALES):
    """Raises a `ValueError` unless `scale` is one of `supported`."""
    if scale not in supported:
        raise ValueError(f"`scale` must be one of {list(supported)}. Received: scale={scale!r}")


def check_positive(**values):
    """Raises a `ValueError` naming the first argument that is not a positive integer."""
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")


def upsample_steps(scale):
    """The pixel-shuffle factors that make up `scale`: x4 is two x2 steps, x8 three (never silently none)."""
    check_scale(scale)
    return {2: [2], 3: [3], 4: [2, 2], 8: [2, 2, 2]}[scale]
