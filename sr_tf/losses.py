"""Losses: the per-example mean, PixelCNN's negative log-likelihood, FastGAN's random-margin hinge and the
reconstruction distances of its self-supervised decoders, and ESRGAN's and Real-ESRGAN's perceptual loss and GAN
losses (vanilla and relativistic average).

Every function returns one value per example (shape (B,)), so trainers decide how to reduce over the batch and
over replicas.
"""

import keras
import tensorflow as tf

from sr_tf.errors import Arg, UserInputError
from sr_tf.layers import mixture_head
from sr_tf.models.common import imagenet_application
from sr_tf.models.realesrgan import vgg19_preactivation
from sr_tf.ops import Draws
from sr_tf.specs.fastgan import RECON_LOSSES

# torchvision's input normalization (RGB 0..1), which the authors' perceptual loss uses.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
VGG16_NOTOP_FILE = "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
# The VGG16 activations LPIPS compares (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3).
LPIPS_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


def per_example_mean(values):
    """Mean over every axis but the first: one value per example, for `tf.nn.compute_average_loss`."""
    return tf.reduce_mean(tf.reshape(tf.cast(values, tf.float32), (tf.shape(values)[0], -1)), axis=1)


def nats_per_dim(model, images, labels=None, training=False):
    """Per-example mean negative log-likelihood of a PixelCNN in nats per dimension (pixel and channel).

    The same definition for both heads: -log p(image) / (H W C), with p the softmax's categoricals or the
    discretized logistic mixture (whose per-pixel likelihood covers the C channels together).

    Args:
        model: a PixelCNN returning logits (B, H, W, C, levels) or mixture parameters (B, H, W, P).
        images: integer levels (B, H, W, C).
        labels: class labels (B,) for a class-conditional model, else None.
        training: the mode the model runs in.
    """
    inputs = tf.cast(images, tf.float32)
    output = model(inputs if labels is None else [inputs, labels], training=training)
    head = mixture_head(model)
    if head is not None:
        return per_example_mean(-head.log_prob(output, images) / head.channels)
    nll = keras.losses.sparse_categorical_crossentropy(tf.cast(images, tf.int32), tf.cast(output, tf.float32),
                                                       from_logits=True)
    return per_example_mean(nll)


def hinge_real(logits, margin_range=0.2):
    """mean(relu(U(0, 1) * 0.2 + 0.8 - logits)) per example: a hinge on real logits with a random margin."""
    logits = tf.cast(logits, tf.float32)
    margin = Draws.current().uniform(tf.shape(logits), per_image=True) * margin_range + (1.0 - margin_range)
    return per_example_mean(tf.nn.relu(margin - logits))


def hinge_fake(logits, margin_range=0.2):
    """mean(relu(U(0, 1) * 0.2 + 0.8 + logits)) per example: the hinge on fake logits."""
    return hinge_real(-tf.cast(logits, tf.float32), margin_range)


def generator_hinge(logits):
    """-mean(logits) per example: the generator's adversarial loss."""
    return -per_example_mean(logits)


class PerceptualDistance:
    """A perceptual distance on ImageNet VGG16 features (LPIPS's 'vgg' network with uniform layer weights).

    For images in [-1, 1]: VGG16 activations at `LPIPS_LAYERS`, each unit-normalized over channels, squared
    differences summed over channels, averaged over positions, summed over layers. LPIPS additionally weights
    channels with linear layers fitted to human judgements; those weights are not distributed with Keras, so this
    is LPIPS's uncalibrated variant (`lpips=False` in the reference implementation).

    Args:
        weights: 'imagenet' (downloaded once) or the path of Keras's VGG16 notop weights file. Random weights are
            not accepted: the distance would mean nothing.
    """

    def __init__(self, weights="imagenet"):
        if weights is None:
            raise UserInputError("PerceptualDistance needs ImageNet VGG16 weights ('imagenet' or a file path); "
                                 "without them use ", Arg("recon_loss", "l1"), " or ", Arg("recon_loss", "mse"),
                                 " instead. Received: weights=None")
        vgg = imagenet_application(keras.applications.VGG16, weights, VGG16_NOTOP_FILE,
                                   Arg("perceptual_weights", "PATH", placeholder=True),
                                   input_shape=(None, None, 3), include_top=False)
        self.features = self.feature_model(vgg)

    @staticmethod
    def feature_model(vgg):
        """The frozen multi-output model of `LPIPS_LAYERS` of a Keras VGG16."""
        model = keras.Model(vgg.input, [vgg.get_layer(n).output for n in LPIPS_LAYERS], name="vgg16_lpips")
        model.trainable = False
        return model

    def __call__(self, x, y):
        """Per-example distance between image batches x and y in [-1, 1]."""
        both = tf.concat([tf.cast(x, tf.float32), tf.cast(y, tf.float32)], axis=0)
        features = self.features(keras.applications.vgg16.preprocess_input((both + 1.0) * 127.5), training=False)
        total = 0.0
        for f in features:
            f = tf.cast(f, tf.float32)
            f = f / (tf.sqrt(tf.reduce_sum(tf.square(f), axis=-1, keepdims=True)) + 1e-10)
            fx, fy = tf.split(f, 2, axis=0)
            total += tf.reduce_mean(tf.reduce_sum(tf.square(fx - fy), axis=-1), axis=[1, 2])
        return total


