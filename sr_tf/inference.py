"""Using trained models: super-resolving batches and single images of any size (tiled), scoring them, and drawing
images from a GAN generator. `to_uint8` is the one step from computed values to pixels."""

import weakref

import keras
import numpy as np
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.metrics import psnr
from sr_tf.ops import to_uint8
from sr_tf.precision import choose, precision_of, with_precision

__all__ = ["resolve", "resolve_single", "resolve_photo", "choose_tile", "tile_count", "evaluate", "generate_images",
           "to_uint8", "signed_to_uint8"]


def resolve(model, lr_batch, precision=None):
    """Runs a model on a batch of LR images and returns uint8 SR images.

    Args:
        model: a super-resolution `keras.Model` mapping 0..255 inputs to 0..255 outputs.
        lr_batch: (B, H, W, 3) images in 0..255, any numeric dtype.
        precision: None (the model as built), or 'float32', 'bfloat16', 'float16' or 'auto' (see
            `sr_tf.precision`): a model of this package runs rebuilt in that precision with its weights.

    Returns:
        A (B, H * scale, W * scale, 3) uint8 tensor: the output clipped to 0..255 and rounded.
    """
    lr_batch = _checked_pixels(lr_batch, "resolve", "lr_batch", rank=4)
    model = _in_precision(model, precision)
    return to_uint8(tf.cast(model(tf.cast(lr_batch, tf.float32), training=False), tf.float32))


_COPIES = weakref.WeakKeyDictionary()  # model -> {precision: (the model rebuilt in it, its weight copier)}


def _in_precision(model, precision):
    """`model`, or with `precision` its copy in that precision (built once per model and precision; its weights
    are copied from `model` at every call, so a model trained further runs as it is now)."""
    if precision is None or not isinstance(model, keras.Model):
        return model
    precision = choose(precision)[0]
    if precision_of(model) == precision:
        return model
    copies = _COPIES.setdefault(model, {})
    if precision in copies:
        copy, refresh = copies[precision]
        refresh()
        return copy
    copy = with_precision(model, precision)
    pairs = list(zip(copy.weights, model.weights))

    @tf.function(autograph=False)
    def refresh():  # one graph of variable-to-variable assignments: no copy through NumPy
        for mine, theirs in pairs:
            mine.assign(theirs)

    copies[precision] = copy, refresh
    return copy


def _checked_pixels(images, function, name, rank):
    """`images` if they are what `load_image` gives (uint8 RGB; with `rank` 4 a batch of them), else a
    `UserInputError` naming the shape, the dtype and `resolve_photo`, which takes the other kinds."""
    dtype = getattr(images, "dtype", None)
    dtype = getattr(dtype, "as_numpy_dtype", dtype)  # a tf.Tensor's dtype
    if dtype is None:
        images = np.asarray(images)
        dtype = images.dtype
    shape = tuple(getattr(images, "shape", ()))
    if np.dtype(dtype) != np.uint8 or len(shape) != rank or shape[-1] != 3:
        what = "one (H, W, 3) uint8 image" if rank == 3 else "a (B, H, W, 3) uint8 batch"
        raise UserInputError(f"{function}() takes {what}, as load_image gives. Received: {name} of shape "
                             f"{shape} and dtype {np.dtype(dtype).name}. For grey, RGBA, 16-bit or float 0..1 "
                             "images use resolve_photo(model, image) (floats: scale them to uint8 first).")
    return images


def _tiles(length, tile, pad):
    """(core_start, core_end, padded_start, padded_end) along one axis."""
    for start in range(0, length, tile):
        end = min(start + tile, length)
        yield start, end, max(start - pad, 0), min(end + pad, length)


_GRAPHS = weakref.WeakKeyDictionary()


