"""FastGAN (Liu et al., ICLR 2021): a light generator with skip-layer excitation and a self-supervised discriminator.

The layer structure, channel widths, initialization and parameter counts follow the authors' official code at
256, 512 and 1024 px (generator 29,127,846 / 29,174,392 / 29,176,512 and discriminator 11,526,160 / 11,526,496 /
11,528,192 trainable parameters with ngf = ndf = 64, nz = 256). Every convolution is spectrally normalized and has
no bias. What differs, on purpose:

- Both generator outputs end in tanh at every size (the official code applies it only at 1024).
- 128 and 64 px work (the official code crashes below 256): the generator stops at `im_size`, and the
  discriminator's big path starts at `im_size` with the channels it has at that resolution in the 256 network, so
  its last features are always 8x8; its small branch and the decoders shrink the same way.
- The random quadrant of `decoder_part` is drawn per image instead of once per batch.

Sizes: the generator's second output and the discriminator's small input have `small_size(im_size)` =
min(128, im_size / 2) pixels; the decoders reconstruct `reconstruction_size(im_size)` = min(128, im_size).
"""

import math

import keras
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.layers import (
    GLU,
    FusedBatchNormalization,
    NoiseInjection,
    QuadrantCrop,
    SpectralNormConv2D,
    SpectralNormConv2DTranspose,
)
from sr_tf.models.common import Model, check_positive, with_spec
from sr_tf.specs import FastGAN
from sr_tf.specs.fastgan import IM_SIZES

# Channel multipliers of ngf (generator) and ndf (discriminator) by resolution, as in the official code.
GENERATOR_CHANNELS = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125}
DISCRIMINATOR_CHANNELS = {4: 16, 8: 16, 16: 8, 32: 4, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125}
# Generator resolutions built with the two-convolution, noise-injecting UpBlockComp (the others use UpBlock),
# and the skip-layer excitation sources: feat_r *= SLE(feat_{SLE_SOURCES[r]}).
COMP_BLOCKS = (8, 32, 128, 512)
SLE_SOURCES = {64: 4, 128: 8, 256: 16, 512: 32}
# Output channels of the decoders' up-blocks, times `decoder_width` (the official SimpleDecoder has width 32:
# 128, 64, 64, 32 channels from 8x8 to 128x128).
DECODER_CHANNELS = (4, 2, 2, 1)
DECODER_INPUT_SIZE = 8


def small_size(im_size):
    """Side of the generator's second output and of the discriminator's small input: min(128, im_size / 2)."""
    return min(128, im_size // 2)


def reconstruction_size(im_size):
    """Side of the discriminator decoders' reconstructions: min(128, im_size)."""
    return min(128, im_size)


def _check(im_size, **widths):
    if im_size not in IM_SIZES:
        raise UserInputError(f"`im_size` must be one of {list(IM_SIZES)}. Received: im_size={im_size!r}")
    check_positive(**widths)


def _channels(multipliers, width, name, resolutions):
    channels = {r: int(multipliers[r] * width) for r in multipliers}
    for r in resolutions:
        if channels[r] < 1:
            raise UserInputError(f"`{name}`={width} gives {channels[r]} channels at {r}x{r}; use at least "
                             f"{math.ceil(1 / multipliers[r])}. Received: {name}={width}")
    return channels


def _conv(filters, kernel_size, name, strides=1, padding="same"):
    return SpectralNormConv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                              kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02), name=name)


def _batchnorm(name):
    # PyTorch's BatchNorm2d defaults (momentum 0.1, eps 1e-5) and the official init: gamma ~ N(1, 0.02), beta 0.
    return FusedBatchNormalization(momentum=0.9, epsilon=1e-5, name=name,
                                           gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02))


def _leaky(x, name):
    return keras.layers.LeakyReLU(negative_slope=0.2, name=name)(x)


