"""Normalization shared by the families: BatchNormalization whose training step is TensorFlow's fused kernel."""

import keras
import tensorflow as tf

from sr_tf.layers.sr import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose training-mode call is TensorFlow's fused kernel (`FusedBatchNormV3`:
    the batch statistics and the normalization in one op, as tf.keras ran it). Keras 3 computes the moments and the
    normalization as separate element-wise ops, about a tenth of a second per SRResNet training step on a CPU.

    The weights, their order and names, the moving-average update (of the biased batch variance) and the results
    are Keras's, so `.h5`, `.weights.h5` and `.keras` files load either way. Inference, synchronized statistics over
    replicas, masks, renormalization and axes other than the last of an NHWC tensor go through Keras's own path.
    """

    def _fusable(self, inputs, training, mask):
        return (bool(training) and self.trainable and mask is None and not self.synchronized and not self.renorm
                and self.scale and self.center and len(inputs.shape) == 4 and self.axis in (-1, 3))

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, tf.cast(self.gamma, tf.float32), tf.cast(self.beta, tf.float32), epsilon=self.epsilon,
            data_format="NHWC", is_training=True)
        count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], tf.float32)
        variance = variance * (count - 1.0) / tf.maximum(count, 1.0)  # the kernel returns the unbiased variance
        for average, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
            average.assign(average * self.momentum + tf.cast(value, average.dtype) * (1.0 - self.momentum))
        return y
