"""The networks of ESRGAN (Wang et al., 2018) and Real-ESRGAN (Wang et al., 2021): RRDBNet, SRVGGNetCompact, the
U-Net discriminator with spectral normalization and ESRGAN's VGG-style discriminator, layer for layer as the
authors' architecture code (BasicSR 1.4.2) builds them, with the same parameter counts.

Like every super-resolution model of this package the generators map RGB 0..255 to RGB 0..255 (NHWC, unclipped);
the authors' networks work on 0..1, so the models scale inside, with serializable layers.
"""

import os
import re

import keras
from keras import layers

from sr_tf.errors import Arg, UserInputError
from sr_tf.layers import (
    BilinearUpsample,
    CropToScaled,
    Denormalize,
    FusedBatchNormalization,
    NearestUpsample,
    Normalize,
    PadToMultiple,
    PixelShuffle,
    PixelUnshuffle,
    PReLU,
    SpectralNormConv2D,
)
from sr_tf.models.common import IMAGE_DTYPE, Model, check_positive, check_scale, imagenet_application, with_spec
from sr_tf.models.pytorch_files import read_state_dict
from sr_tf.models.srgan import VGG19_NOTOP_FILE
from sr_tf.specs.realesrgan import RRDBNet, SRVGGNetCompact

RESIDUAL_SCALE = 0.2  # the dense blocks' and RRDBs' residual scaling
NEGATIVE_SLOPE = 0.2  # every LeakyReLU's
# torchvision's VGG19 `features.<i>` index of each convolution, in order (conv1_1, conv1_2, conv2_1, ...).
TORCHVISION_VGG19_CONVS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


def _conv(filters, name, kernel_size=3, **kwargs):
    return layers.Conv2D(filters, kernel_size, padding="same", name=name, **kwargs)


def _lrelu(x, name):
    return layers.LeakyReLU(negative_slope=NEGATIVE_SLOPE, name=name)(x)


def _scaled_residual(x_in, x, name):
    x = layers.Rescaling(RESIDUAL_SCALE, name=f"{name}_scale")(x)
    return layers.Add(name=f"{name}_add")([x, x_in])


def _dense_block(x, num_feat, num_grow_ch, name):
    """Five 3x3 convolutions, each fed every earlier output (dense connections); out = conv5 * 0.2 + x."""
    features = [x]
    for i in range(1, 5):
        inputs = features[0] if i == 1 else layers.Concatenate(name=f"{name}_cat{i}")(features)
        features.append(_lrelu(_conv(num_grow_ch, f"{name}_conv{i}")(inputs), f"{name}_lrelu{i}"))
    out = _conv(num_feat, f"{name}_conv5")(layers.Concatenate(name=f"{name}_cat5")(features))
    return _scaled_residual(x, out, name)


def _rrdb(x, num_feat, num_grow_ch, name):
    """Three dense blocks; out = blocks(x) * 0.2 + x."""
    out = x
    for i in range(1, 4):
        out = _dense_block(out, num_feat, num_grow_ch, f"{name}_rdb{i}")
    return _scaled_residual(x, out, name)


