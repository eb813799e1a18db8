"""Image files: reading and checking them (with clear errors for bad input), listing folders, writing PNGs and
grids, resizing, and the bundled sample files.

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

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from sr_tf.atomic import atomic_write
from sr_tf.errors import InputFileNotFoundError, UserInputError, skipped_image
from sr_tf.ops import to_uint8

SR_EXTENSIONS = (".png", ".jpg", ".jpeg")
GAN_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
ASSETS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assets")
SAMPLES_DIR = os.path.join(ASSETS_DIR, "samples")  # four public-domain photos (see LICENSE.md there)
SAMPLE_TRAIN = ("astronaut.png", "coffee.png", "rocket.png")  # what the demos train on
SAMPLE_HELD_OUT = "chelsea.png"  # and the photo they hold out


def sample_files(names):
    """Paths of bundled sample photos, e.g. `sample_files(["chelsea.png"])`."""
    return [os.path.join(SAMPLES_DIR, n) for n in names]


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
        array = to_uint8(array, scale=1.0 / 257.0)
    elif mode == "F":
        array = to_uint8(array)
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
        reason = " ".join(str(e).replace(repr(path), "").replace(path, "").split()).strip(" :") or type(e).__name__
        raise UserInputError(f"Cannot read image {path}: {reason}") from e


def _decode(image):
    if image.format == "PNG" and image.mode in ("RGB", "RGBA", "LA") and _png_bit_depth(image) == 16:
        return _decode_png16(image)
    image.load()
    return to_rgb_uint8(image)


def _png_bit_depth(image):
    with open(image.filename, "rb") as f:
        header = f.read(26)
    return header[24] if len(header) == 26 else 8


def _decode_png16(image):
    """A 48- or 64-bit PNG by the module's rule (Pillow keeps only the high byte of each 16-bit colour value)."""
    array = to_uint8(_decode_channels(image), scale=1.0 / 257.0)
    alpha = None
    if array.shape[-1] in (2, 4):
        array, alpha = array[..., :-1], array[..., -1]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.ascontiguousarray(array), alpha


