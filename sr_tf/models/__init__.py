"""Model builders, one module per family (functional API, no `Lambda` layers)."""

import os

import keras

from sr_tf.errors import UserInputError
from sr_tf.models import edsr, srgan, wdsr
from sr_tf.weights_io import load_weights

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
        name: 'srgan' (SRResNet generator, x4 only), 'edsr' or 'wdsr'.
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
    scale = scale or defaults["scale"]
    num_filters = num_filters or defaults["num_filters"]
    num_res_blocks = num_res_blocks or defaults["num_res_blocks"]
    if name == "srgan":
        if scale != 4:
            raise UserInputError(f"The SRGAN generator upscales x4 only. Received: scale={scale}")
        return srgan.generator(num_filters=num_filters, num_res_blocks=num_res_blocks)
    if name == "edsr":
        return edsr.edsr(scale, num_filters=num_filters, num_res_blocks=num_res_blocks)
    if wdsr_type not in ("a", "b"):
        raise UserInputError(f"`wdsr_type` must be 'a' or 'b'. Received: wdsr_type={wdsr_type!r}")
    builder = wdsr.wdsr_a if wdsr_type == "a" else wdsr.wdsr_b
    return builder(scale, num_filters=num_filters, num_res_blocks=num_res_blocks)


def load_sr_model(name, weights, **architecture):
    """Loads a trained super-resolution model: a whole `.keras` model, or `build_sr_model` plus a weights file.

    Args:
        name: the family, as for `build_sr_model` (ignored for `.keras` files, which carry their architecture).
        weights: a `.keras` model file, or a `.h5` / `.weights.h5` weights file.
        **architecture: `scale`, `num_filters`, `num_res_blocks`, `wdsr_type` for `build_sr_model`.

    Returns:
        The `keras.Model` with its trained weights.
    """
    if os.fspath(weights).endswith(".keras"):
        return keras.saving.load_model(weights, safe_mode=True)
    model = build_sr_model(name, **architecture)
    load_weights(model, weights)
    return model
