"""Drawing images side by side with matplotlib, as the tutorial's notebooks do (`pip install -e ".[plot]"`)."""

import numpy as np

from sr_tf.errors import UserInputError, require


def plot_samples(images, titles=None, figsize=None):
    """Draws images in one row, each with its title, without axes ticks; returns the matplotlib figure.

    Args:
        images: a list of (H, W, 3) or (H, W) arrays or tensors (uint8 0..255, or floats in 0..1).
        titles: one title per image, or None.
        figsize: matplotlib's (width, height) in inches; by default 10 per image by 10.

    Raises:
        MissingExtraError: when matplotlib is not installed (it comes with the 'plot' extra).
    """
    plt = require("matplotlib.pyplot", "plot")
    images = [np.asarray(image) for image in images]
    if not images:
        raise UserInputError("plot_samples needs at least one image. Received: images=[]")
    if titles is not None and len(titles) != len(images):
        raise UserInputError(f"One title per image: {len(images)} images. Received: titles={list(titles)}")
    figsize = (10 * len(images), 10) if figsize is None else figsize
    figure, axes = plt.subplots(1, len(images), figsize=figsize, squeeze=False)
    for i, (axis, image) in enumerate(zip(axes[0], images)):
        axis.imshow(image, cmap="gray" if image.ndim == 2 else None)
        if titles is not None:
            axis.set_title(titles[i])
        axis.set_xticks([])
        axis.set_yticks([])
    return figure


def plot_sample(lr, sr, figsize=(20, 10)):
    """Draws an LR image and its super-resolved version side by side, titled 'LR' and 'SR (xN)'; returns the figure.

    Args:
        lr: the (h, w, 3) input image.
        sr: the (h * N, w * N, 3) output image.
        figsize: matplotlib's (width, height) in inches.
    """
    lr, sr = np.asarray(lr), np.asarray(sr)
    return plot_samples([lr, sr], ["LR", f"SR (x{sr.shape[0] // lr.shape[0]})"], figsize=figsize)
