"""Reading users' image files and folders, with clear errors for bad input.

Conversion rule (`to_rgb_uint8`), applied to every image this package reads:

1. Palette images are expanded through their palette (to RGBA when the palette has transparency).
2. 16-bit and 32-bit integer images are scaled to 8 bits: `round(v / 257)`, clipped to 0..255. Float images are
   clipped to 0..255 and rounded.
3. Grey images (1-bit, 8-bit, 16-bit, with or without alpha) are replicated to R = G = B.
4. An alpha channel is split off and returned separately; the colour channels are used as stored, not composited.
   Training uses the colour channels only; `python -m sr_tf.resolve` upscales the alpha channel (bicubic) and
   re-attaches it.
5. Other modes (CMYK, YCbCr, LAB, HSV) are converted to RGB by Pillow.
"""

import hashlib
import os
import shutil
import warnings

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from sr_tf.data.base import AUTOTUNE, PairedImages, cached

SR_EXTENSIONS = (".png", ".jpg", ".jpeg")
GAN_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def to_rgb_uint8(image):
    """Converts a PIL image to an RGB uint8 array and an optional alpha array by the module's rule.

    Args:
        image: a `PIL.Image.Image` of any mode.

    Returns:
        `(rgb, alpha)`: an (H, W, 3) uint8 array and an (H, W) uint8 array or None.
    """
    mode = image.mode
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode == "1":
        image = image.convert("L")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGB")
    elif mode == "LA" or (mode == "L" and "transparency" in image.info):
        image = image.convert("LA")
    elif mode == "RGB" and "transparency" in image.info:
        image = image.convert("RGBA")
    mode = image.mode
    array = np.asarray(image)
    if mode.startswith("I"):  # I, I;16, I;16B, I;16L, ...: 16-bit data
        array = np.clip(np.round(array.astype(np.float64) / 257.0), 0, 255)
    elif mode == "F":
        array = np.clip(np.round(array.astype(np.float64)), 0, 255)
    array = array.astype(np.uint8)
    alpha = None
    if array.ndim == 3 and array.shape[-1] in (2, 4):
        array, alpha = array[..., :-1], array[..., -1]
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.ascontiguousarray(array), alpha


def _with_image(path, action):
    """Opens an image file and applies `action` to it, turning any decoding failure into one clear error."""
    path = os.fspath(path)
    try:
        with Image.open(path) as image:
            return action(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"Cannot read image {path}: {e}") from e


def _decode(image):
    image.load()
    return to_rgb_uint8(image)


def _checked_size(image):
    width, height = image.size
    image.verify()  # checks the file's structure (PNG chunk CRCs, truncation) without decoding
    return height, width


def read_image(path):
    """Reads an image file as `(rgb, alpha)` (see `to_rgb_uint8`).

    Raises:
        ValueError: naming the file when it is not a readable image.
    """
    return _with_image(path, _decode)


def image_size(path):
    """Returns `(height, width)` of an image file after checking that it is a readable image.

    Raises:
        ValueError: naming the file when it is not a readable image.
    """
    return _with_image(path, _checked_size)