def _up_block(x, filters, name):
    """UpBlock: nearest x2 -> conv3 (2 * filters) -> BN -> GLU."""
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    x = _conv(2 * filters, 3, f"{name}_conv")(x)
    x = _batchnorm(f"{name}_bn")(x)
    return GLU(name=f"{name}_glu")(x)


def _up_block_comp(x, filters, name, noise, noise_inputs):
    """UpBlockComp: nearest x2 -> [conv3 (2 * filters) -> noise -> BN -> GLU] twice. With noise='input', each
    noise map is a new model input appended to `noise_inputs`."""
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    for i in (1, 2):
        x = _conv(2 * filters, 3, f"{name}_conv{i}")(x)
        layer = NoiseInjection(source=noise, name=f"{name}_noise{i}")
        if noise == "input":
            noise_inputs.append(keras.Input((*x.shape[1:3], 1), name=f"{layer.name}_map"))
            x = layer([x, noise_inputs[-1]])
        else:
            x = layer(x)
        x = _batchnorm(f"{name}_bn{i}")(x)
        x = GLU(name=f"{name}_glu{i}")(x)
    return x


def _pool_to(x, size, name):
    """Adaptive average pooling to `size` x `size` for square inputs whose side is a multiple of `size`."""
    factor = x.shape[1] // size
    return x if factor == 1 else keras.layers.AveragePooling2D(factor, name=name)(x)


def skip_layer_excitation(small, big, name):
    """SLE: `big * sigmoid(conv1(swish(conv4-valid(avg-pool-to-4(small)))))`, one gate per channel of `big`."""
    channels = big.shape[-1]
    x = _pool_to(small, 4, f"{name}_pool")
    x = _conv(channels, 4, f"{name}_conv1", padding="valid")(x)
    x = keras.layers.Activation("swish", name=f"{name}_swish")(x)
    x = _conv(channels, 1, f"{name}_conv2")(x)
    x = keras.layers.Activation("sigmoid", name=f"{name}_sigmoid")(x)
    return keras.layers.Multiply(name=f"{name}_excite")([big, x])


def _to_image(x, kernel_size, name):
    x = _conv(3, kernel_size, name)(x)
    return keras.layers.Activation("tanh", dtype="float32", name=f"{name}_tanh")(x)


