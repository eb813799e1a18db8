"""Models by name with their published weights: `from_preset("realesr-general-x4v3")`.

Each preset with published weights names its official file (`PUBLISHED`, with the release it comes from). The
first use downloads it with `keras.utils.get_file` into the Keras cache (`$KERAS_HOME/sr_tf`, default
`~/.keras/sr_tf`) with a progress bar; later uses read the cache. Every file is checked before it is used: its
SHA-256 where the release publishes one (BasicSR names its files with the first 8 hex digits), and in every case
the architecture read from it must be the preset's (a `.pth` is detected from its state dict; a legacy `.h5` of
the tutorial must fit the preset's layers), else the file is removed from the cache and refused.

Environment:
    SR_TF_WEIGHTS_URL: a mirror, one folder holding the files under their published names
        (`$SR_TF_WEIGHTS_URL/RealESRGAN_x4plus.pth`), used instead of the release addresses.
    SR_TF_OFFLINE=1: never download; a file missing from the cache is an error saying which file to put where.

Sources of the addresses: Real-ESRGAN's `inference_realesrgan.py` (its `-n` model table, github.com/xinntao/
Real-ESRGAN, releases v0.1.0 to v0.2.5.0), and the README of the TF2 SRGAN tutorial (github.com/krasserm/
super-resolution, "Pre-trained weights": martin-krasser.de/sisr/*.tar.gz).
"""

import hashlib
import os
import tarfile

from sr_tf import specs
from sr_tf.atomic import atomic_write
from sr_tf.errors import ResourceUnavailableError, UserInputError
from sr_tf.specs.published import DEFAULT_PRESET, PUBLISHED  # noqa: F401 (re-exported)


def cache_dir():
    """The folder of downloaded weights: `$KERAS_HOME/sr_tf` (Keras's cache; default `~/.keras/sr_tf`)."""
    return os.path.join(os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras")), "sr_tf")


def published(name):
    """The `Published` entry of preset `name`; a `UserInputError` lists the presets that have one otherwise."""
    specs.preset(name)  # an unknown name lists every preset
    if name not in PUBLISHED:
        raise UserInputError(f"Preset {name!r} has no published weights (build({name!r}) gives it random weights). "
                             f"Presets with published weights: {', '.join(sorted(PUBLISHED))}.")
    return PUBLISHED[name]


def _origin(entry):
    mirror = os.environ.get("SR_TF_WEIGHTS_URL")
    return f"{mirror.rstrip('/')}/{entry.file}" if mirror else entry.url


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove(path):
    if os.path.exists(path):
        os.remove(path)


def download(entry):
    """The cached path of `entry`'s file, downloaded first if it is not in the cache (see the module)."""
    import keras

    path = os.path.join(cache_dir(), entry.file)
    if not os.path.isfile(path):
        if os.environ.get("SR_TF_OFFLINE", "") not in ("", "0"):
            raise ResourceUnavailableError(
                f"SR_TF_OFFLINE is set and {entry.file} is not in the cache: download {entry.url} and put it at "
                f"{path} (or unset SR_TF_OFFLINE).")
        os.makedirs(cache_dir(), exist_ok=True)  # else get_file falls back to /tmp/.keras
        try:
            got = keras.utils.get_file(entry.file, _origin(entry), cache_dir=os.path.dirname(cache_dir()),
                                       cache_subdir=os.path.basename(cache_dir()))
            if os.path.abspath(got) != os.path.abspath(path):
                os.replace(got, path)
        except BaseException as e:
            _remove(path)  # nothing partial stays in the cache
            if isinstance(e, Exception) and not isinstance(e, UserInputError):
                raise ResourceUnavailableError(f"Could not download {_origin(entry)} ({type(e).__name__}: "
                                               f"{' '.join(str(e).split())[:160]}); download it yourself and put "
                                               f"it at {path}.") from None
            raise
    if entry.sha256 is not None and not _sha256(path).startswith(entry.sha256):
        _remove(path)
        raise UserInputError(f"{path} was removed: its SHA-256 does not start with the published {entry.sha256} "
                             f"(a damaged or different file); the next use downloads it again from {_origin(entry)}.")
    return path


def _member(archive_path, member):
    """The weights file `member` of a tutorial archive, extracted once beside it (read by name, never by the
    archive's own paths, so no member can land outside the cache)."""
    target = os.path.join(os.path.splitext(os.path.splitext(archive_path)[0])[0], *member.split("/"))
    if os.path.isfile(target):
        return target
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            found = archive.extractfile(member)
            data = found.read() if found is not None else None
    except (tarfile.TarError, KeyError, OSError, EOFError) as e:
        _remove(archive_path)
        raise UserInputError(f"{archive_path} was removed: it is not the published archive holding {member} "
                             f"({type(e).__name__}: {e}).") from None
    if data is None:
        _remove(archive_path)
        raise UserInputError(f"{archive_path} was removed: {member} in it is not a file.")
    atomic_write(target, lambda tmp: open(tmp, "wb").write(data))
    return target


def from_preset(name):
    """The model of preset `name` with its published weights (downloaded once; see the module).

    Args:
        name: a preset with published weights, e.g. 'realesr-general-x4v3', 'realesrgan-x4plus', 'edsr-16-x4'.

    Returns:
        The `sr_tf.models.Model`, its `spec` the preset's architecture.

    Raises:
        UserInputError: an unknown preset, one without published weights, or a downloaded file that is not the
            preset's (the file is removed from the cache).
        ResourceUnavailableError: the file cannot be downloaded, or SR_TF_OFFLINE is set and it is not cached.
    """
    from sr_tf.models.pytorch import from_pytorch
    from sr_tf.weights_io import load_weights

    entry = published(name)
    expected = specs.preset(name).architecture
    path = download(entry)
    if entry.member is not None:
        weights = _member(path, entry.member)
        model = expected.build()
        try:
            load_weights(model, weights)
        except UserInputError as e:
            _remove(weights)
            _remove(path)
            raise UserInputError(f"{path} was removed: it does not hold the weights of {name} ({e}).") from None
        return model
    try:
        model = from_pytorch(path)
    except UserInputError as e:
        _remove(path)
        raise UserInputError(f"{path} was removed: it is not the published {entry.file} ({e}).") from None
    if model.spec != expected:
        _remove(path)
        raise UserInputError(f"{path} was removed: it holds {model.spec.describe()}, not {name}'s "
                             f"{expected.describe()}.")
    return model
