"""Constants and small checks shared by the model builders, and ImageNet-pretrained backbones."""

import os

import numpy as np

from sr_tf.errors import (InputFileNotFoundError, ResourceUnavailableError, UserInputError,  # noqa: F401
                          check_positive)

# Mean RGB of the DIV2K training images in the 0..255 range, used by EDSR and WDSR (as in the original code).
DIV2K_RGB_MEAN = tuple(float(v) for v in np.array([0.4488, 0.4371, 0.4040]) * 255)

SUPPORTED_SCALES = (2, 3, 4, 8)


def check_scale(scale, supported=SUPPORTED_SCALES):
    """Raises a `UserInputError` unless `scale` is one of `supported`."""
    if scale not in supported:
        raise UserInputError(f"`scale` must be one of {list(supported)}. Received: scale={scale!r}")


def upsample_steps(scale):
    """The pixel-shuffle factors that make up `scale`: x4 is two x2 steps, x8 three (never silently none)."""
    check_scale(scale)
    return {2: [2], 3: [3], 4: [2, 2], 8: [2, 2, 2]}[scale]


KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def imagenet_application(builder, weights, file_name, option, **kwargs):
    """Builds a `keras.applications` network with ImageNet weights downloaded, read from a local file, or random.

    Args:
        builder: the constructor, e.g. `keras.applications.VGG16`.
        weights: 'imagenet' (downloaded once and cached by Keras), the path of a local weights file (the file Keras
            would download, `file_name`), or None for random weights (tests only).
        file_name: the weights file's name under `KERAS_APPLICATIONS_URL` (e.g. 'vgg16/vgg16_..._notop.h5').
        option: how users pass a local file (e.g. "vgg_weights=PATH"), named in the error messages.
        **kwargs: passed to `builder` (input_shape, include_top, pooling, ...).

    Raises:
        ResourceUnavailableError: when the download fails (one line saying where to get the file and how to pass
            it; the network error is chained, not printed).
        InputFileNotFoundError: when a local path does not exist.
    """
    url = KERAS_APPLICATIONS_URL + file_name
    name = getattr(builder, "__name__", "network")
    if weights == "imagenet":
        try:
            return builder(weights="imagenet", **kwargs)
        except Exception as e:  # noqa: BLE001 - any download failure gets the same advice
            raise ResourceUnavailableError(
                f"Could not download the ImageNet weights of {name} ({type(e).__name__}: {e}). On a machine with "
                f"network access, download {url} and pass its local path instead ({option})."
            ) from e
    if weights is None:
        return builder(weights=None, **kwargs)
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"{name} weights file not found: {path}. Expected 'imagenet' or the path of "
                                f"{os.path.basename(file_name)} (from {url}).")
    from sr_tf.weights_io import load_weights  # local import: weights_io imports no models

    model = builder(weights=None, **kwargs)
    load_weights(model, path)
    return model
