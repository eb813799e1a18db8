"""Super-resolution layers: pixel shuffle, (de)normalization, residual scaling and weight normalization.

The original tutorial expressed pixel shuffle, (de)normalization and residual scaling as `Lambda` layers, which
Keras 3 cannot reload in safe mode. Each of them is a tiny layer here with a `get_config`, so every model in this
package saves as `.keras` and loads with `keras.saving.load_model(path, safe_mode=True)`. None of these layers
owns weights except `WeightNormConv2D`, so they do not change the order-based layout of legacy `.h5` files.
"""

import keras
import tensorflow as tf

from sr_tf.errors import UserInputError, check_positive

PACKAGE = "sr_tf"  # the registration package: saved files name these layers 'sr_tf>ClassName'


@tf.function(jit_compile=True, autograph=False)
def _prelu_one_pass(x, alpha):
    return tf.where(x > 0, x, alpha * x)


@keras.saving.register_keras_serializable(package=PACKAGE)
class PReLU(keras.layers.PReLU):
    """Keras's PReLU (the same `alpha` weight, arguments and config), computed in one pass in 16-bit precisions.

    Keras computes relu(x) - alpha * relu(-x): five element-wise passes over the activation, which in bfloat16
    took 44% of an SRVGGNetCompact inference at 256x256 (bench/RESULTS.md, "Precision"). In bfloat16 and float16
    this layer computes where(x > 0, x, alpha * x) as one XLA-compiled kernel (1.8 ms instead of 5.0 ms at
    256x256x64 in bfloat16); in float32 it is Keras's layer unchanged, so float32 models and their exports are
    the same graph as before.
    """

    def call(self, inputs):
        if self.compute_dtype == "float32":
            return super().call(inputs)
        return _prelu_one_pass(inputs, tf.cast(self.alpha, inputs.dtype))