def _checked_size(image):
    width, height = image.size
    if image.format == "PNG":
        image.verify()  # checks every chunk's CRC and the end of the file without decoding
    elif image.format == "JPEG":
        image.draft("RGB", (max(1, width // 8), max(1, height // 8)))  # a fast 1/8-scale decode finds truncation
        image.load()
    else:
        image.load()
    return height, width


def read_image(path):
    """Reads an image file as `(rgb, alpha)` (see `to_rgb_uint8`).

    Raises:
        UserInputError: naming the file when it is not a readable image.
    """
    return _with_image(path, _decode)


def _decode_channels(image):
    if image.format == "PNG":  # TensorFlow keeps 16-bit values, grey and alpha, and expands palettes
        import tensorflow as tf

        with open(image.filename, "rb") as f:
            contents = f.read()
        dtype = tf.uint16 if _png_bit_depth(image) == 16 else tf.uint8
        try:
            return tf.io.decode_png(contents, dtype=dtype).numpy()
        except tf.errors.OpError as e:
            raise ValueError(" ".join(e.message.split())) from None
    image.load()
    if image.mode.startswith("I"):  # 16-bit grey (TIFF)
        return np.clip(np.asarray(image), 0, 65535).astype(np.uint16)[..., None]
    keep = {"L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "1": "L", "P": "RGBA" if "transparency" in
            image.info else "RGB", "PA": "RGBA"}
    array = np.asarray(image.convert(keep.get(image.mode, "RGB")))
    return array[..., None] if array.ndim == 2 else array


def read_image_channels(path):
    """Reads an image keeping what `read_image` converts away: (H, W, C) with C = 1 (grey), 2 (grey + alpha), 3
    (RGB) or 4 (RGBA), uint8, or uint16 for 16-bit PNGs and TIFFs.

    Raises:
        UserInputError: naming the file when it is not a readable image.
    """
    return _with_image(path, _decode_channels)


def save_png(path, image):
    """Writes an (H, W, C) uint8 or uint16 array (C in 1..4) as an 8- or 16-bit PNG, atomically."""
    import tensorflow as tf

    data = tf.io.encode_png(np.ascontiguousarray(image)).numpy()

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    return atomic_write(os.fspath(path), write)


def load_image(path):
    """Reads an image file as an RGB uint8 array (H, W, 3): the tutorial's `load_image`, with the conversion rule
    of `read_image` (palette, 16-bit, grey and alpha images all give RGB; the alpha channel is dropped).

    Raises:
        UserInputError: naming the file when it is not a readable image.
    """
    return read_image(path)[0]


def image_size(path):
    """Returns `(height, width)` of an image file after checking that it is a readable image.

    Raises:
        UserInputError: naming the file when it is not a readable image.
    """
    return _with_image(path, _checked_size)


def file_signature(path):
    """'path|size|mtime': what identifies a file's content for caches (an edited file gets a new signature)."""
    stat = os.stat(path)
    return f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}"


def image_extensions():
    """The file extensions of every format Pillow can read (from its registry: '.png', '.jpg', '.webp', '.bmp',
    '.tif', ...), lower case."""
    Image.init()
    return tuple(sorted(ext for ext, name in Image.registered_extensions().items() if name in Image.OPEN))


def is_image_file(path):
    """True if `path` is an image Pillow reads (by extension, or else by its content), else the reason why not."""
    if os.fspath(path).lower().endswith(image_extensions()):
        return True
    try:
        with Image.open(path) as image:
            image.size
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        extension = os.path.splitext(path)[1] or "no extension"
        return f"not an image Pillow reads ({extension})"


def list_images(directory, extensions=SR_EXTENSIONS):
    """Lists image files below `directory`, recursively and sorted, by extension (case-insensitive).

    Raises:
        InputFileNotFoundError: if `directory` does not exist or is not a folder.
        UserInputError: if it holds no image with one of `extensions`.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise InputFileNotFoundError(f"Image folder not found: {directory}")
    files = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        files.extend(os.path.join(root, n) for n in sorted(names) if n.lower().endswith(tuple(extensions)))
    if not files:
        raise UserInputError(f"No images ({', '.join(extensions)}) found in {directory} or its sub-folders.")
    return files


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
        raise UserInputError(f"`images` must be uint8 (N, H, W, 1 or 3). Received: shape={images.shape}, "
                         f"dtype={images.dtype}")
    n, h, w, c = images.shape
    columns = int(np.ceil(np.sqrt(n))) if columns is None else columns
    for name, value, low in (("columns", columns, 1), ("zoom", zoom, 1), ("padding", padding, 0)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise UserInputError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    rows = int(np.ceil(n / columns))
    images = images.repeat(zoom, axis=1).repeat(zoom, axis=2)
    h, w = h * zoom, w * zoom
    grid = np.zeros((rows * (h + padding) - padding, columns * (w + padding) - padding, c), dtype=np.uint8)
    for i, image in enumerate(images):
        top, left = (i // columns) * (h + padding), (i % columns) * (w + padding)
        grid[top:top + h, left:left + w] = image
    return grid


def save_image(path, image, **options):
    """Writes a uint8 (H, W, C) image, C in 1..4, as PNG (or by the path's extension, e.g. .jpg or .webp, with
    Pillow's `options` such as quality=95), creating folders; written atomically."""
    path = os.fspath(path)
    image = np.asarray(image)
    pil = Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image)
    image_format = Image.registered_extensions().get(os.path.splitext(path)[1].lower(), "PNG")
    return atomic_write(path, lambda tmp: pil.save(tmp, format=image_format, **options))


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
        InputFileNotFoundError: if `directory` does not exist.
        UserInputError: naming `directory` when it holds no image file, or none that can be read.
    """
    files = list_images(directory, extensions)
    readable = []
    for path in files:
        try:
            image_size(path)
            readable.append(path)
        except ValueError as e:
            skipped_image(path, e)
    if not readable:
        raise UserInputError(f"None of the {len(files)} image files ({', '.join(extensions)}) in {directory} or its "
                         "sub-folders could be read.")
    return readable