def list_images(directory, extensions=SR_EXTENSIONS):
    """Lists image files below `directory`, recursively and sorted, by extension (case-insensitive).

    Raises:
        FileNotFoundError: if `directory` does not exist or is not a folder.
        ValueError: if it holds no image with one of `extensions`.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Image folder not found: {directory}")
    files = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        files.extend(os.path.join(root, n) for n in sorted(names) if n.lower().endswith(tuple(extensions)))
    if not files:
        raise ValueError(f"No images ({', '.join(extensions)}) found in {directory} or its sub-folders.")
    return files


def downscale(hr, scale):
    """Makes an LR image from an HR one: bicubic with antialiasing, rounded to uint8.

    Args:
        hr: (H, W, 3) uint8 array or tensor with H and W divisible by `scale`.
        scale: integer factor.
    """
    hr = tf.convert_to_tensor(hr)
    size = tf.shape(hr)[:2] // scale
    lr = tf.image.resize(tf.cast(hr, tf.float32), size, method="bicubic", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(lr), 0, 255), tf.uint8)


def crop_to_multiple(image, scale):
    """Crops the bottom/right of an (H, W, ...) image so that both sides are multiples of `scale`."""
    return image[: image.shape[0] - image.shape[0] % scale, : image.shape[1] - image.shape[1] % scale]


def _stem(path, root):
    return os.path.splitext(os.path.relpath(path, root))[0]


class ImageFolder(PairedImages):
    """LR/HR pairs from a user's own folders: HR-only (LR made on the fly) or paired LR/HR folders.

    Files are found recursively (PNG and JPEG) and converted by the module's rule. In paired mode, an LR file is
    matched to the HR file with the same relative path and name (extension free; a DIV2K-style `x{scale}` suffix
    on the LR name is accepted). Every file is checked when the source is built, so a missing or empty folder, an
    unreadable file, a missing LR partner, or a size that does not match the scale is an error naming the path.

    Args:
        hr_dir: folder of HR images, or a list of HR image files (HR-only mode).
        scale: upscaling factor.
        lr_dir: optional folder of matching LR images; without it LR images are made with `downscale`.
        hr_crop_size: side of the HR training patches; images smaller than it are skipped (with a warning)
            when random patches are drawn.
        crop_to_scale: crop HR images whose sides are not divisible by `scale` (bottom/right) instead of raising.
        caches_dir: optional folder for tf.data cache files of the decoded images; in memory when None.
    """

    def __init__(self, hr_dir, scale=4, lr_dir=None, hr_crop_size=96, crop_to_scale=False, caches_dir=None):
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f"`scale` must be a positive integer. Received: scale={scale!r}")
        if hr_crop_size % scale:
            raise ValueError(f"`hr_crop_size` ({hr_crop_size}) must be divisible by scale ({scale}).")
        self.scale = scale
        self.hr_crop_size = hr_crop_size
        self.lr_dir = None if lr_dir is None else os.fspath(lr_dir)
        self.crop_to_scale = crop_to_scale
        self.caches_dir = caches_dir
        if isinstance(hr_dir, (list, tuple)):
            if lr_dir is not None:
                raise ValueError("Paired LR/HR mode needs an HR folder, not a list of files.")
            if not hr_dir:
                raise ValueError("The list of HR image files is empty.")
            self.hr_files = [os.fspath(p) for p in hr_dir]
            for path in self.hr_files:
                if not os.path.isfile(path):
                    raise FileNotFoundError(f"Image file not found: {path}")
            self.hr_dir = os.path.commonpath([os.path.abspath(p) for p in self.hr_files])
        else:
            self.hr_dir = os.fspath(hr_dir)
            self.hr_files = list_images(self.hr_dir)
        self.hr_sizes = [image_size(p) for p in self.hr_files]
        self.lr_files = self._match_lr_files() if self.lr_dir else None
        self._check_sizes()

    def __len__(self):
        return len(self.hr_files)

    def _match_lr_files(self):
        lr_files = list_images(self.lr_dir)
        by_stem = {}
        for p in lr_files:
            stem = _stem(p, self.lr_dir)
            by_stem[stem] = p
            suffix = f"x{self.scale}"
            if stem.lower().endswith(suffix):
                by_stem.setdefault(stem[: -len(suffix)], p)
        matched = []
        for hr in self.hr_files:
            lr = by_stem.get(_stem(hr, self.hr_dir))
            if lr is None:
                raise ValueError(
                    f"No LR image in {self.lr_dir} matches HR image {hr} (expected the same relative name, "
                    f"optionally with an 'x{self.scale}' suffix)."
                )
            matched.append(lr)
        return matched

    def _check_sizes(self):
        s = self.scale
        for i, (path, (h, w)) in enumerate(zip(self.hr_files, self.hr_sizes)):
            if self.lr_files:
                lh, lw = image_size(self.lr_files[i])
                if (lh * s, lw * s) != (h - h % s, w - w % s) or ((h % s or w % s) and not self.crop_to_scale):
                    raise ValueError(
                        f"Sizes do not match scale {s}: HR {path} is {w}x{h}, LR {self.lr_files[i]} is {lw}x{lh} "
                        f"(expected {w // s}x{h // s} with HR sides divisible by {s})."
                    )
            elif (h % s or w % s) and not self.crop_to_scale:
                raise ValueError(
                    f"Scale {s} does not divide the size of {path} ({w}x{h}). Crop or resize the image, or pass "
                    "crop_to_scale=True (train_srgan.py: --crop-to-scale) to crop it to a multiple of the scale."
                )

    def _usable_for_crop(self):
        usable = [min(h, w) >= self.hr_crop_size for h, w in self.hr_sizes]
        for ok, path, (h, w) in zip(usable, self.hr_files, self.hr_sizes):
            if not ok:
                warnings.warn(f"Skipping {path} ({w}x{h}): smaller than the {self.hr_crop_size}px crop.",
                              stacklevel=3)
        if not any(usable):
            raise ValueError(f"Every image in {self.hr_dir} is smaller than the {self.hr_crop_size}px crop.")
        return usable

    def _decoded(self, kind):
        scale, crop = self.scale, self.crop_to_scale
        hr_files, lr_files = self.hr_files, self.lr_files

        def generate():
            for i, hr_path in enumerate(hr_files):
                hr, _ = read_image(hr_path)
                if crop:
                    hr = crop_to_multiple(hr, scale)
                if kind == "hr":
                    yield hr
                elif lr_files:
                    yield read_image(lr_files[i])[0]
                else:
                    yield downscale(hr, scale).numpy()

        ds = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec((None, None, 3), tf.uint8))
        if self.caches_dir is None:
            return ds.cache()
        # The cache name identifies the exact file list and options, so folders never share a cache.
        key = "\n".join([kind, str(scale), str(crop)] + hr_files + (lr_files or []))
        digest = hashlib.sha1(key.encode("utf8")).hexdigest()[:12]
        cache_file = os.path.join(self.caches_dir, f"folder_{kind}_x{scale}_{digest}.cache")
        return cached(ds, cache_file, len(hr_files), f"{kind.upper()} images of {self.hr_dir}")

    def hr_dataset(self):
        """HR images in file order (uint8)."""
        return self._decoded("hr")

    def lr_dataset(self):
        """LR images aligned with `hr_dataset` (read from `lr_dir` or made with `downscale`)."""
        return self._decoded("lr")

    def _pairs_for_cropping(self):
        usable = tf.constant(self._usable_for_crop())
        pairs = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(usable), super()._pairs_for_cropping()))
        return pairs.filter(_is_usable).map(_drop_flag)


def _is_usable(usable, pair):
    return usable


def _drop_flag(usable, pair):
    return pair


def image_grid(images, columns=None, zoom=1, padding=1):
    """Tiles (N, H, W, C) uint8 images (C 1 or 3) into one image, `columns` per row (default: about sqrt(N)).

    Args:
        images: uint8 array (N, H, W, C).
        columns: images per row.
        zoom: integer nearest-neighbour enlargement of each image (for tiny images such as 8x8 digits).
        padding: pixels of black between images.

    Returns:
        uint8 array (rows * (H * zoom + padding) - padding, ..., C).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or images.dtype != np.uint8:
        raise ValueError(f"`images` must be uint8 (N, H, W, 1 or 3). Received: shape={images.shape}, "
                         f"dtype={images.dtype}")
    n, h, w, c = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    images = images.repeat(zoom, axis=1).repeat(zoom, axis=2)
    h, w = h * zoom, w * zoom
    grid = np.zeros((rows * (h + padding) - padding, columns * (w + padding) - padding, c), dtype=np.uint8)
    for i, image in enumerate(images):
        top, left = (i // columns) * (h + padding), (i % columns) * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def save_image(path, image):
    """Writes a uint8 (H, W, 1 or 3) image as PNG (or by extension), creating folders; written atomically."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    image = np.asarray(image)
    pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        pil.save(tmp, format=Image.registered_extensions().get(os.path.splitext(path)[1].lower(), "PNG"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def resize_square(rgb, size, grey=False):
    """Resizes an RGB uint8 array to `size` x `size` (aspect ratio not kept), optionally to grey (PIL 'L' luma).

    Shrinking uses PIL's area-averaging BOX filter, enlarging bilinear. Returns uint8 (size, size, 1 or 3).
    """
    image = Image.fromarray(rgb)
    if grey:
        image = image.convert("L")
    shrinking = min(image.size) > size
    image = image.resize((size, size), Image.BOX if shrinking else Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8).reshape(size, size, 1 if grey else 3)


def readable_images(directory, extensions=GAN_EXTENSIONS):
    """`list_images`, keeping only files that open as images (each unreadable one is skipped with a warning).

    Raises:
        FileNotFoundError: if `directory` does not exist.
        ValueError: naming `directory` when it holds no image file, or none that can be read.
    """
    files = list_images(directory, extensions)
    readable = []
    for path in files:
        try:
            image_size(path)
            readable.append(path)
        except ValueError as e:
            warnings.warn(f"Skipping an unreadable image: {e}", stacklevel=2)
    if not readable:
        raise ValueError(f"None of the {len(files)} image files ({', '.join(extensions)}) in {directory} or its "
                         "sub-folders could be read.")
    return readable


def gan_dataset(path, im_size, batch_size=8, cache_dir=None, shuffle=True, flip=True, repeat=True, seed=None):
    """The training pipeline of an unconditional GAN on a folder of images (FastGAN's).

    Files are found recursively (PNG, JPEG, WebP; unreadable ones skipped with a warning), converted by
    `to_rgb_uint8` and resized to `im_size` x `im_size` with `resize_square`, once: the decoded set is kept in
    memory, or with `cache_dir` saved there (`tf.data.Dataset.save`, keyed by the file list and size, written to a
    temporary folder and renamed when complete, so an interrupted fill is redone) and read back on later runs.
    (A `from_generator` source is avoided on purpose: while its iterator lives, it halved the speed of the
    training step on a 2-core CPU.) Each epoch is reshuffled; images are flipped left-right at random, scaled
    to [-1, 1] (float32) and batched, with AUTOTUNE parallelism and prefetching.

    Args:
        path: the folder, or a list of image files.
        im_size: side of the square training images.
        batch_size: images per batch (every batch is full; a set smaller than a batch is repeated).
        cache_dir: folder for the tf.data cache files; None caches in memory.
        shuffle, flip: reshuffle every epoch; random horizontal flips.
        repeat: repeat forever (training); otherwise one pass (the last batch may be smaller).
        seed: seed of the shuffling.

    Returns:
        `(dataset, files)`: batches (B, im_size, im_size, 3) float32 in [-1, 1], and the files used.
    """
    files = list(path) if isinstance(path, (list, tuple)) else readable_images(path)
    if not isinstance(im_size, int) or im_size < 2:
        raise ValueError(f"`im_size` must be an integer >= 2. Received: im_size={im_size!r}")

    if cache_dir is None:
        ds = tf.data.Dataset.from_tensor_slices(decode_resized(files, im_size))
    else:
        ds = _saved_dataset(files, im_size, cache_dir)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.map(lambda image: _to_gan_input(image, flip), num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=repeat).prefetch(AUTOTUNE), files


def decode_resized(files, im_size):
    """uint8 (N, im_size, im_size, 3): each file read by `read_image` and resized by `resize_square` (progress bar
    above 50 files)."""
    progress = keras.utils.Progbar(len(files), unit_name="image") if len(files) > 50 else None
    images = np.empty((len(files), im_size, im_size, 3), np.uint8)
    for i, file in enumerate(files):
        images[i] = resize_square(read_image(file)[0], im_size)
        if progress is not None:
            progress.add(1)
    return images


def _saved_dataset(files, im_size, cache_dir):
    key = "\n".join([str(im_size)] + [os.path.abspath(f) for f in files])
    path = os.path.join(cache_dir, f"gan_{im_size}_{hashlib.sha1(key.encode()).hexdigest()[:12]}")
    if not os.path.isdir(path):
        print(f"Caching {len(files)} images at {im_size}x{im_size} in {path} ...", flush=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tf.data.Dataset.from_tensor_slices(decode_resized(files, im_size)).save(tmp)
        os.replace(tmp, path)
    return tf.data.Dataset.load(path)


def _to_gan_input(image, flip):
    image = tf.cast(image, tf.float32) / 127.5 - 1.0
    if flip:
        image = tf.image.random_flip_left_right(image)
    return image