def generator(im_size=FastGAN.im_size, ngf=FastGAN.ngf, nz=FastGAN.nz, noise="random"):
    """The FastGAN generator: noise (B, nz) -> [(B, im_size, im_size, 3), (B, s, s, 3)] with s = `small_size`.

    Both images are in [-1, 1]. Sample with `training=False` (BatchNorm in inference mode); the noise layers draw
    fresh noise in both modes, as in the original.

    Args:
        im_size: output side, one of 64, 128, 256, 512, 1024.
        ngf: width; channels per resolution are `GENERATOR_CHANNELS[r] * ngf`.
        nz: length of the noise vector.
        noise: the `NoiseInjection` layers' `source`: 'random' (training and sampling), 'input' (the inputs are
            then `[z, map_1, ..., map_k]`, one (B, r, r, 1) N(0, 1) map per noise layer, named `<layer>_map`, in the
            order the layers draw: what deployment uses) or 'none' (no spatial noise).

    Returns:
        A functional `keras.Model` named 'fastgan_generator' whose `spec` is a `FastGAN` spec (its `ndf` and
        `decoder_width` are the discriminator's defaults unless the model was built from a spec with others).
    """
    _check(im_size, ngf=ngf, nz=nz)
    if noise not in NoiseInjection.SOURCES:
        raise UserInputError(f"`noise` must be one of {list(NoiseInjection.SOURCES)}. Received: noise={noise!r}")
    noise_inputs = []
    resolutions = [2 ** k for k in range(2, int(math.log2(im_size)) + 1)]
    nfc = _channels(GENERATOR_CHANNELS, ngf, "ngf", resolutions)
    z = keras.Input((nz,), name="noise")
    x = keras.layers.Reshape((1, 1, nz), name="init_reshape")(z)
    x = SpectralNormConv2DTranspose(2 * nfc[4], 4, padding="valid", use_bias=False, name="init_convt",
                                    kernel_initializer=keras.initializers.RandomNormal(0.0, 0.02))(x)
    x = _batchnorm("init_bn")(x)
    features = {4: GLU(name="init_glu")(x)}
    for r in resolutions[1:]:
        if r in COMP_BLOCKS:
            x = _up_block_comp(features[r // 2], nfc[r], f"feat_{r}", noise, noise_inputs)
        else:
            x = _up_block(features[r // 2], nfc[r], f"feat_{r}")
        if r in SLE_SOURCES:
            x = skip_layer_excitation(features[SLE_SOURCES[r]], x, f"se_{r}")
        features[r] = x
    big = _to_image(features[im_size], 3, "to_big")
    small = _to_image(features[small_size(im_size)], 1, "to_small")
    model = Model([z, *noise_inputs] if noise_inputs else z, [big, small], name="fastgan_generator")
    return with_spec(model, FastGAN(im_size=im_size, ngf=ngf, nz=nz))


def _down_block(x, filters, name):
    """DownBlock: conv4 s2 -> BN -> LeakyReLU 0.2."""
    x = _conv(filters, 4, f"{name}_conv", strides=2)(x)
    return _leaky(_batchnorm(f"{name}_bn")(x), f"{name}_lrelu")


def _down_block_comp(x, filters, name):
    """DownBlockComp: (conv4 s2 -> BN -> LReLU -> conv3 -> BN -> LReLU + avgpool2 -> conv1 -> BN -> LReLU) / 2."""
    main = _down_block(x, filters, f"{name}_main1")
    main = _conv(filters, 3, f"{name}_main2_conv")(main)
    main = _leaky(_batchnorm(f"{name}_main2_bn")(main), f"{name}_main2_lrelu")
    direct = keras.layers.AveragePooling2D(2, name=f"{name}_direct_pool")(x)
    direct = _conv(filters, 1, f"{name}_direct_conv")(direct)
    direct = _leaky(_batchnorm(f"{name}_direct_bn")(direct), f"{name}_direct_lrelu")
    added = keras.layers.Add(name=f"{name}_add")([main, direct])
    return keras.layers.Rescaling(0.5, name=f"{name}_half")(added)


def simple_decoder(x, out_size, name, width=32):
    """SimpleDecoder: avg-pool to 8 -> up-blocks (4, 2, 2, 1 x `width` channels) up to `out_size` -> conv3 -> tanh."""
    x = _pool_to(x, DECODER_INPUT_SIZE, f"{name}_pool")
    steps = int(math.log2(out_size // DECODER_INPUT_SIZE))
    for i, filters in enumerate(DECODER_CHANNELS[:steps]):
        x = _up_block(x, filters * width, f"{name}_up{i + 1}")
    return _to_image(x, 3, f"{name}_out")


def discriminator(im_size=FastGAN.im_size, ndf=FastGAN.ndf, decoder_width=FastGAN.decoder_width):
    """The FastGAN discriminator with its three reconstruction decoders.

    Inputs `[big, small, part]`: images (B, im_size, im_size, 3) and (B, s, s, 3) in [-1, 1] with s =
    `small_size(im_size)` (for real images, the batch resized; for fakes, the generator's two outputs), and an
    int32 quadrant index per image (0..3) for `decoder_part`.

    Outputs `[logits, rec_big, rec_small, rec_part]`: the two 5x5 logit maps flattened and concatenated
    (B, 50), and the three decoders' reconstructions (B, r, r, 3) in [-1, 1], r = `reconstruction_size(im_size)`:
    of the whole image (from the big path's 8x8 features), of the whole image again (from the small branch) and
    of quadrant `part` (from that quadrant of the big path's 16x16 features). Only real images need the decoders;
    `keras.Model(d.inputs[:2], d.outputs[0])` shares the layers and computes the logits alone.

    Args:
        im_size: input side, one of 64, 128, 256, 512, 1024.
        ndf: width; channels per resolution are `DISCRIMINATOR_CHANNELS[r] * ndf`.
        decoder_width: the decoders' width (32 in the official code, whatever ndf is); their up-blocks have
            4, 2, 2 and 1 times as many channels. Lower it for quick CPU runs: at 32 the decoders dominate the
            cost of a small discriminator.

    Returns:
        A functional `keras.Model` named 'fastgan_discriminator'.
    """
    _check(im_size, ndf=ndf, decoder_width=decoder_width)
    top = min(im_size, 256)
    used = [r for r in DISCRIMINATOR_CHANNELS if 8 <= r <= 2 * top or r == im_size]
    nfc = _channels(DISCRIMINATOR_CHANNELS, ndf, "ndf", used)
    s = small_size(im_size)
    big_in = keras.Input((im_size, im_size, 3), name="image")
    small_in = keras.Input((s, s, 3), name="image_small")
    part_in = keras.Input((), dtype="int32", name="part")

    # Big path: down to `top` (256 at most) with the official stems, then DownBlockComps to 8x8.
    if im_size == 1024:
        x = _leaky(_conv(nfc[1024], 4, "from_big_conv1", strides=2)(big_in), "from_big_lrelu1")
        x = _conv(nfc[512], 4, "from_big_conv2", strides=2)(x)
        x = _leaky(_batchnorm("from_big_bn2")(x), "from_big_lrelu2")
    elif im_size == 512:
        x = _leaky(_conv(nfc[512], 4, "from_big_conv1", strides=2)(big_in), "from_big_lrelu1")
    else:
        x = _leaky(_conv(nfc[2 * top], 3, "from_big_conv1")(big_in), "from_big_lrelu1")
    features, r = {top: x}, top
    while r > 8:
        r //= 2
        x = _down_block_comp(features[2 * r], nfc[2 * r], f"down_to_{r}")
        if 8 * r in features:  # SLE from three levels up: 256 -> 32, 128 -> 16, 64 -> 8
            x = skip_layer_excitation(features[8 * r], x, f"se_{8 * r}_{r}")
        features[r] = x
    x = _conv(nfc[8], 1, "rf_big_conv1")(features[8])
    x = _leaky(_batchnorm("rf_big_bn")(x), "rf_big_lrelu")
    rf_big = _conv(1, 4, "rf_big_conv2", padding="valid")(x)

    # Small branch: conv4 s2, then DownBlocks to 8x8 (channels at resolution r: those of 4r).
    r = s // 2
    x = _leaky(_conv(nfc[4 * r], 4, "from_small_conv", strides=2)(small_in), "from_small_lrelu")
    while r > 8:
        r //= 2
        x = _down_block(x, nfc[4 * r], f"from_small_down_to_{r}")
    feat_small = x
    rf_small = _conv(1, 4, "rf_small_conv", padding="valid")(feat_small)

    flat = [keras.layers.Flatten(name=f"{n}_flatten")(t) for n, t in (("rf_big", rf_big), ("rf_small", rf_small))]
    logits = keras.layers.Concatenate(name="logits", dtype="float32")(flat)
    rec = reconstruction_size(im_size)
    rec_big = simple_decoder(features[8], rec, "decoder_big", decoder_width)
    rec_small = simple_decoder(feat_small, rec, "decoder_small", decoder_width)
    quadrant = QuadrantCrop(name="part_crop")([features[16], part_in])
    rec_part = simple_decoder(quadrant, rec, "decoder_part", decoder_width)
    model = Model([big_in, small_in, part_in], [logits, rec_big, rec_small, rec_part], name="fastgan_discriminator")
    return with_spec(model, FastGAN(im_size=im_size, ndf=ndf, decoder_width=decoder_width))


def count_trainable(model):
    """Number of trainable parameters (spectral-norm `u` vectors and BatchNorm statistics excluded)."""
    return int(sum(int(tf.size(w)) for w in model.trainable_weights))
