"""Model builders, one module per family (functional API, no `Lambda` layers), and the public face of the specs:

    from sr_tf import models
    models.presets()                                    # {name: one-line description}
    model = models.build("edsr-16-x4")                  # the tutorial's published EDSR
    model = models.build("edsr", scale=2, num_res_blocks=8)
    model.spec                                          # Edsr(scale=2, num_filters=64, num_res_blocks=8, ...)
    model = models.load_model("run.keras")             # rebuilt from the file alone, spec included
    model = models.from_pytorch("RealESRGAN_x4plus.pth") # official PyTorch weights, read without PyTorch
    model = models.from_preset("realesr-general-x4v3")  # a preset with its published weights, downloaded once
    model = models.from_ncnn("realesr-animevideov3-x4.param")  # an ncnn model (.param + .bin)

Every model a builder returns remembers its spec, also through a `.keras` file.
"""

import os

from sr_tf import specs
from sr_tf.errors import UserInputError
from sr_tf.models import edsr, realesrgan_import, srgan, wdsr  # noqa: F401 (the tutorial's modules; the import

# module registers how RRDBNet and SRVGGNetCompact weights are read)
from sr_tf.models.hub import from_preset  # noqa: F401 (public)
from sr_tf.models.interpolation import interpolate_weights  # noqa: F401 (re-exported)
from sr_tf.models.legacy import fitting_architecture, spec_from_layers
from sr_tf.models.ncnn import from_ncnn  # noqa: F401 (public)
from sr_tf.models.pytorch import from_pytorch  # noqa: F401 (public)
from sr_tf.specs.base import default_architecture, family_by_name, family_names
from sr_tf.weights_io import load_keras_model, load_weights

# Files of PyTorch weights (the official Real-ESRGAN releases), read by `from_pytorch`.
PYTORCH_SUFFIXES = (".pth", ".pt", ".safetensors")


def sr_model_names():
    """The names `build_sr_model` and the command lines' --model take: every super-resolution family and its
    aliases (the tutorial's 'srgan' for SRResNet)."""
    return family_names(specs.SrArchitecture)


def presets():
    """{preset name: one-line description} of every registered preset (see `sr_tf.specs`)."""
    return specs.presets()


def build(name, **overrides):
    """Builds a model from a preset ('edsr-16-x4', 'demo', 'pixelcnn-digits', 'fastgan-1024', ...) or a family
    ('edsr', 'wdsr', 'srresnet', 'pixelcnn', 'gated_pixelcnn', 'fastgan') with `overrides` of its architecture.

    Returns:
        The `keras.Model`, whose `spec` is the architecture it was built from (for 'fastgan': the generator).
    """
    return specs.architecture(name, **overrides).build()


def spec_of(model, path="the model"):
    """The architecture spec of a model: `model.spec`, or, for a `.keras` file written before models carried one,
    the spec read from its layers (`sr_tf.models.legacy`)."""
    spec = getattr(model, "spec", None)
    return spec if spec is not None else spec_from_layers(model, path)


def load_model(path):
    """Loads a `.keras` file of this package in safe mode; the model's `spec` is set (also for older files)."""
    model = load_keras_model(path)
    model.spec = spec_of(model, path)
    return model


def build_sr_model(name, scale=None, num_filters=None, num_res_blocks=None, wdsr_type=None, **architecture):
    """Builds a super-resolution model by family name, with the tutorial's published architecture by default.

    Args:
        name: 'srgan' (or 'srresnet': the SRResNet generator, x2, x4, x8), 'edsr', 'wdsr', or any other
            super-resolution family ('rrdbnet', 'srvgg', ...; `sr_model_names()`).
        scale, num_filters, num_res_blocks, wdsr_type, **architecture: the architecture; None takes the value of
            the family's published weights (its `default_preset`: x4, 64 filters and 16 blocks for srgan and edsr,
            WDSR-B with 32 filters and 32 blocks), or of its builder for a family without one. `wdsr_type` is
            ignored by the families that have none (the tutorial passes it to all).

    Returns:
        The `keras.Model`.
    """
    cls = _sr_family(name)
    given = dict(architecture, scale=scale, num_filters=num_filters, num_res_blocks=num_res_blocks)
    if "wdsr_type" in {f.name for f in cls.flags()}:
        given["wdsr_type"] = wdsr_type
    return default_architecture(cls, **given).build()


