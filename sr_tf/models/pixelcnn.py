"""PixelCNN (van den Oord et al., 2016) and Gated PixelCNN builders, with either output head.

Both networks model p(x) = prod_i p(x_i | x_<i) over pixels in raster order and, for colour images, over R, G, B
within each pixel. The image input holds the integer levels 0..levels-1 as floats. Two heads:

- 'softmax' (the papers'): each value is a `levels`-way categorical; the masks split colours into R, G, B groups
  and the output holds logits of shape (H, W, C, levels).
- 'logistic_mixture' (PixelCNN++, Salimans et al., 2017): a discretized mixture of `num_mixtures` logistics per
  pixel whose G and B means depend linearly on the pixel's R (and G); the network is causal over whole pixels
  (one colour group) and outputs the mixture parameters (H, W, K (1 + 2C + C(C-1)/2)) through a
  `DiscretizedLogisticMixture` layer (see `sr_tf.layers.mixture`).

Losses, bits/dim and the samplers read the head from the model. Sampling is in `sr_tf.sampling`.
"""

import keras

from sr_tf.errors import UserInputError
from sr_tf.layers import DiscretizedLogisticMixture, FusedBatchNormalization, MaskedConv2D
from sr_tf.layers.mixture import num_params
from sr_tf.models.common import Model, with_spec
from sr_tf.specs import GatedPixelCNN, PixelCNN
from sr_tf.specs.pixelcnn import HEADS  # noqa: F401 (its public home was here)


def _check_common(input_shape, levels, hidden, head="softmax", num_mixtures=10):
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise UserInputError(f"`input_shape` must be (height, width, channels). Received: input_shape={input_shape}")
    if input_shape[0] < 2 or input_shape[1] < 2:
        raise UserInputError(f"Images must be at least 2x2. Received: input_shape={input_shape}")
    if not isinstance(levels, int) or levels < 2:
        raise UserInputError(f"`levels` must be an integer >= 2. Received: levels={levels!r}")
    if hidden < input_shape[2]:
        raise UserInputError(f"`hidden` must be at least the number of colour channels ({input_shape[2]}). "
                         f"Received: hidden={hidden}")
    if head not in HEADS:
        raise UserInputError(f"`head` must be one of {HEADS}. Received: head={head!r}")
    if not isinstance(num_mixtures, int) or num_mixtures < 1:
        raise UserInputError(f"`num_mixtures` must be a positive integer. Received: num_mixtures={num_mixtures!r}")
    return input_shape[2] if head == "softmax" else 1  # colour groups of the masks


def _image_input(input_shape, levels):
    """The image input (integer levels as floats) and its rescaling to [-1, 1]."""
    image = keras.Input(shape=tuple(input_shape), name="image")
    return image, keras.layers.Rescaling(2.0 / (levels - 1), offset=-1.0, name="rescale")(image)


def _output_head(x, input_shape, hidden, levels, head, num_mixtures, name):
    """ReLU, masked 1x1 B (h), ReLU, masked 1x1 B (h), ReLU, masked 1x1 B to the head's outputs: C x levels
    logits as (H, W, C, levels), or the mixture's parameters; float32 under mixed precision either way."""
    height, width, channels = input_shape
    groups = channels if head == "softmax" else 1
    for i in (1, 2):
        x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
        x = MaskedConv2D("B", hidden, 1, color_groups=groups, name=f"{name}_conv{i}")(x)
    x = keras.layers.ReLU(name=f"{name}_relu3")(x)
    if head == "logistic_mixture":
        x = MaskedConv2D("B", num_params(num_mixtures, channels), 1, name=f"{name}_mixture")(x)
        return DiscretizedLogisticMixture(num_mixtures, channels, levels, name="mixture", dtype="float32")(x)
    x = MaskedConv2D("B", channels * levels, 1, color_groups=channels, name=f"{name}_logits")(x)
    # float32 logits: the softmax over `levels` values needs the range
    return keras.layers.Reshape((height, width, channels, levels), name="logits", dtype="float32")(x)


def _residual_block(x, hidden, groups, batchnorm, name):
    """2h -> h (1x1) -> h (masked 3x3 B) -> 2h (1x1), each after a ReLU, plus the input."""
    y = x
    for i, (filters, size) in enumerate([(hidden, 1), (hidden, 3), (2 * hidden, 1)], start=1):
        y = keras.layers.ReLU(name=f"{name}_relu{i}")(y)
        y = MaskedConv2D("B", filters, size, color_groups=groups, name=f"{name}_conv{i}")(y)
        if batchnorm:
            y = FusedBatchNormalization(name=f"{name}_bn{i}")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def pixelcnn(input_shape=PixelCNN.input_shape, num_res_blocks=PixelCNN.num_res_blocks, hidden=PixelCNN.hidden,
             levels=PixelCNN.levels, batchnorm=PixelCNN.batchnorm, head=PixelCNN.head,
             num_mixtures=PixelCNN.num_mixtures):
    """The tutorial's PixelCNN: masked 7x7 A, residual blocks with masked 3x3 B, and a masked 1x1 head.

    Masks are applied in the computation and split colour channels into R, G, B groups, so the model is
    autoregressive over colours too. It has the blind spot of stacked masked convolutions (see `gated_pixelcnn`).

    Args:
        input_shape: (height, width, channels), channels 1 (grey) or 3 (RGB).
        num_res_blocks: residual blocks (15 in the tutorial).
        hidden: h; the residual stream has 2h channels.
        levels: values per channel (256 for 8-bit images, 2 for binarized ones).
        batchnorm: BatchNormalization after every convolution but the head's.
        head: 'softmax' or 'logistic_mixture' (see the module docstring).
        num_mixtures: mixture components of the 'logistic_mixture' head (10 in PixelCNN++).

    Returns:
        A `keras.Model` from levels (B, H, W, C) to logits (B, H, W, C, levels), or to mixture parameters.
    """
    groups = _check_common(input_shape, levels, hidden, head, num_mixtures)
    image, x = _image_input(input_shape, levels)
    x = MaskedConv2D("A", 2 * hidden, 7, color_groups=groups, name="input_conv")(x)
    if batchnorm:
        x = FusedBatchNormalization(name="input_bn")(x)
    for i in range(num_res_blocks):
        x = _residual_block(x, hidden, groups, batchnorm, name=f"block{i + 1}")
    output = _output_head(x, input_shape, hidden, levels, head, num_mixtures, name="head")
    spec = PixelCNN(input_shape=tuple(input_shape), num_res_blocks=num_res_blocks, hidden=hidden, levels=levels,
                    batchnorm=batchnorm, head=head, num_mixtures=num_mixtures)
    return with_spec(Model(image, output, name="pixelcnn"), spec)