def _runner(model, pixels=False):
    """`model` in inference mode as one `tf.function` traced once for every image and tile size (a Keras model
    called eagerly dispatches each layer from Python: 1.5x the time of the graph for SRVGGNetCompact at 256x256 on
    a CPU); other callables (TFLite, SavedModel, ONNX runners) as they are. With `pixels`, the function takes and
    gives uint8 pixels, the casts, rounding and clipping inside the graph (no float copy of the output)."""
    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        run = lambda x: model(x, training=False)  # noqa: E731
        return (lambda x: to_uint8(tf.cast(run(tf.cast(x, tf.float32)), tf.float32))) if pixels else run
    graphs = _GRAPHS.setdefault(model, {})
    if pixels not in graphs:
        reference = weakref.ref(model)  # the cache must not keep the model alive
        channels = model.inputs[0].shape[-1]
        if pixels:
            graphs[pixels] = tf.function(
                lambda x: to_uint8(tf.cast(reference()(tf.cast(x, tf.float32), training=False), tf.float32)),
                input_signature=[tf.TensorSpec((None, None, None, channels), tf.uint8)])
        else:
            graphs[pixels] = tf.function(lambda x: reference()(x, training=False),
                                         input_signature=[tf.TensorSpec((None, None, None, channels), tf.float32)])
    return graphs[pixels]