def _sr_family(name):
    """The super-resolution family class called `name` (or one of its aliases)."""
    try:
        return family_by_name(name, specs.SrArchitecture)
    except UserInputError:
        raise UserInputError(f"`name` must be one of {sr_model_names()}. Received: name={name!r}",
                             argument="name") from None


def load_sr_model(name, weights, **architecture):
    """Loads a trained super-resolution model: a whole `.keras` model, or `build_sr_model` plus a weights file.

    A `.keras` file carries its architecture, and a PyTorch file (`.pth`, `.safetensors`: RRDBNet or
    SRVGGNetCompact, see `from_pytorch`) implies it: it must be of family `name` (None: any super-resolution
    family), and every architecture option given (not None) must match its spec, else a `UserInputError` says how.

    Args:
        name: the family, as for `build_sr_model`, or None for a `.keras` file.
        weights: a `.keras` model file, a PyTorch `.pth` / `.safetensors` file, or a `.h5` / `.weights.h5` file.
        **architecture: `scale`, `num_filters`, `num_res_blocks`, `wdsr_type` for `build_sr_model`.

    Returns:
        The `keras.Model` with its trained weights.
    """
    if os.fspath(weights).endswith(".keras"):
        return _checked(name, weights, load_model(weights), architecture)
    if os.fspath(weights).endswith(PYTORCH_SUFFIXES):
        return _checked(name, weights, from_pytorch(weights), architecture)
    if name is None:
        raise UserInputError(f"Weights files carry no architecture: say which model they are for. Received: {weights}")
    model = build_sr_model(name, **architecture)
    try:
        load_weights(model, weights)
    except UserInputError as e:
        cls = _sr_family(name)
        fits = fitting_architecture(cls.default_preset, weights) if cls.default_preset else None
        if fits is None:
            raise
        differ = [f.name for f in cls.flags() if getattr(fits, f.name) != getattr(model.spec, f.name, None)]
        api = ", ".join(f"{k}={getattr(fits, k)}" for k in differ)
        flags = " ".join(f"--{k.replace('_', '-')} {getattr(fits, k)}" for k in differ)
        raise UserInputError(f"{e} It fits {fits.describe()}: pass {api} (on the command line {flags}).") from None
    return model


def sr_scale(model):
    """The upscaling factor of a super-resolution model (from its spec)."""
    return spec_of(model).scale


def _checked(name, path, model, architecture):
    """`model` (from a file that carries or implies its architecture), checked against what was asked for."""
    family = model.spec.family
    wanted = None if name is None else _sr_family(name).family
    if not isinstance(model.spec, specs.SrArchitecture) or wanted not in (None, family):
        expected = f"the '{name}'" if name else "a super-resolution model"
        raise UserInputError(f"{path} holds a '{family}' model, not {expected} that was asked for.")
    scale = model.spec.scale
    if architecture.get("scale") is not None and architecture["scale"] != scale:
        raise UserInputError(f"{path} holds an x{scale} model, not the x{architecture['scale']} that was asked "
                             "for (leave the scale out: a .keras file carries its architecture).")
    given = {k: v for k, v in architecture.items() if v is not None and k != "scale"}
    differ = {k: v for k, v in given.items() if getattr(model.spec, k, v) != v}
    if differ:
        options = ", ".join(f"{k}={v}" for k, v in differ.items())
        raise UserInputError(f"{path} holds another architecture than {options}: {model.spec.describe()} (leave the "
                             "architecture options out: a .keras file carries its architecture).")
    return model
