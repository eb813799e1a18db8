"""Small serializable layers shared by the model builders.

The original tutorial expressed pixel shuffle, (de)normalization and residual scaling as `Lambda` layers, which
Keras 3 cannot reload in safe mode. Each of them is a tiny layer here with a `get_config`, so every model in this
package saves as `.keras` and loads with `keras.saving.load_model(path, safe_mode=True)`. None of these layers
owns weights except `WeightNormConv2D`, so they do not change the order-based layout of legacy `.h5` files.
"""

import keras
import numpy as np
import tensorflow as tf

_PACKAGE = "sr_tf"


def _check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel convolution upsampling (depth to space) by an integer factor.

    Rearranges a (B, H, W, C * scale**2) tensor into (B, H * scale, W * scale, C), as `tf.nn.depth_to_space`.

    Args:
        scale: upsampling factor, a positive integer.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        _check_positive_int("scale", scale)
        self.scale = scale

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.scale)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        h = None if h is None else h * self.scale
        w = None if w is None else w * self.scale
        return (b, h, w, c // (self.scale ** 2))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=_PACKAGE)
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
            raise ValueError(f"`stddev` must be non-zero. Received: stddev={stddev!r}")
        self.mean = [float(m) for m in mean] if isinstance(mean, (list, tuple)) else float(mean)
        self.stddev = float(stddev)

    def call(self, inputs):
        mean = tf.constant(self.mean, dtype=inputs.dtype)
        return (inputs - mean) / tf.constant(self.stddev, dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Denormalize(Normalize):
    """Inverse of `Normalize`: `x * stddev + mean` (for example `denormalize_m11` is `Denormalize(127.5, 127.5)`)."""

    def call(self, inputs):
        mean = tf.constant(self.mean, dtype=inputs.dtype)
        return inputs * tf.constant(self.stddev, dtype=inputs.dtype) + mean


@keras.saving.register_keras_serializable(package=_PACKAGE)
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


@keras.saving.register_keras_serializable(package=_PACKAGE)
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


def _channel_groups(channels, groups):
    """Colour group of each of `channels` channels split into `groups` contiguous groups (R, then G, then B)."""
    return (np.arange(channels) * groups) // channels


def autoregressive_mask(mask_type, kernel_size, in_channels, out_channels, color_groups=1):
    """The (kh, kw, in, out) 0/1 mask of a masked convolution, as a float32 numpy array.

    'A' and 'B' are PixelCNN's masks: every row above the centre, and the centre row left of the centre. At the
    centre itself, with `color_groups` colour groups (channels split into contiguous R, G, B blocks), an output in
    group g sees inputs of groups < g ('A', used on the image) or <= g ('B', every later layer); with one group, 'A'
    excludes the centre and 'B' includes it. A (1, k) kernel with these masks is the gated PixelCNN's horizontal
    stack. 'V_A' (rows strictly above the centre) and 'V_B' (rows up to and including the centre row) are the
    vertical stack's masks; they do not split colours, because the vertical stack only carries rows above.

    Args:
        mask_type: 'A', 'B', 'V_A' or 'V_B'.
        kernel_size: (kh, kw), both odd.
        in_channels, out_channels: channel counts.
        color_groups: colour channels of the modelled image (1 for grey, 3 for RGB).
    """
    kh, kw = kernel_size
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"A masked convolution needs an odd kernel size. Received: kernel_size={kernel_size}")
    ch, cw = kh // 2, kw // 2
    mask = np.zeros((kh, kw, in_channels, out_channels), dtype=np.float32)
    if mask_type in ("V_A", "V_B"):
        mask[:ch + (mask_type == "V_B")] = 1.0
        return mask
    if mask_type not in ("A", "B"):
        raise ValueError(f"`mask_type` must be 'A', 'B', 'V_A' or 'V_B'. Received: mask_type={mask_type!r}")
    if color_groups > 1 and min(in_channels, out_channels) < color_groups:
        raise ValueError(f"Colour masking with {color_groups} groups needs at least {color_groups} input and output "
                         f"channels. Received: in_channels={in_channels}, out_channels={out_channels}")
    mask[:ch] = 1.0
    mask[ch, :cw] = 1.0
    in_group = _channel_groups(in_channels, color_groups)[:, None]
    out_group = _channel_groups(out_channels, color_groups)[None, :]
    mask[ch, cw] = (in_group < out_group) if mask_type == "A" else (in_group <= out_group)
    return mask


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedConv2D(keras.layers.Conv2D):
    """A convolution whose kernel is multiplied by an autoregressive mask in every forward pass.

    The mask (see `autoregressive_mask`) is a constant applied in the computation, `conv(x, kernel * mask)`; the
    kernel variable is never overwritten, so masked weights receive exactly zero gradient and never move, and the
    layer saves, loads and serializes like a `Conv2D`. Padding is always 'same' and strides are 1.

    Args:
        mask_type: 'A', 'B', 'V_A' or 'V_B'.
        filters: output channels.
        kernel_size: an odd int or (kh, kw).
        color_groups: colour channels of the modelled image; 3 orders R before G before B within each pixel.
        **kwargs: other `keras.layers.Conv2D` arguments (activation, use_bias, initializers, name, ...).
    """

    def __init__(self, mask_type, filters, kernel_size, color_groups=1, **kwargs):
        for fixed in ("strides", "dilation_rate", "groups"):
            if fixed in kwargs:
                raise ValueError(f"MaskedConv2D does not take `{fixed}`. Received: {fixed}={kwargs[fixed]!r}")
        kwargs.pop("padding", None)  # always 'same'; accepted so that configs round-trip
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        if mask_type not in ("A", "B", "V_A", "V_B"):
            raise ValueError(f"`mask_type` must be 'A', 'B', 'V_A' or 'V_B'. Received: mask_type={mask_type!r}")
        _check_positive_int("color_groups", color_groups)
        self.mask_type = mask_type
        self.color_groups = color_groups
        self.mask = None

    def build(self, input_shape):
        super().build(input_shape)
        self.mask = autoregressive_mask(self.mask_type, self.kernel_size, int(input_shape[-1]), self.filters,
                                        self.color_groups)

    def masked_kernel(self):
        """The kernel the layer convolves with: `kernel * mask`."""
        return self.kernel * tf.constant(self.mask, dtype=self.kernel.dtype)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * tf.constant(self.mask, dtype=kernel.dtype))

    def get_config(self):
        config = super().get_config()
        for key in ("padding", "strides", "dilation_rate", "groups"):
            config.pop(key, None)
        return {**config, "mask_type": self.mask_type, "color_groups": self.color_groups}


