"""GAN layers of FastGAN: spectrally normalized convolutions (PyTorch semantics), GLU, noise injection and the
quadrant crop of the self-supervised discriminator."""

import keras
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.layers.sr import PACKAGE
from sr_tf.ops import Draws


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


@keras.saving.register_keras_serializable(package=PACKAGE)
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


@keras.saving.register_keras_serializable(package=PACKAGE)
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


@keras.saving.register_keras_serializable(package=PACKAGE)
class GLU(keras.layers.Layer):
    """Gated linear unit over channels: the first half times the sigmoid of the second half."""

    def call(self, inputs):
        value, gate = tf.split(inputs, 2, axis=-1)
        return value * tf.sigmoid(gate)

    def compute_output_shape(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] % 2:
            raise UserInputError(f"GLU needs an even number of channels. Received: input_shape={input_shape}")
        return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] // 2)


@keras.saving.register_keras_serializable(package=PACKAGE)
class NoiseInjection(keras.layers.Layer):
    """Adds `weight * n`, with n fresh N(0, 1) noise of shape (B, H, W, 1) at every call (training or not).

    `weight` is one trainable scalar that starts at 0, so a new layer is the identity. The noise comes from
    `Draws.current()`: stateful by default; in a train step that activates seeded per-replica draws, each
    replica gets its rows of the global batch's noise.

    Args:
        source: where n comes from: 'random' (drawn as above), 'input' (the layer is called on `[x, n]`, the
            noise an input of the model: what an exported generator needs to be deterministic) or 'none' (n = 0:
            the layer is the identity, its weight kept).
    """

    SOURCES = ("random", "input", "none")

    def __init__(self, source="random", **kwargs):
        super().__init__(**kwargs)
        if source not in self.SOURCES:
            raise UserInputError(f"`source` must be one of {list(self.SOURCES)}. Received: source={source!r}")
        self.source = source

    def build(self, input_shape):
        self.weight = self.add_weight(name="weight", shape=(1,), initializer="zeros", trainable=True)

    def call(self, inputs):
        if self.source == "none":
            return inputs
        if self.source == "input":
            inputs, noise = inputs
            noise = tf.cast(noise, inputs.dtype)
        else:
            shape = tf.concat([tf.shape(inputs)[:-1], [1]], axis=0)
            noise = Draws.current().normal(shape, dtype=inputs.dtype, per_image=True)
        return inputs + tf.cast(self.weight, inputs.dtype) * noise

    def compute_output_shape(self, input_shape):
        return input_shape[0] if self.source == "input" else input_shape

    def get_config(self):
        return {**super().get_config(), "source": self.source}


def crop_quadrant(images, part):
    """Quadrant `part[i]` of each image i of an (B, H, W, C) batch: 0 top-left, 1 top-right, 2 bottom-left,
    3 bottom-right (H and W even)."""
    h, w = images.shape[1] // 2, images.shape[2] // 2
    quadrants = tf.stack([images[:, :h, :w], images[:, :h, w:], images[:, h:, :w], images[:, h:, w:]], axis=1)
    return tf.gather(quadrants, tf.cast(part, tf.int32), axis=1, batch_dims=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class QuadrantCrop(keras.layers.Layer):
    """Takes `[features, part]` and returns `crop_quadrant(features, part)` (the discriminator's decoder_part input)."""

    def call(self, inputs):
        features, part = inputs
        return crop_quadrant(features, tf.reshape(part, (-1,)))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape[0]
        return (b, None if h is None else h // 2, None if w is None else w // 2, c)