def tile_count(shape, tile):
    """How many tiles `resolve_single` runs for an image of `shape` (H, W, ...) with `tile` (None: 1)."""
    if tile is None:
        return 1
    return -(-shape[0] // tile) * -(-shape[1] // tile)


def _predict(model, lr, tile, tile_pad, on_tile=None, pixels=False):
    """The model's float output for one (H, W, C) image (with `pixels`: a uint8 image in, uint8 pixels out),
    whole or assembled from tiles (see `resolve_single`); `on_tile()` is called after each tile."""
    run = _runner(model, pixels)
    dtype = tf.uint8 if pixels else tf.float32

    def predict(patch):
        return tf.cast(run(tf.cast(patch, dtype)), dtype)[0].numpy()

    if tile is None:
        return predict(lr[None])
    height, width = lr.shape[:2]
    output, scale = None, None
    for y0, y1, py0, py1 in _tiles(height, tile, tile_pad):
        for x0, x1, px0, px1 in _tiles(width, tile, tile_pad):
            sr = predict(lr[None, py0:py1, px0:px1])
            if on_tile is not None:
                on_tile()
            if output is None:
                scale = sr.shape[0] // (py1 - py0)
                output = np.empty((height * scale, width * scale, sr.shape[-1]), dtype=sr.dtype)
            top, left = (y0 - py0) * scale, (x0 - px0) * scale
            output[y0 * scale:y1 * scale, x0 * scale:x1 * scale] = \
                sr[top:top + (y1 - y0) * scale, left:left + (x1 - x0) * scale]
    return output


def _available_memory():
    """Bytes of memory free for a new allocation: MemAvailable of /proc/meminfo, else 4 GiB."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * 2**30


def choose_tile(model, shape, tile_pad=16, memory=None):
    """A tile size for `resolve_single` from the image size and free memory (`--tile 0` on the command line).

    The model's activations are estimated at 4 bytes x its widest layer x (8 live maps at LR size + 2 at SR
    size) per LR pixel; the image runs whole (None) when that fits in half of `memory` (default: the memory
    available now), else in the largest tiles (a multiple of 16, at least 32) that do.

    Args:
        model: the super-resolution model (a Keras model; other callables count as 64 channels, x4).
        shape: (H, W, ...) of the LR image.
        tile_pad: the context around each tile.
        memory: bytes to plan with, or None.

    Returns:
        The tile size, or None for whole-image inference.
    """
    widest = max([getattr(layer, "filters", 0) or 0 for layer in getattr(model, "layers", [])] or [64]) or 64
    scale = getattr(getattr(model, "spec", None), "scale", 4)
    per_pixel = 4 * widest * (8 + 2 * scale * scale)
    budget = (_available_memory() if memory is None else memory) / 2
    if shape[0] * shape[1] * per_pixel <= budget:
        return None
    side = int((budget / per_pixel) ** 0.5) - 2 * tile_pad
    return max(32, side // 16 * 16)


# The eight symmetries of the square as (rot90 turns, flip left-right first), for the self-ensemble.
SYMMETRIES = [(k, flip) for flip in (False, True) for k in range(4)]


def _transform(image, k, flip):
    return np.rot90(image[:, ::-1] if flip else image, k)


def _inverse(image, k, flip):
    image = np.rot90(image, -k)
    return image[:, ::-1] if flip else image


def _check_tiling(tile, tile_pad):
    def is_int(value):
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    if tile is not None and not (is_int(tile) and tile >= 1 and is_int(tile_pad) and tile_pad >= 0):
        raise UserInputError(f"`tile` must be an integer >= 1 and `tile_pad` an integer >= 0. Received: "
                             f"tile={tile!r}, tile_pad={tile_pad!r}")


def resolve_single(model, lr, tile=None, tile_pad=16, self_ensemble=False, precision=None):
    """Super-resolves one image, optionally in overlapping tiles and with the self-ensemble.

    With `tile`, the image is cut into `tile` x `tile` cores, each run with `tile_pad` pixels of real context on
    every side where the image has them, and only the core of each output is kept. Peak memory then depends on
    `tile + 2 * tile_pad`, not on the image size, and when `tile_pad` covers the network's receptive field the
    result equals whole-image inference (up to float rounding, at most one grey level).

    With `self_ensemble` (EDSR's "+" protocol), the model runs on the image under each of the 8 flips and
    rotations; the outputs are transformed back and averaged before rounding (8 times the work, typically
    +0.1 to +0.3 dB). For a model that commutes with flips and rotations it changes nothing.

    Args:
        model: a super-resolution `keras.Model` (or any callable mapping a float batch to a float batch).
        lr: (H, W, 3) image in 0..255.
        tile: side of the tile cores in LR pixels, or None for whole-image inference.
        tile_pad: context pixels around each tile.
        self_ensemble: average over the 8 symmetries of the square.
        precision: None (the model as built), or 'float32', 'bfloat16', 'float16' or 'auto' (see `resolve`).

    Returns:
        The (H * scale, W * scale, 3) uint8 image as a numpy array.
    """
    lr = _checked_pixels(lr, "resolve_single", "lr", rank=3)
    if 0 in lr.shape:
        raise UserInputError(f"`lr` is empty: an image needs at least one row, column and channel. Received shape: "
                             f"{lr.shape}")
    _check_tiling(tile, tile_pad)
    model = _in_precision(model, precision)
    if not self_ensemble:
        return _predict(model, lr, tile, tile_pad, pixels=True)  # rounded per pixel: the same whole or tiled
    total = None
    for k, flip in SYMMETRIES:
        out = _inverse(_predict(model, np.ascontiguousarray(_transform(lr, k, flip)), tile, tile_pad), k, flip)
        total = out.astype(np.float64) if total is None else total + out
    return to_uint8(total / len(SYMMETRIES))


# ITU-R BT.601 luma, as OpenCV's RGB2GRAY (how Real-ESRGAN returns grey images to one channel).
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def resolve_photo(model, image, outscale=None, alpha="bicubic", tile=None, tile_pad=16, on_tile=None,
                  precision=None):
    """Super-resolves an image as it came from its file, as Real-ESRGAN's inference does: grey, grey + alpha, RGB
    or RGBA, 8- or 16-bit, with any final scale.

    The colour runs through the model (a grey image as three equal channels, returned to one by BT.601 luma); the
    alpha channel is upscaled by the model too (`alpha='model'`, as three equal channels) or by bicubic
    interpolation (`'bicubic'`). 16-bit values run as 0..255 floats with their fraction kept (value / 257) and
    return to 16 bits. With `outscale`, the result is resized with antialiasing (Lanczos-3) to `outscale` times
    the input's size. Tiles as `resolve_single`.

    Args:
        model: a super-resolution model or callable (0..255 floats in and out).
        image: (H, W, C) uint8 or uint16, C in 1..4 (`sr_tf.data.io.read_image_channels`).
        outscale: the final scale (any positive number), or None for the model's.
        alpha: 'bicubic' or 'model'.
        tile, tile_pad: see `resolve_single`.
        on_tile: called after each tile (progress).
        precision: None (the model as built), or 'float32', 'bfloat16', 'float16' or 'auto' (see `resolve`).

    Returns:
        (round(H * s), round(W * s), C) of the input's dtype, s the model's scale or `outscale`.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4) or image.dtype not in (np.uint8, np.uint16):
        raise UserInputError(f"`image` must be (H, W, 1..4) uint8 or uint16. Received: {image.shape} {image.dtype}")
    if alpha not in ("bicubic", "model"):
        raise UserInputError(f"`alpha` must be 'bicubic' or 'model'. Received: alpha={alpha!r}")
    if outscale is not None and not outscale > 0:
        raise UserInputError(f"`outscale` must be a positive number. Received: outscale={outscale!r}")
    depth = 65535.0 if image.dtype == np.uint16 else 255.0
    values = image.astype(np.float32) * (255.0 / depth)
    colour_channels = 1 if image.shape[-1] <= 2 else 3
    colour, alpha_values = values[..., :colour_channels], values[..., colour_channels:]
    _check_tiling(tile, tile_pad)
    model = _in_precision(model, precision)
    out = _predict(model, np.repeat(colour, 3, axis=-1) if colour_channels == 1 else colour, tile, tile_pad, on_tile)
    if colour_channels == 1:
        out = np.tensordot(out, LUMA, axes=([-1], [0]))[..., None]
    if alpha_values.shape[-1]:
        size = out.shape[:2]
        if alpha == "model":
            up = _predict(model, np.repeat(alpha_values, 3, axis=-1), tile, tile_pad, on_tile) @ LUMA
        else:
            from PIL import Image  # Pillow's bicubic (Keys, a = -0.5) on float values

            up = np.asarray(Image.fromarray(alpha_values[..., 0]).resize(size[::-1], Image.BICUBIC))
        out = np.concatenate([out, up[..., None]], axis=-1)
    if outscale is not None:
        size = (max(1, round(image.shape[0] * outscale)), max(1, round(image.shape[1] * outscale)))
        out = tf.image.resize(out[None], size, method="lanczos3", antialias=True)[0].numpy()
    out = np.clip(np.round(out * (depth / 255.0)), 0, depth)
    return out.astype(image.dtype)


