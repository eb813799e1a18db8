"""sr_tf: super-resolution (SRGAN, EDSR, WDSR) and image generation models for TensorFlow 2 / Keras 3.

The tutorial's names are available at the top level: `resolve`, `resolve_single`, `evaluate`, `load_image`,
`plot_sample`, `plot_samples`, `save_weights`, `load_weights`, and `interpolate_weights` (GAN strength). Importing any
of
them (or `sr_tf.models`, `sr_tf.layers`) registers every custom layer and model class, so
`keras.saving.load_model(path, safe_mode=True)` reads this package's `.keras` files.

The names are imported on first use: `import sr_tf` alone does not load TensorFlow, so the command lines answer
`--help` at once.
"""

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "load_image": "sr_tf.data.io",
    "evaluate": "sr_tf.inference",
    "resolve": "sr_tf.inference",
    "resolve_single": "sr_tf.inference",
    "resolve_photo": "sr_tf.inference",
    "interpolate_weights": "sr_tf.models.interpolation",
    "plot_sample": "sr_tf.plot",
    "plot_samples": "sr_tf.plot",
    "load_weights": "sr_tf.weights_io",
    "save_weights": "sr_tf.weights_io",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    """Imports a public name on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sr_tf' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
