"""Masked convolutions for autoregressive models (PixelCNN and its gated variant)."""

import keras
import numpy as np
import tensorflow as tf

from sr_tf.errors import UserInputError, check_positive
from sr_tf.layers.sr import PACKAGE


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
        raise UserInputError(f"A masked convolution needs an odd kernel size. Received: kernel_size={kernel_size}")
    ch, cw = kh // 2, kw // 2
    mask = np.zeros((kh, kw, in_channels, out_channels), dtype=np.float32)
    if mask_type in ("V_A", "V_B"):
        mask[:ch + (mask_type == "V_B")] = 1.0
        return mask
    if mask_type not in ("A", "B"):
        raise UserInputError(f"`mask_type` must be 'A', 'B', 'V_A' or 'V_B'. Received: mask_type={mask_type!r}")
    if color_groups > 1 and min(in_channels, out_channels) < color_groups:
        raise UserInputError(f"Colour masking with {color_groups} groups needs at least {color_groups} input and "
                             f"output channels. Received: in_channels={in_channels}, out_channels={out_channels}")
    mask[:ch] = 1.0
    mask[ch, :cw] = 1.0
    in_group = _channel_groups(in_channels, color_groups)[:, None]
    out_group = _channel_groups(out_channels, color_groups)[None, :]
    mask[ch, cw] = (in_group < out_group) if mask_type == "A" else (in_group <= out_group)
    return mask


@keras.saving.register_keras_serializable(package=PACKAGE)
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
                raise UserInputError(f"MaskedConv2D does not take `{fixed}`. Received: {fixed}={kwargs[fixed]!r}")
        kwargs.pop("padding", None)  # always 'same'; accepted so that configs round-trip
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        if mask_type not in ("A", "B", "V_A", "V_B"):
            raise UserInputError(f"`mask_type` must be 'A', 'B', 'V_A' or 'V_B'. Received: mask_type={mask_type!r}")
        check_positive(color_groups=color_groups)
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