def _gate(tanh_part, sigmoid_part, name):
    """Gated activation tanh(a) * sigmoid(b)."""
    return keras.layers.Multiply(name=f"{name}_gate")([
        keras.layers.Activation("tanh", name=f"{name}_tanh")(tanh_part),
        keras.layers.Activation("sigmoid", name=f"{name}_sigmoid")(sigmoid_part),
    ])


def gated_pixelcnn(input_shape=GatedPixelCNN.input_shape, num_layers=GatedPixelCNN.num_layers,
                   hidden=GatedPixelCNN.hidden, levels=GatedPixelCNN.levels, kernel_size=GatedPixelCNN.kernel_size,
                   first_kernel_size=GatedPixelCNN.first_kernel_size, num_classes=GatedPixelCNN.num_classes,
                   head=GatedPixelCNN.head, num_mixtures=GatedPixelCNN.num_mixtures):
    """Gated PixelCNN (van den Oord et al., 2016): vertical and horizontal stacks, no blind spot.

    The vertical stack sees every row above the current one (masks 'V_A' then 'V_B'); the horizontal stack sees the
    current row left of the pixel (1 x k masks 'A' then 'B', colour-ordered), and receives the vertical stack through
    a 1x1 link at every layer. Each layer applies tanh(a) * sigmoid(b) to both stacks and a residual 1x1 to the
    horizontal one. With `num_classes`, a class label adds a learned per-channel bias to every gate.

    Args:
        input_shape: (height, width, channels).
        num_layers: gated layers after the first (masked) pair of convolutions.
        hidden: channels of both stacks.
        levels: values per channel.
        kernel_size: kernel of the gated layers (k x k vertical, 1 x k horizontal).
        first_kernel_size: kernel of the first layer.
        num_classes: number of classes for a class-conditional model (adds a `label` input), or None.
        head, num_mixtures: the output head, as for `pixelcnn`.

    Returns:
        A `keras.Model` from levels (B, H, W, C) (and labels (B,)) to logits (B, H, W, C, levels) or mixture
        parameters.
    """
    groups = _check_common(input_shape, levels, hidden, head, num_mixtures)
    image, x = _image_input(input_shape, levels)
    inputs = [image]
    label = None
    if num_classes is not None:
        if not isinstance(num_classes, int) or num_classes < 2:
            raise UserInputError(f"`num_classes` must be an integer >= 2. Received: num_classes={num_classes!r}")
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(label)

    def condition(name):
        embedding = keras.layers.Embedding(num_classes, hidden, name=f"{name}_embedding")(label)
        return keras.layers.Reshape((1, 1, hidden), name=f"{name}_label_bias")(embedding)

    k, k1 = kernel_size, first_kernel_size
    v = MaskedConv2D("V_A", hidden, k1, name="v_input_conv")(x)
    h = MaskedConv2D("A", hidden, (1, k1), color_groups=groups, name="h_input_conv")(x)
    for i in range(1, num_layers + 1):
        name = f"layer{i}"
        parts = {}
        for part in ("tanh", "sigmoid"):
            v_pre = MaskedConv2D("V_B", hidden, k, name=f"{name}_v_conv_{part}")(v)
            link = MaskedConv2D("V_B", hidden, 1, name=f"{name}_link_{part}")(v_pre)
            h_pre = MaskedConv2D("B", hidden, (1, k), color_groups=groups, name=f"{name}_h_conv_{part}")(h)
            h_pre = keras.layers.Add(name=f"{name}_h_{part}_add")([h_pre, link])
            if label is not None:
                bias = condition(f"{name}_{part}")
                v_pre = keras.layers.Add(name=f"{name}_v_{part}_cond")([v_pre, bias])
                h_pre = keras.layers.Add(name=f"{name}_h_{part}_cond")([h_pre, bias])
            parts[part] = (v_pre, h_pre)
        v = _gate(parts["tanh"][0], parts["sigmoid"][0], name=f"{name}_v")
        h_out = _gate(parts["tanh"][1], parts["sigmoid"][1], name=f"{name}_h")
        h_out = MaskedConv2D("B", hidden, 1, color_groups=groups, name=f"{name}_h_residual")(h_out)
        h = keras.layers.Add(name=f"{name}_h_add")([h, h_out])
    output = _output_head(h, input_shape, hidden, levels, head, num_mixtures, name="head")
    spec = GatedPixelCNN(input_shape=tuple(input_shape), num_layers=num_layers, hidden=hidden, levels=levels,
                         kernel_size=kernel_size, first_kernel_size=first_kernel_size, num_classes=num_classes,
                         head=head, num_mixtures=num_mixtures)
    return with_spec(Model(inputs if label is not None else image, output, name="gated_pixelcnn"), spec)