def rrdbnet(scale=RRDBNet.scale, num_feat=RRDBNet.num_feat, num_block=RRDBNet.num_block,
            num_grow_ch=RRDBNet.num_grow_ch):
    """Builds RRDBNet, ESRGAN's generator and Real-ESRGAN's.

    Args:
        scale: 4 (two nearest x2 upsamplings), 2 or 1 (Real-ESRGAN's: the input is pixel-unshuffled by 2 or 4
            first, so the network still upsamples by 4; as Real-ESRGAN's inference does, sides that are not
            multiples of 2 or 4 are padded by reflection first and the output cropped back).
        num_feat: feature channels (64 published).
        num_block: residual-in-residual dense blocks (23 published; 6 in the anime model).
        num_grow_ch: growth channels of the dense blocks (32 published).

    Returns:
        A functional `keras.Model` (16,697,987 parameters at x4 with the defaults, 16,703,171 at x2) whose
        `spec` is its `RRDBNet`.
    """
    check_scale(scale, RRDBNet.scales)
    check_positive(num_feat=num_feat, num_block=num_block, num_grow_ch=num_grow_ch)
    x_in = layers.Input(shape=(None, None, 3), name="lr")
    x = Normalize(0.0, 255.0, name="normalize_01")(x_in)
    if scale < 4:
        x = PixelUnshuffle(4 // scale, name="pixel_unshuffle")(PadToMultiple(4 // scale, name="pad")(x))
    feat = _conv(num_feat, "conv_first")(x)
    body = feat
    for i in range(num_block):
        body = _rrdb(body, num_feat, num_grow_ch, f"rrdb{i + 1}")
    feat = layers.Add(name="body_add")([feat, _conv(num_feat, "conv_body")(body)])
    for i in (1, 2):
        feat = NearestUpsample(2, name=f"up{i}")(feat)
        feat = _lrelu(_conv(num_feat, f"conv_up{i}")(feat), f"conv_up{i}_lrelu")
    out = _conv(3, "conv_last", dtype=IMAGE_DTYPE)(_lrelu(_conv(num_feat, "conv_hr")(feat), "conv_hr_lrelu"))
    if scale < 4:
        out = CropToScaled(scale, name="crop", dtype=IMAGE_DTYPE)([out, x_in])
    out = Denormalize(0.0, 255.0, name="denormalize_01", dtype=IMAGE_DTYPE)(out)
    return with_spec(Model(x_in, out, name="rrdbnet"), RRDBNet(scale, num_feat, num_block, num_grow_ch))


def srvgg_net_compact(scale=SRVGGNetCompact.scale, num_feat=SRVGGNetCompact.num_feat,
                      num_conv=SRVGGNetCompact.num_conv):
    """Builds SRVGGNetCompact: a 3x3 convolution and `num_conv` more, each followed by a per-channel PReLU
    (initialized to 0.25, as PyTorch's), a last convolution to 3 x scale**2 channels and a pixel shuffle, plus the
    input upsampled by nearest neighbour.

    Returns:
        A functional `keras.Model` (1,213,296 parameters with 32 convolutions of 64, 621,424 with 16) whose `spec`
        is its `SRVGGNetCompact`.
    """
    check_scale(scale, SRVGGNetCompact.scales)
    check_positive(num_feat=num_feat, num_conv=num_conv)
    x_in = layers.Input(shape=(None, None, 3), name="lr")
    x = base = Normalize(0.0, 255.0, name="normalize_01", dtype=IMAGE_DTYPE)(x_in)  # (also the base's)
    for i in range(num_conv + 1):
        x = _conv(num_feat, f"body{i}_conv")(x)
        x = PReLU(shared_axes=[1, 2], alpha_initializer=keras.initializers.Constant(0.25),
                         name=f"body{i}_prelu")(x)
    x = PixelShuffle(scale, name="shuffle", dtype=IMAGE_DTYPE)(_conv(3 * scale ** 2, "conv_last", dtype=IMAGE_DTYPE)(x))
    base = NearestUpsample(scale, name="base_up", dtype=IMAGE_DTYPE)(base)
    out = layers.Add(name="add_base", dtype=IMAGE_DTYPE)([x, base])
    out = Denormalize(0.0, 255.0, name="denormalize_01", dtype=IMAGE_DTYPE)(out)
    return with_spec(Model(x_in, out, name="srvgg_net_compact"), SRVGGNetCompact(scale, num_feat, num_conv))


def unet_discriminator(num_feat=64, skip_connection=True):
    """Real-ESRGAN's U-Net discriminator (`UNetDiscriminatorSN`): a realness logit per pixel.

    A 3x3 convolution, three spectrally normalized stride-2 4x4 convolutions down, three bilinear x2 upsamplings
    each followed by a spectrally normalized 3x3 convolution (plus the encoder's feature of that size with
    `skip_connection`), two more such convolutions and a last 3x3 to one channel; LeakyReLU 0.2 after all but the
    last. Input: RGB 0..255 of any size divisible by 8.

    Returns:
        A functional `keras.Model` (4,376,897 trainable parameters with 64 features).
    """
    check_positive(num_feat=num_feat)

    def sn_conv(x, filters, name, kernel_size=3, strides=1):
        conv = SpectralNormConv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False, name=name)
        return _lrelu(conv(x), f"{name}_lrelu")

    x_in = layers.Input(shape=(None, None, 3), name="hr")
    x0 = _lrelu(_conv(num_feat, "conv0")(Normalize(0.0, 255.0, name="normalize_01")(x_in)), "conv0_lrelu")
    x1 = sn_conv(x0, num_feat * 2, "conv1", 4, 2)
    x2 = sn_conv(x1, num_feat * 4, "conv2", 4, 2)
    x = sn_conv(x2, num_feat * 8, "conv3", 4, 2)
    for i, (filters, skip) in enumerate([(num_feat * 4, x2), (num_feat * 2, x1), (num_feat, x0)], start=4):
        x = sn_conv(BilinearUpsample(2, name=f"up{i}")(x), filters, f"conv{i}")
        if skip_connection:
            x = layers.Add(name=f"skip{i}")([x, skip])
    x = sn_conv(sn_conv(x, num_feat, "conv7"), num_feat, "conv8")
    out = _conv(1, "conv9", dtype="float32")(x)
    return Model(x_in, out, name="unet_discriminator")


