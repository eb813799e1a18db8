"""What the model builders share: the `Model` class every builder returns, constants, small checks, and
ImageNet-pretrained backbones."""

import os

import keras
import numpy as np

from sr_tf import specs, weights_io
from sr_tf.errors import InputFileNotFoundError, ResourceUnavailableError, UserInputError, check_positive  # noqa: F401
from sr_tf.layers import PACKAGE


def _is_legacy_h5(filepath):
    path = os.fspath(filepath) if isinstance(filepath, (str, os.PathLike)) else ""
    return path.endswith(".h5") and not path.endswith(weights_io.KERAS_3_SUFFIX)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Model(keras.Model):
    """The functional `keras.Model` every builder of this package returns, so the tutorial's calls keep working.

    `model.save_weights("x.h5")` writes the Keras-2 layout the tutorial (and Keras 2) wrote, where Keras 3 accepts
    only `*.weights.h5`, and `model.load_weights("x.h5")` reads that layout with this package's checks (the file,
    layer and shapes named on a mismatch). `*.weights.h5` and every other path keep Keras 3's behaviour. Built
    like any functional model, `Model(inputs, outputs, name=...)`; saved `.keras` files load in safe mode.

    `model.spec` is the architecture spec it was built from (`sr_tf.specs`), or None. It is stored in the
    model's config, so a `.keras` file alone rebuilds and describes its model (`sr_tf.models.spec_of`).
    """

    spec = None

    def get_config(self):
        """The functional config, plus the spec under 'spec' when the model has one."""
        config = super().get_config()
        if self.spec is not None:
            config["spec"] = self.spec.get_config()
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the model from `get_config()` data, spec included (files without one load with spec None)."""
        config = dict(config)
        spec = config.pop("spec", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model.spec = None if spec is None else specs.from_config(spec)
        return model

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Saves the weights: Keras-2 layout for a plain `.h5` path, Keras 3's format for `*.weights.h5`."""
        if _is_legacy_h5(filepath):
            if not overwrite and os.path.exists(filepath):
                raise UserInputError(f"Weights file exists and overwrite=False. Received: filepath={filepath}")
            return weights_io.save_weights(self, filepath)
        return super().save_weights(filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights: a plain `.h5` path is read in the Keras-2 layout (by layer order, shapes checked)."""
        if _is_legacy_h5(filepath) and not skip_mismatch and not kwargs:
            return weights_io.load_weights(self, filepath)
        return super().load_weights(filepath, skip_mismatch=skip_mismatch, **kwargs)


def with_spec(model, spec):
    """Sets `model.spec` (the architecture spec it was built from) and returns the model."""
    model.spec = spec
    return model


# Mean RGB of the DIV2K training images in the 0..255 range, used by EDSR and WDSR (as in the original code).
# The dtype of the layers that carry the image itself in every precision: the input scaled for a skip path, the last
# convolution, the upsampled input it is added to and the 0..255 output. In bfloat16 (8 bits of mantissa) a value
# near 1 is rounded to 1/256, a grey level; measured on the official realesr-animevideov3 weights, keeping its image
# path in float32 halves the mean difference from float32 inference (bench/RESULTS.md), at the cost of a 3-channel
# convolution in float32.
IMAGE_DTYPE = "float32"
DIV2K_RGB_MEAN = tuple(float(v) for v in np.array([0.4488, 0.4371, 0.4040]) * 255)

def check_scale(scale, supported):
    """Raises a `UserInputError` unless `scale` is one of `supported` (the family's `scales`, from its spec)."""
    if scale not in supported:
        raise UserInputError(f"`scale` must be one of {list(supported)}. Received: scale={scale!r}")


def upsample_steps(scale, supported):
    """The pixel-shuffle factors that make up `scale`, one of `supported`: x4 is two x2 steps, x8 three (never
    silently none)."""
    check_scale(scale, supported)
    return {2: [2], 3: [3], 4: [2, 2], 8: [2, 2, 2]}[scale]


KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def imagenet_application(builder, weights, file_name, option, **kwargs):
    """Builds a `keras.applications` network with ImageNet weights downloaded, read from a local file, or random.

    Args:
        builder: the constructor, e.g. `keras.applications.VGG16`.
        weights: 'imagenet' (downloaded once and cached by Keras), the path of a local weights file (the file Keras
            would download, `file_name`), or None for random weights (tests only).
        file_name: the weights file's name under `KERAS_APPLICATIONS_URL` (e.g. 'vgg16/vgg16_..._notop.h5').
        option: how users pass a local file (an `Arg`, e.g. `Arg("vgg_weights", "PATH", placeholder=True)`),
            named in the error messages.
        **kwargs: passed to `builder` (input_shape, include_top, pooling, ...).

    Raises:
        ResourceUnavailableError: when the download fails: one line with the network error, where to get the
            file and how to pass it (the network traceback is not attached).
        InputFileNotFoundError: when a local path does not exist.
    """
    url = KERAS_APPLICATIONS_URL + file_name
    name = getattr(builder, "__name__", "network")
    if weights == "imagenet":
        try:
            return builder(weights="imagenet", **kwargs)
        except Exception as e:  # noqa: BLE001 - any download failure gets the same advice
            reason = " ".join(str(e).split())  # one line, whatever the network library wrote
            raise ResourceUnavailableError(
                f"Could not download the ImageNet weights of {name} ({type(e).__name__}: {reason}). On a machine "
                f"with network access, download {url} and pass its local path instead (", option, ")."
            ) from None  # the message says all a user can act on; the network traceback is noise
    if weights is None:
        return builder(weights=None, **kwargs)
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"{name} weights file not found: {path}. Expected 'imagenet' or the path of "
                                f"{os.path.basename(file_name)} (from {url}).")
    model = builder(weights=None, **kwargs)
    weights_io.load_weights(model, path)
    return model
