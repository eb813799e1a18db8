"""EDSR (Lim et al., 2017) with the tutorial's layer order, for scales 2, 3, 4 and 8."""

from keras import layers

from sr_tf.layers import Denormalize, Normalize, PixelShuffle, Scale
from sr_tf.models.common import DIV2K_RGB_MEAN, IMAGE_DTYPE, Model, check_positive, upsample_steps, with_spec
from sr_tf.specs import Edsr


def _res_block(x_in, filters, scaling, name):
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv1")(x_in)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(x)
    if scaling:
        x = Scale(scaling, name=f"{name}_scale")(x)
    return layers.Add(name=f"{name}_add")([x_in, x])


def edsr(scale, num_filters=Edsr.num_filters, num_res_blocks=Edsr.num_res_blocks,
         res_block_scaling=Edsr.res_block_scaling):
    """Builds EDSR.

    Input: RGB images of any size in 0..255; output: the image upscaled by `scale`, same range.

    Args:
        scale: 2, 3, 4 or 8 (x4 is two x2 pixel-shuffle steps, x8 three; the original silently skipped x8).
        num_filters: feature channels.
        num_res_blocks: residual blocks (the published baseline, preset "edsr-16-x4", uses 16).
        res_block_scaling: optional factor applied to each block's residual (0.1 in the large EDSR).

    Returns:
        A functional `keras.Model` (1,517,571 parameters for x4 with 16 blocks) whose `spec` is its `Edsr`.
    """
    steps = upsample_steps(scale, Edsr.scales)
    check_positive(num_filters=num_filters, num_res_blocks=num_res_blocks)
    x_in = layers.Input(shape=(None, None, 3), name="lr")
    x = Normalize(DIV2K_RGB_MEAN, 127.5, name="normalize")(x_in)
    x = b = layers.Conv2D(num_filters, 3, padding="same", name="head_conv")(x)
    for i in range(num_res_blocks):
        b = _res_block(b, num_filters, res_block_scaling, name=f"res{i + 1}")
    b = layers.Conv2D(num_filters, 3, padding="same", name="body_conv")(b)
    x = layers.Add(name="body_add")([x, b])
    for i, factor in enumerate(steps):
        # Conv names as in the original, so weights saved by name stay recognisable.
        x = layers.Conv2D(num_filters * factor ** 2, 3, padding="same", name=f"conv2d_{i + 1}_scale_{factor}")(x)
        x = PixelShuffle(factor, name=f"shuffle_{i + 1}")(x)
    x = layers.Conv2D(3, 3, padding="same", name="tail_conv", dtype=IMAGE_DTYPE)(x)
    x = Denormalize(DIV2K_RGB_MEAN, 127.5, name="denormalize", dtype=IMAGE_DTYPE)(x)
    return with_spec(Model(x_in, x, name="edsr"), Edsr(scale, num_filters, num_res_blocks, res_block_scaling))
