"""SRGAN (Ledig et al., 2017): the SRResNet generator, the discriminator and the VGG19 content-feature models.

The layers and their order follow the TF2 SRGAN tutorial, so `model.load_weights('pre_generator.h5')` on a model
built here loads the legacy Keras-2 weights its users already have.
"""

import keras
from keras import layers

from sr_tf.errors import Arg, UserInputError
from sr_tf.layers import Denormalize, FusedBatchNormalization, Normalize, PixelShuffle, PReLU
from sr_tf.models.common import IMAGE_DTYPE, Model, check_positive, imagenet_application, with_spec
from sr_tf.specs import Srresnet

LR_SIZE = 24
HR_SIZE = 96

VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"


def _upsample(x, num_filters, name):
    x = layers.Conv2D(num_filters, kernel_size=3, padding="same", name=f"{name}_conv")(x)
    x = PixelShuffle(2, name=f"{name}_shuffle")(x)
    return PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(x)


def _res_block(x_in, num_filters, momentum, name):
    x = layers.Conv2D(num_filters, kernel_size=3, padding="same", name=f"{name}_conv1")(x_in)
    x = FusedBatchNormalization(momentum=momentum, name=f"{name}_bn1")(x)
    x = PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(x)
    x = layers.Conv2D(num_filters, kernel_size=3, padding="same", name=f"{name}_conv2")(x)
    x = FusedBatchNormalization(momentum=momentum, name=f"{name}_bn2")(x)
    return layers.Add(name=f"{name}_add")([x_in, x])


SCALES = Srresnet.scales  # x2 per pixel-shuffle stage: x2, x4, x8


def generator(num_filters=Srresnet.num_filters, num_res_blocks=Srresnet.num_res_blocks, scale=Srresnet.scale):
    """Builds the SRResNet generator, which SRGAN trains further adversarially.

    Input: RGB images of any size with values in 0..255; output: the `scale` x image in the same range.

    Args:
        num_filters: feature channels (64 in the paper).
        num_res_blocks: residual blocks (16 in the paper).
        scale: 2, 4 (the paper's, and the tutorial's weights) or 8: one conv + pixel-shuffle x2 + PReLU stage
            (`up1`, `up2`, `up3`) per factor of 2. The x4 model is unchanged: same layers in the same order,
            so legacy `.h5` files load.

    Returns:
        A functional `keras.Model` with 1,554,883 parameters at the defaults (x2: 1,407,107; x8: 1,702,659).
    """
    check_positive(num_filters=num_filters, num_res_blocks=num_res_blocks)
    if scale not in SCALES:
        raise UserInputError(f"The SRGAN generator upscales x2, x4 or x8 (pixel-shuffle x2 stages). "
                             f"Received: scale={scale!r}")
    x_in = layers.Input(shape=(None, None, 3), name="lr")
    x = Normalize(0.0, 255.0, name="normalize_01")(x_in)
    x = layers.Conv2D(num_filters, kernel_size=9, padding="same", name="head_conv")(x)
    x = x_1 = PReLU(shared_axes=[1, 2], name="head_prelu")(x)
    for i in range(num_res_blocks):
        x = _res_block(x, num_filters, momentum=0.8, name=f"res{i + 1}")
    x = layers.Conv2D(num_filters, kernel_size=3, padding="same", name="body_conv")(x)
    x = FusedBatchNormalization(name="body_bn")(x)
    x = layers.Add(name="body_add")([x_1, x])
    for i in range(SCALES.index(scale) + 1):
        x = _upsample(x, num_filters * 4, name=f"up{i + 1}")
    x = layers.Conv2D(3, kernel_size=9, padding="same", activation="tanh", name="tail_conv", dtype=IMAGE_DTYPE)(x)
    x = Denormalize(127.5, 127.5, name="denormalize_m11", dtype=IMAGE_DTYPE)(x)
    return with_spec(Model(x_in, x, name="srresnet"), Srresnet(scale, num_filters, num_res_blocks))


sr_resnet = generator


def _discriminator_block(x_in, num_filters, strides, batchnorm, momentum, name):
    x = layers.Conv2D(num_filters, kernel_size=3, strides=strides, padding="same", name=f"{name}_conv")(x_in)
    if batchnorm:
        x = FusedBatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return layers.LeakyReLU(negative_slope=0.2, name=f"{name}_lrelu")(x)


def discriminator(num_filters=64, hr_size=HR_SIZE):
    """Builds the SRGAN discriminator for `hr_size` x `hr_size` RGB patches with values in 0..255.

    Args:
        num_filters: channels of the first block; later blocks use 1x, 2x, 4x and 8x.
        hr_size: side of the square input patches (96 in the paper); must be divisible by 16.

    Returns:
        A functional `keras.Model` returning the probability that each patch is real (23,569,217 parameters at
        the defaults).
    """
    check_positive(num_filters=num_filters, hr_size=hr_size)
    if hr_size % 16:
        raise UserInputError(f"`hr_size` must be divisible by 16 (four stride-2 blocks). Received: hr_size={hr_size}")
    x_in = layers.Input(shape=(hr_size, hr_size, 3), name="hr")
    x = Normalize(127.5, 127.5, name="normalize_m11")(x_in)
    plan = [(1, 1, False), (1, 2, True), (2, 1, True), (2, 2, True),
            (4, 1, True), (4, 2, True), (8, 1, True), (8, 2, True)]
    for i, (mult, strides, batchnorm) in enumerate(plan):
        x = _discriminator_block(x, num_filters * mult, strides, batchnorm, momentum=0.8, name=f"block{i + 1}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, name="fc1")(x)
    x = layers.LeakyReLU(negative_slope=0.2, name="fc1_lrelu")(x)
    x = layers.Dense(1, activation="sigmoid", name="fc2", dtype="float32")(x)
    return Model(x_in, x, name="srgan_discriminator")


def _vgg(output_layer, weights):
    vgg = imagenet_application(keras.applications.VGG19, weights, "vgg19/" + VGG19_NOTOP_FILE,
                               Arg("vgg_weights", "PATH", placeholder=True),
                               input_shape=(None, None, 3), include_top=False)
    features = keras.Model(vgg.input, vgg.layers[output_layer].output, name=f"vgg19_{vgg.layers[output_layer].name}")
    features.trainable = False
    return features


def vgg_22(weights="imagenet"):
    """VGG19 features after block2_conv2 (the paper's VGG2,2 content loss).

    Args:
        weights: 'imagenet' (downloaded and cached as Keras does), the path of a local VGG19 no-top weights file,
            or None for random weights (tests).

    Returns:
        A frozen `keras.Model` that expects caffe-preprocessed RGB input
        (`keras.applications.vgg19.preprocess_input`).
    """
    return _vgg(5, weights)


def vgg_54(weights="imagenet"):
    """VGG19 features after block5_conv4 (the paper's VGG5,4 content loss); arguments as `vgg_22`."""
    return _vgg(20, weights)