def reconstruction_distance(kind, perceptual_weights=None):
    """The per-example distance function of the reconstruction loss `kind` (`recon_loss=` of FastGANTrainer).

    Args:
        kind: 'perceptual' (`PerceptualDistance`, needs `perceptual_weights`), 'l1' or 'mse' (pixel means).
        perceptual_weights: 'imagenet' or a VGG16 weights file; only for 'perceptual'. Passing it with another
            kind is an error, so a user who asked for the perceptual loss never silently trains with another.
    """
    if kind not in RECON_LOSSES:
        raise UserInputError(f"`recon_loss` must be one of {list(RECON_LOSSES)}. Received: recon_loss={kind!r}")
    if kind == "perceptual":
        return PerceptualDistance(perceptual_weights or "imagenet")
    if perceptual_weights is not None:
        raise UserInputError("VGG16 weights (", Arg("perceptual_weights", perceptual_weights, placeholder=True),
                             ") are only used by ", Arg("recon_loss", "perceptual"), ". Received: ",
                             Arg("recon_loss", kind))
    if kind == "l1":
        return lambda x, y: per_example_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))
    return lambda x, y: per_example_mean(tf.square(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))


def bce_with_logits(logits, real):
    """Per-example mean binary cross-entropy of `logits` against the label 1 (`real`) or 0: the vanilla GAN
    loss, over every logit of an example (one per pixel for the U-Net discriminator)."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.ones_like(logits) if real else tf.zeros_like(logits)
    return per_example_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def ragan_generator(real_logits, fake_logits):
    """ESRGAN's relativistic average GAN loss of the generator, per example: the mean of the cross-entropies of
    real - mean(fake) against 0 and of fake - mean(real) against 1 (means over the batch)."""
    real, fake = tf.cast(real_logits, tf.float32), tf.cast(fake_logits, tf.float32)
    real = tf.stop_gradient(real)
    return 0.5 * (bce_with_logits(real - tf.reduce_mean(fake), False)
                  + bce_with_logits(fake - tf.reduce_mean(real), True))


def ragan_discriminator(real_logits, fake_logits):
    """ESRGAN's relativistic average GAN loss of the discriminator, per example: the mean of the cross-entropies
    of real - mean(fake) against 1 and of fake - mean(real) against 0, each mean taken as a constant (the authors
    detach the other side)."""
    real, fake = tf.cast(real_logits, tf.float32), tf.cast(fake_logits, tf.float32)
    return 0.5 * (bce_with_logits(real - tf.stop_gradient(tf.reduce_mean(fake)), True)
                  + bce_with_logits(fake - tf.stop_gradient(tf.reduce_mean(real)), False))


class PerceptualLoss:
    """ESRGAN's and Real-ESRGAN's perceptual loss: the weighted sum over VGG19 layers (features before ReLU) of
    the mean absolute difference of the features, times `weight`.

    Args:
        layers: ((layer, weight), ...), e.g. `sr_tf.specs.realesrgan.REALESRGAN_LAYERS`.
        weight: the loss's overall weight.
        vgg_weights: see `sr_tf.models.realesrgan.vgg19_preactivation`: 'imagenet' (Keras's Caffe VGG19),
            torchvision's `.pth` (the authors' network and input normalization), a local Keras file, or None.
    """

    def __init__(self, layers, weight=1.0, vgg_weights="imagenet"):
        names = [name for name, _ in layers]
        self.layer_weights = [float(w) for _, w in layers]
        self.weight = float(weight)
        self.features, self.preprocessing = vgg19_preactivation(names, vgg_weights)

    def preprocess(self, images):
        """RGB 0..255 images as the VGG19's weights expect them (caffe: BGR minus the mean; torch: RGB 0..1
        normalized by ImageNet's mean and standard deviation)."""
        images = tf.cast(images, tf.float32)
        if self.preprocessing == "caffe":
            return keras.applications.vgg19.preprocess_input(images)
        return (images / 255.0 - tf.constant(IMAGENET_MEAN)) / tf.constant(IMAGENET_STD)

    def _features(self, images):
        features = self.features(self.preprocess(images), training=False)
        return [tf.cast(f, tf.float32) for f in (features if isinstance(features, (list, tuple)) else [features])]

    def __call__(self, x, y):
        """Per-example loss between image batches x (the output, differentiated) and y (the target, taken as a
        constant: VGG's backward pass runs for x alone), RGB 0..255."""
        total = 0.0
        targets = [tf.stop_gradient(f) for f in self._features(y)]
        for fx, fy, w in zip(self._features(x), targets, self.layer_weights):
            total += w * per_example_mean(tf.abs(fx - fy))
        return self.weight * total