def evaluate(model, dataset):
    """Mean PSNR (RGB, max 255) of a model over every image of every batch of a dataset of (lr, hr) batches.

    (The original averaged only the first image of each batch.)
    """
    values = []
    for lr, hr in dataset:
        sr = resolve(model, lr)
        values.append(psnr(hr, sr))
    if not values:
        raise UserInputError("`dataset` yielded no batches to evaluate.")
    return tf.reduce_mean(tf.concat(values, axis=0))


def signed_to_uint8(images):
    """Images in [-1, 1] (a GAN generator's outputs) as uint8 pixels, a numpy array."""
    return to_uint8(np.asarray(images), scale=127.5, offset=1.0)


def generate_images(generator, n, seed=0, batch_size=16):
    """n images (uint8 (n, H, W, 3)) from a GAN generator in inference mode, for noise drawn from N(0, 1) with `seed`.

    The generator's first output is taken, in [-1, 1]. The noise vectors depend only on `seed` (and n); FastGAN's
    noise-injection layers draw from TensorFlow's global generator, so call `keras.utils.set_random_seed` first
    for exactly repeatable images.
    """
    nz = int(generator.input_shape[-1])
    z = np.random.default_rng(seed).standard_normal((n, nz)).astype(np.float32)
    out = [signed_to_uint8(generator(z[i:i + batch_size], training=False)[0]) for i in range(0, n, batch_size)]
    return np.concatenate(out)
