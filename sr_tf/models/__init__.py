"""Model builders, one module per family (functional API, no `Lambda` layers)."""

import os

import numpy as np

from sr_tf.errors import UserInputError
from sr_tf.models import edsr, srgan, wdsr
from sr_tf.models.common import check_positive, check_scale
from sr_tf.models.interpolation import interpolate_weights  # noqa: F401 (re-exported)
from sr_tf.weights_io import load_keras_model, load_weights

# The names the builders give their models, by family.
FAMILY_OF_MODEL = {"srresnet": "srgan", "edsr": "edsr", "wdsr": "wdsr"}

SR_MODELS = ("srgan", "edsr", "wdsr")

# The architectures of the tutorial's published weights (weights/srgan, weights/edsr-16-x4, weights/wdsr-b-32-x4).
PRETRAINED_DEFAULTS = {
    "srgan": {"scale": 4, "num_filters": 64, "num_res_blocks": 16},
    "edsr": {"scale": 4, "num_filters": 64, "num_res_blocks": 16},
    "wdsr": {"scale": 4, "num_filters": 32, "num_res_blocks": 32},
}


def build_sr_model(name, scale=None, num_filters=None, num_res_blocks=None, wdsr_type="b"):
    """Builds a super-resolution model by family name, with the tutorial's published architecture by default.

    Args:
        name: 'srgan' (SRResNet generator: x2, x4, x8), 'edsr' or 'wdsr'.
        scale: upscaling factor (default 4).
        num_filters: feature channels (default: 64 for srgan/edsr, 32 for wdsr).
        num_res_blocks: residual blocks (default: 16 for srgan/edsr, 32 for wdsr).
        wdsr_type: 'a' or 'b' for WDSR.

    Returns:
        The `keras.Model`.
    """
    if name not in SR_MODELS:
        raise UserInputError(f"`name` must be one of {list(SR_MODELS)}. Received: name={name!r}")
    defaults = PRETRAINED_DEFAULTS[name]
    scale = defaults["scale"] if scale is None else scale
    num_filters = defaults["num_filters"] if num_filters is None else num_filters
    num_res_blocks = defaults["num_res_blocks"] if num_res_blocks is None else num_res_blocks
    check_scale(scale)
    check_positive(num_filters=num_filters, num_res_blocks=num_res_blocks)
    if name == "srgan":
        return srgan.generator(num_filters=num_filters, num_res_blocks=num_res_blocks, scale=scale)
    if name == "edsr":
        return edsr.edsr(scale, num_filters=num_filters, num_res_blocks=num_res_blocks)
    if wdsr_type not in ("a", "b"):
        raise UserInputError(f"`wdsr_type` must be 'a' or 'b'. Received: wdsr_type={wdsr_type!r}")
    builder = wdsr.wdsr_a if wdsr_type == "a" else wdsr.wdsr_b
    return builder(scale, num_filters=num_filters, num_res_blocks=num_res_blocks)


def load_sr_model(name, weights, **architecture):
    """Loads a trained super-resolution model: a whole `.keras` model, or `build_sr_model` plus a weights file.

    A `.keras` file carries its architecture: it must be of family `name`, and every architecture option given
    (not None) must match it, else the request and the file disagree and a `UserInputError` says how.

    Args:
        name: the family, as for `build_sr_model`.
        weights: a `.keras` model file, or a `.h5` / `.weights.h5` weights file.
        **architecture: `scale`, `num_filters`, `num_res_blocks`, `wdsr_type` for `build_sr_model`.

    Returns:
        The `keras.Model` with its trained weights.
    """
    if os.fspath(weights).endswith(".keras"):
        return _checked_keras_model(name, weights, architecture)
    model = build_sr_model(name, **architecture)
    load_weights(model, weights)
    return model


def sr_scale(model):
    """The upscaling factor of a super-resolution model (output side over input side on a small probe)."""
    probe = np.zeros((1, 8, 8, 3), np.float32)
    return int(model(probe, training=False).shape[1]) // 8


def _checked_keras_model(name, path, architecture):
    model = load_keras_model(path)
    family = FAMILY_OF_MODEL.get(model.name)
    if family != name:
        raise UserInputError(f"{path} holds a '{family or model.name}' model, not the '{name}' that was asked for.")
    scale = sr_scale(model)
    if architecture.get("scale") is not None and architecture["scale"] != scale:
        raise UserInputError(f"{path} holds an x{scale} model, not the x{architecture['scale']} that was asked "
                             "for (leave the scale out: a .keras file carries its architecture).")
    given = {k: v for k, v in architecture.items() if v is not None and k in ("num_filters", "num_res_blocks")}
    if given:
        reference = build_sr_model(name, scale=scale, wdsr_type=architecture.get("wdsr_type") or "b", **given)
        if [tuple(w.shape) for w in reference.weights] != [tuple(w.shape) for w in model.weights]:
            options = ", ".join(f"{k}={v}" for k, v in given.items())
            raise UserInputError(f"{path} holds another architecture than {options} (leave the architecture "
                                 "options out: a .keras file carries its architecture).")
    return model