class _SpaceDepth(keras.layers.Layer):
    """What PixelShuffle and PixelUnshuffle share: an integer `scale`, checked and serialized."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        check_positive(scale=scale)
        self.scale = scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelShuffle(_SpaceDepth):
    """Sub-pixel convolution upsampling (depth to space) by an integer factor.

    Rearranges a (B, H, W, C * scale**2) tensor into (B, H * scale, W * scale, C), as `tf.nn.depth_to_space`.

    Args:
        scale: upsampling factor, a positive integer.
    """

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.scale)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        h = None if h is None else h * self.scale
        w = None if w is None else w * self.scale
        return (b, h, w, c // (self.scale ** 2))


@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelUnshuffle(_SpaceDepth):
    """The inverse of `PixelShuffle` (space to depth): (B, H, W, C) to (B, H / scale, W / scale, C * scale**2), as
    `tf.nn.space_to_depth` (channel order (row offset, column offset, channel); PyTorch's `pixel_unshuffle` orders
    (channel, row offset, column offset), which an importer of its weights permutes). H and W must be multiples of
    `scale`.

    Args:
        scale: downsampling factor, a positive integer.
    """

    def call(self, inputs):
        return tf.nn.space_to_depth(inputs, self.scale)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        h = None if h is None else h // self.scale
        w = None if w is None else w // self.scale
        return (b, h, w, c * self.scale ** 2)


@keras.saving.register_keras_serializable(package=PACKAGE)
class NearestUpsample(keras.layers.Layer):
    """Nearest-neighbour upsampling by an integer factor, as PyTorch's `F.interpolate(mode='nearest')`.

    Unlike `keras.layers.UpSampling2D` (repeats, whose dynamic shapes lose the channel count on export), it is one
    `tf.image.resize`, which TFLite runs as its builtin RESIZE_NEAREST_NEIGHBOR with the channels known.

    Args:
        factor: upsampling factor, a positive integer.
    """

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        check_positive(factor=factor)
        self.factor = factor

    method = "nearest"

    def call(self, inputs):
        size = tf.shape(inputs)[1:3] * self.factor
        return tf.cast(tf.image.resize(inputs, size, method=self.method), inputs.dtype)  # bilinear gives float32

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else h * self.factor, None if w is None else w * self.factor, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BilinearUpsample(NearestUpsample):
    """Bilinear upsampling by an integer factor, as PyTorch's `F.interpolate(mode='bilinear',
    align_corners=False)` (half-pixel centres); one `tf.image.resize`, for inputs of any size in graphs too."""

    method = "bilinear"


@keras.saving.register_keras_serializable(package=PACKAGE)
class PadToMultiple(keras.layers.Layer):
    """Pads height and width at the bottom and right, by reflection, up to the next multiples of `multiple` (what
    Real-ESRGAN does before its pixel-unshuffle); sides already multiples are left as they are. Sides must be at
    least the padding plus one (reflection).

    Args:
        multiple: a positive integer.
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        check_positive(multiple=multiple)
        self.multiple = multiple

    def call(self, inputs):
        size = tf.shape(inputs)[1:3]
        pad = (self.multiple - size % self.multiple) % self.multiple
        padded = tf.pad(inputs, [[0, 0], [0, pad[0]], [0, pad[1]], [0, 0]], mode="REFLECT")
        # a reshape to its own shape, with the channels constant: converters then know them (MIRROR_PAD does not say)
        return tf.reshape(padded, tf.concat([tf.shape(padded)[:3], [inputs.shape[-1]]], axis=0))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape

        def up(n):
            return None if n is None else -(-n // self.multiple) * self.multiple

        return (b, up(h), up(w), c)

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CropToScaled(keras.layers.Layer):
    """Crops `[image, reference]` to `scale` times the reference's height and width (undoes `PadToMultiple` after
    upscaling by `scale`).

    Args:
        scale: a positive integer.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        check_positive(scale=scale)
        self.scale = scale

    def call(self, inputs):
        image, reference = inputs
        size = tf.shape(reference)[1:3] * self.scale
        return image[:, :size[0], :size[1], :]

    def compute_output_shape(self, input_shape):
        image, reference = input_shape
        scaled = [None if n is None else n * self.scale for n in reference[1:3]]
        return (image[0], *scaled, image[3])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Normalize(keras.layers.Layer):
    """Maps pixel values to a network's working range: `(x - mean) / stddev`.

    `mean` is a scalar or one value per channel. The tutorial's `normalize_01` is `Normalize(0, 255)`,
    `normalize_m11` is `Normalize(127.5, 127.5)` and EDSR's normalization is `Normalize(DIV2K_RGB_MEAN, 127.5)`.

    Args:
        mean: scalar or per-channel sequence subtracted first.
        stddev: scalar divisor.
    """

    def __init__(self, mean=0.0, stddev=1.0, **kwargs):
        super().__init__(**kwargs)
        if not stddev:
            raise UserInputError(f"`stddev` must be non-zero. Received: stddev={stddev!r}")
        self.mean = [float(m) for m in mean] if isinstance(mean, (list, tuple)) else float(mean)
        self.stddev = float(stddev)

    def call(self, inputs):
        mean = tf.constant(self.mean, dtype=inputs.dtype)
        return (inputs - mean) / tf.constant(self.stddev, dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Denormalize(Normalize):
    """Inverse of `Normalize`: `x * stddev + mean` (for example `denormalize_m11` is `Denormalize(127.5, 127.5)`)."""

    def call(self, inputs):
        mean = tf.constant(self.mean, dtype=inputs.dtype)
        return inputs * tf.constant(self.stddev, dtype=inputs.dtype) + mean


@keras.saving.register_keras_serializable(package=PACKAGE)
class Scale(keras.layers.Layer):
    """Multiplies its input by a constant (residual scaling in EDSR and WDSR).

    Args:
        factor: the constant.
    """

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = float(factor)

    def call(self, inputs):
        return inputs * tf.constant(self.factor, dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WeightNormConv2D(keras.layers.Conv2D):
    """2D convolution with weight normalization (Salimans & Kingma, 2016) for Keras 3.

    The effective kernel is `g * v / ||v||`, the norm taken over all axes but the output-channel axis; `v` is the
    layer's `kernel` variable. `g` starts at `||v||`, so a fresh layer computes exactly what a plain `Conv2D` with
    kernel `v` computes (the `data_init=False` behaviour of tensorflow-addons' `WeightNormalization`).

    The variables are created in the order tensorflow-addons used - `g`, `kernel`, `bias` and a non-trainable
    boolean `initialized` - so legacy `.h5` files written by the original WDSR code load by layer order.

    Args:
        filters, kernel_size, **kwargs: as for `keras.layers.Conv2D`.
    """

    def build(self, input_shape):
        self.g = self.add_weight(name="g", shape=(self.filters,), initializer="ones", trainable=True)
        super().build(input_shape)
        # Keras sets `built` in the parent's build; add the flag tensorflow-addons stored next to g, kernel, bias.
        self.initialized = self.add_weight(
            name="initialized", shape=(), dtype="bool", initializer="zeros", trainable=False
        )
        self.g.assign(tf.norm(tf.reshape(self.kernel, (-1, self.filters)), axis=0))
        self.initialized.assign(True)

    def convolution_op(self, inputs, kernel):
        kernel = tf.nn.l2_normalize(kernel, axis=[0, 1, 2]) * tf.cast(self.g, kernel.dtype)
        return super().convolution_op(inputs, kernel)

    # `Conv2D` stores only kernel and bias; the generic `Layer` store keeps every variable of this layer.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)
