"""sr_tf: super-resolution (SRGAN, EDSR, WDSR) and image generation models for TensorFlow 2 / Keras 3.

The tutorial's names are available at the top level: `resolve`, `resolve_single`, `evaluate`, `load_image`,
`plot_sample`, `plot_samples`, `save_weights`, `load_weights`, and `interpolate_weights` (GAN strength). Importing the package registers every custom layer
and model class, so `keras.saving.load_model(path, safe_mode=True)` reads this package's `.keras` files.
"""

from sr_tf.data.io import load_image
from sr_tf.inference import evaluate, resolve, resolve_single
from sr_tf.models.interpolation import interpolate_weights
from sr_tf.plot import plot_sample, plot_samples
from sr_tf.weights_io import load_weights, save_weights

__version__ = "0.1.0"

__all__ = ["evaluate", "resolve", "resolve_single", "load_image", "plot_sample", "plot_samples", "load_weights",
           "save_weights", "interpolate_weights", "__version__"]
