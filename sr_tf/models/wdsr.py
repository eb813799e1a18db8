"""WDSR-A and WDSR-B (Yu et al., 2018) with weight-normalised convolutions implemented for Keras 3."""

from keras import layers

from sr_tf.errors import UserInputError
from sr_tf.layers import Denormalize, Normalize, PixelShuffle, Scale, WeightNormConv2D
from sr_tf.models.common import DIV2K_RGB_MEAN, IMAGE_DTYPE, Model, check_positive, check_scale, with_spec
from sr_tf.specs import Wdsr
from sr_tf.specs.sr import WDSR_EXPANSION


def _conv(filters, kernel_size, name, activation=None, dtype=None):
    return WeightNormConv2D(filters, kernel_size, padding="same", activation=activation, name=name, dtype=dtype)


def _residual(x_in, x, scaling, name):
    x = layers.Add(name=f"{name}_add")([x_in, x])
    if scaling:
        x = Scale(scaling, name=f"{name}_scale")(x)
    return x


def res_block_a(x_in, num_filters, expansion, kernel_size, scaling, name):
    """WDSR-A block: wide 3x3 conv with ReLU, then 3x3 back to `num_filters`, plus the input."""
    x = _conv(num_filters * expansion, kernel_size, f"{name}_conv1", activation="relu")(x_in)
    x = _conv(num_filters, kernel_size, f"{name}_conv2")(x)
    return _residual(x_in, x, scaling, name)


def res_block_b(x_in, num_filters, expansion, kernel_size, scaling, name):
    """WDSR-B block: wide 1x1 with ReLU, linear low-rank 1x1 (0.8 x filters), then 3x3, plus the input."""
    linear = 0.8
    x = _conv(num_filters * expansion, 1, f"{name}_conv1", activation="relu")(x_in)
    x = _conv(int(num_filters * linear), 1, f"{name}_conv2")(x)
    x = _conv(num_filters, kernel_size, f"{name}_conv3")(x)
    return _residual(x_in, x, scaling, name)


def wdsr(scale, num_filters, num_res_blocks, res_block_expansion, res_block_scaling, res_block, wdsr_type=None):
    """Builds a WDSR network from a residual block function (see `wdsr_a` and `wdsr_b`, whose type it records)."""
    check_scale(scale, Wdsr.scales)
    check_positive(num_filters=num_filters, num_res_blocks=num_res_blocks, res_block_expansion=res_block_expansion)
    x_in = layers.Input(shape=(None, None, 3), name="lr")
    x = Normalize(DIV2K_RGB_MEAN, 127.5, name="normalize", dtype=IMAGE_DTYPE)(x_in)  # (the skip branch's input)
    # Main branch.
    m = _conv(num_filters, 3, "head_conv")(x)
    for i in range(num_res_blocks):
        m = res_block(m, num_filters, res_block_expansion, kernel_size=3, scaling=res_block_scaling,
                      name=f"res{i + 1}")
    m = _conv(3 * scale ** 2, 3, f"conv2d_main_scale_{scale}", dtype=IMAGE_DTYPE)(m)
    m = PixelShuffle(scale, name="main_shuffle", dtype=IMAGE_DTYPE)(m)
    # Skip branch.
    s = _conv(3 * scale ** 2, 5, f"conv2d_skip_scale_{scale}", dtype=IMAGE_DTYPE)(x)
    s = PixelShuffle(scale, name="skip_shuffle", dtype=IMAGE_DTYPE)(s)
    x = layers.Add(name="add", dtype=IMAGE_DTYPE)([m, s])
    x = Denormalize(DIV2K_RGB_MEAN, 127.5, name="denormalize", dtype=IMAGE_DTYPE)(x)
    spec = Wdsr(scale, num_filters, num_res_blocks, wdsr_type, res_block_expansion, res_block_scaling)
    return with_spec(Model(x_in, x, name="wdsr"), spec)


def wdsr_a(scale, num_filters=Wdsr.num_filters, num_res_blocks=Wdsr.num_res_blocks,
           res_block_expansion=WDSR_EXPANSION["a"], res_block_scaling=Wdsr.res_block_scaling):
    """Builds WDSR-A (wide activation). Input and output are RGB in 0..255; `scale` is 2, 3, 4 or 8."""
    return wdsr(scale, num_filters, num_res_blocks, res_block_expansion, res_block_scaling, res_block_a, "a")


def wdsr_b(scale, num_filters=Wdsr.num_filters, num_res_blocks=Wdsr.num_res_blocks,
           res_block_expansion=WDSR_EXPANSION["b"], res_block_scaling=Wdsr.res_block_scaling):
    """Builds WDSR-B (wide activation, linear low-rank convolution); arguments as `wdsr_a`."""
    return wdsr(scale, num_filters, num_res_blocks, res_block_expansion, res_block_scaling, res_block_b, "b")


def build_wdsr(scale=Wdsr.scale, num_filters=Wdsr.num_filters, num_res_blocks=Wdsr.num_res_blocks,
               wdsr_type=Wdsr.wdsr_type, res_block_expansion=Wdsr.res_block_expansion,
               res_block_scaling=Wdsr.res_block_scaling):
    """Builds WDSR-A or -B from the fields of a `Wdsr` spec (`res_block_expansion` None: the type's default)."""
    if wdsr_type not in WDSR_EXPANSION:
        raise UserInputError(f"`wdsr_type` must be 'a' or 'b'. Received: wdsr_type={wdsr_type!r}")
    expansion = WDSR_EXPANSION[wdsr_type] if res_block_expansion is None else res_block_expansion
    builder = wdsr_a if wdsr_type == "a" else wdsr_b
    return builder(scale, num_filters, num_res_blocks, expansion, res_block_scaling)