def vgg_style_discriminator(num_feat=64, input_size=128):
    """ESRGAN's discriminator (`VGGStyleDiscriminator128`): five stages of a 3x3 and a stride-2 4x4 convolution
    (features 64, 128, 256, 512, 512; batch normalization after all but the first convolution; LeakyReLU 0.2),
    then dense layers to 100 and to one logit.

    Args:
        num_feat: features of the first stage (64 published).
        input_size: the HR patch side, a multiple of 32 (128 published).

    Returns:
        A functional `keras.Model` from RGB 0..255 (`input_size` square) to one logit per image.
    """
    check_positive(num_feat=num_feat, input_size=input_size)
    if input_size % 32:
        raise UserInputError(f"The ESRGAN discriminator needs a patch side divisible by 32. Received: "
                             f"input_size={input_size}")
    x_in = layers.Input(shape=(input_size, input_size, 3), name="hr")
    x = Normalize(0.0, 255.0, name="normalize_01")(x_in)
    for stage, filters in enumerate([num_feat, num_feat * 2, num_feat * 4, num_feat * 8, num_feat * 8]):
        for half, (kernel, strides) in enumerate([(3, 1), (4, 2)]):
            name = f"conv{stage}_{half}"
            first = stage == 0 and half == 0
            x = _conv(filters, name, kernel_size=kernel, strides=strides, use_bias=first)(x)
            if not first:
                x = FusedBatchNormalization(momentum=0.9, epsilon=1e-5, name=f"bn{stage}_{half}")(x)
            x = _lrelu(x, f"{name}_lrelu")
    x = _lrelu(layers.Dense(100, name="linear1")(layers.Flatten(name="flatten")(x)), "linear1_lrelu")
    out = layers.Dense(1, name="linear2", dtype="float32")(x)
    return Model(x_in, out, name="vgg_style_discriminator")


def vgg19_preactivation(layer_names, weights="imagenet"):
    """VGG19 features before their ReLU (ESRGAN's and Real-ESRGAN's perceptual features), as a frozen model.

    Args:
        layer_names: the layers to output, named as the authors do: 'conv1_2', 'conv3_4', 'conv5_4', ...
        weights: 'imagenet' (Keras's VGG19, converted from the original Caffe model; it takes caffe-preprocessed
            input: `keras.applications.vgg19.preprocess_input` of RGB 0..255), the path of Keras's VGG19 no-top
            `.h5`, the path of torchvision's `vgg19-dcbb9e9d.pth` (or a `.safetensors` of it: the network the authors
            use, on RGB 0..1 normalized by ImageNet's mean and standard deviation), or None (random; tests).

    Returns:
        (model, preprocessing): a `keras.Model` from preprocessed images to the listed features, and 'caffe' or
        'torch', the input preprocessing its weights expect.
    """
    path = None if weights in (None, "imagenet") else os.fspath(weights)
    torch_file = path is not None and path.endswith((".pth", ".pt", ".safetensors"))
    vgg = imagenet_application(keras.applications.VGG19, None if torch_file else weights,
                               "vgg19/" + VGG19_NOTOP_FILE, Arg("vgg_weights", "PATH", placeholder=True),
                               input_shape=(None, None, 3), include_top=False)
    state = read_state_dict(path) if torch_file else None
    wanted, outputs, conv_index = set(layer_names), {}, 0
    x = x_in = layers.Input(shape=(None, None, 3), name="preprocessed")
    for layer in vgg.layers[1:]:
        if isinstance(layer, layers.MaxPooling2D):
            x = layers.MaxPooling2D(2, name=layer.name)(x)
            continue
        block, index = re.fullmatch(r"block(\d)_conv(\d)", layer.name).groups()
        conv = layers.Conv2D(layer.filters, 3, padding="same", name=f"conv{block}_{index}")
        pre = conv(x)
        if state is None:
            conv.set_weights(layer.get_weights())
        else:
            key = f"features.{TORCHVISION_VGG19_CONVS[conv_index]}"
            if f"{key}.weight" not in state:
                raise UserInputError(f"{path} lacks {key}.weight: expected torchvision's VGG19 state dict.")
            conv.set_weights([state[f"{key}.weight"].transpose(2, 3, 1, 0), state[f"{key}.bias"]])
        conv_index += 1
        if conv.name in wanted:
            outputs[conv.name] = pre
            if len(outputs) == len(wanted):
                break
        x = layers.ReLU(name=f"relu{block}_{index}")(pre)
    unknown = sorted(wanted - set(outputs))
    if unknown:
        raise UserInputError(f"VGG19 has no layer {unknown[0]}; its convolutions are conv1_1 ... conv5_4.")
    model = keras.Model(x_in, [outputs[name] for name in layer_names], name="vgg19_preactivation")
    model.trainable = False
    return model, "torch" if torch_file else "caffe"