# ---------------------------------------------------------------------------------------------------------- FastGAN
class _SpectralNorm:
    """Spectral normalization with PyTorch's `torch.nn.utils.spectral_norm` semantics, mixed into a conv layer.

    The trainable variable stays the raw kernel W. Every forward pass uses W / sigma, where sigma estimates W's
    largest singular value from a non-trainable vector `u` (one per output channel). In training mode one power
    iteration first refreshes `u`: v = l2(W^T u), u = l2(W v); sigma = u^T W v with u and v under stop-gradient,
    so the gradient flows through W in both the numerator and sigma. In inference mode `u` is used as stored. The
    kernel variable is never overwritten (Keras's own `SpectralNormalization` wrapper replaces it in place).

    W is the kernel reshaped to (fan-in, output channels); `_output_axis` names the kernel's output-channel axis.
    """

    _output_axis = -1
    epsilon = 1e-12

    def _build_u(self):
        self.u = self.add_weight(name="u", shape=(self.filters,), trainable=False,
                                 initializer=keras.initializers.RandomNormal(0.0, 1.0))

    def _kernel_matrix(self, kernel):
        if self._output_axis != -1:
            kernel = tf.experimental.numpy.moveaxis(kernel, self._output_axis, -1)
        return tf.reshape(kernel, (-1, self.filters))

    def normalized_kernel(self, training=False):
        """W / sigma; in training mode after one power iteration that updates `u`."""
        kernel = tf.convert_to_tensor(self.kernel)
        matrix = tf.cast(self._kernel_matrix(kernel), tf.float32)
        u = tf.math.l2_normalize(tf.cast(tf.convert_to_tensor(self.u), tf.float32), epsilon=self.epsilon)
        v = tf.stop_gradient(tf.math.l2_normalize(tf.linalg.matvec(matrix, u), epsilon=self.epsilon))
        if training:
            u = tf.stop_gradient(tf.math.l2_normalize(tf.linalg.matvec(matrix, v, transpose_a=True),
                                                      epsilon=self.epsilon))
            self.u.assign(u)
        sigma = tf.tensordot(v, tf.linalg.matvec(matrix, u), axes=1)
        return kernel / tf.cast(sigma, kernel.dtype)

    def _finish(self, outputs):
        if self.use_bias:
            outputs = outputs + tf.cast(self.bias, outputs.dtype)
        return outputs if self.activation is None else self.activation(outputs)

    # The convolution layers store only kernel and bias; the generic `Layer` store keeps `u` as well.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpectralNormConv2D(_SpectralNorm, keras.layers.Conv2D):
    """`keras.layers.Conv2D` with spectral normalization (PyTorch semantics; see `normalized_kernel`).

    Args:
        filters, kernel_size, **kwargs: as for `keras.layers.Conv2D` (channels_last only).
    """

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def call(self, inputs, training=False):
        return self._finish(self.convolution_op(inputs, self.normalized_kernel(training)))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpectralNormConv2DTranspose(_SpectralNorm, keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with spectral normalization over its output channels (PyTorch's dim=1).

    Args:
        filters, kernel_size, **kwargs: as for `keras.layers.Conv2DTranspose` (channels_last only).
    """

    _output_axis = 2  # the kernel is (kh, kw, out, in)

    def build(self, input_shape):
        super().build(input_shape)
        self._build_u()

    def call(self, inputs, training=False):
        outputs = keras.ops.conv_transpose(inputs, self.normalized_kernel(training), strides=list(self.strides),
                                           padding=self.padding, output_padding=self.output_padding,
                                           dilation_rate=self.dilation_rate, data_format=self.data_format)
        return self._finish(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class GLU(keras.layers.Layer):
    """Gated linear unit over channels: the first half times the sigmoid of the second half."""

    def call(self, inputs):
        value, gate = tf.split(inputs, 2, axis=-1)
        return value * tf.sigmoid(gate)

    def compute_output_shape(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] % 2:
            raise ValueError(f"GLU needs an even number of channels. Received: input_shape={input_shape}")
        return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] // 2)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NoiseInjection(keras.layers.Layer):
    """Adds `weight * n`, with n fresh N(0, 1) noise of shape (B, H, W, 1) at every call (training or not).

    `weight` is one trainable scalar that starts at 0, so a new layer is the identity.
    """

    def build(self, input_shape):
        self.weight = self.add_weight(name="weight", shape=(1,), initializer="zeros", trainable=True)

    def call(self, inputs):
        shape = tf.concat([tf.shape(inputs)[:-1], [1]], axis=0)
        noise = tf.random.normal(shape, dtype=inputs.dtype)
        return inputs + tf.cast(self.weight, inputs.dtype) * noise

    def compute_output_shape(self, input_shape):
        return input_shape


def crop_quadrant(images, part):
    """Quadrant `part[i]` of each image i of an (B, H, W, C) batch: 0 top-left, 1 top-right, 2 bottom-left,
    3 bottom-right (H and W even)."""
    h, w = images.shape[1] // 2, images.shape[2] // 2
    quadrants = tf.stack([images[:, :h, :w], images[:, :h, w:], images[:, h:, :w], images[:, h:, w:]], axis=1)
    return tf.gather(quadrants, tf.cast(part, tf.int32), axis=1, batch_dims=1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class QuadrantCrop(keras.layers.Layer):
    """Takes `[features, part]` and returns `crop_quadrant(features, part)` (the discriminator's decoder_part input)."""

    def call(self, inputs):
        features, part = inputs
        return crop_quadrant(features, tf.reshape(part, (-1,)))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape[0]
        return (b, None if h is None else h // 2, None if w is None else w // 2, c)
