"""Deployment of a trained FastGAN generator: a deterministic copy whose noise is an input, exported to TFLite or a
SavedModel through the same checked converters as the super-resolution models.

The training generator's `NoiseInjection` layers draw fresh noise inside the graph, which a converted file cannot
reproduce and a test cannot compare. The deployed generator is rebuilt with the same layers and weights, and either
takes that spatial noise as inputs (`noise='input'`: `z` (1, nz) and one (1, r, r, 1) N(0, 1) map per noise
layer, filled by the app like `z`) or leaves it out (`noise='none'`: `z` is the only input; the images lose the
per-pixel variation the noise adds). Its one output is the big image in 0..255 (float; uint8 from the SavedModel
signature and from int8 TFLite files).
"""

import keras
import numpy as np
import tensorflow as tf

from sr_tf.deploy.convert import to_tflite
from sr_tf.deploy.saved_model import write_saved_model
from sr_tf.errors import UserInputError
from sr_tf.models import spec_of
from sr_tf.models.fastgan import generator as fastgan_generator
from sr_tf.specs import FastGAN

NOISE_MODES = ("input", "none")


def generator_config(model):
    """(im_size, ngf, nz) of a FastGAN generator built by `sr_tf.models.fastgan.generator`, from its spec.

    Raises:
        UserInputError: `model` is not such a generator.
    """
    spec = spec_of(model) if getattr(model, "name", None) == "fastgan_generator" else None
    if not isinstance(spec, FastGAN):
        raise UserInputError(f"Expected a FastGAN generator (train_fastgan.py's -generator.keras). Received: a model "
                             f"named {getattr(model, 'name', type(model).__name__)!r}")
    return spec.im_size, spec.ngf, spec.nz


def deploy_generator(model, noise="input", batch_size=None):
    """A deterministic copy of a trained FastGAN generator for export: inputs `[z, map_1, ..., map_k]` (noise
    'input') or `z` (noise 'none'), output the big image (B, im_size, im_size, 3) in 0..255, float32.

    Every weight (spectral-norm vectors and BatchNorm statistics included) is copied layer by layer; fed the
    noise maps the training generator draws, it gives that generator's image (tested). `batch_size` fixes the
    batch (TFLite needs 1: with a dynamic batch the converter leaves a `tf.Conv2D` after the nearest upsampling
    unconverted and asks for Flex ops).

    Raises:
        UserInputError: `model` is not a FastGAN generator, or an unknown `noise`.
    """
    if noise not in NOISE_MODES:
        raise UserInputError(f"`noise` must be one of {list(NOISE_MODES)}. Received: noise={noise!r}")
    im_size, ngf, nz = generator_config(model)
    copy = fastgan_generator(im_size, ngf, nz, noise=noise)
    for layer in copy.layers:
        if layer.weights:
            try:
                source = model.get_layer(layer.name)
                layer.set_weights(source.get_weights())
            except ValueError as e:
                raise UserInputError(f"Expected a FastGAN generator with im_size={im_size}, ngf={ngf}, nz={nz}; "
                                     f"layer {layer.name!r} does not match ({' '.join(str(e).split())[:120]})"
                                     ) from None
    inputs = [keras.Input(t.shape[1:], batch_size=batch_size, name=t.name) for t in copy.inputs]
    big = copy(inputs if len(inputs) > 1 else inputs[0], training=False)[0]
    pixels = keras.layers.Rescaling(127.5, offset=127.5, name="to_pixels")(big)
    return keras.Model(inputs, pixels, name=f"fastgan_generator_{im_size}")


def noise_inputs(model, seed=0, batch=1, index=0):
    """N(0, 1) float32 arrays for every input of a deployed generator (z and every noise map), in input order (a
    list even for one): image `index` of seed `seed`, drawn from NumPy's generator seeded with (seed, index), so
    image i of a seed never depends on how many images are drawn with it."""
    rng = np.random.default_rng([seed, index])
    return [rng.standard_normal((batch, *t.shape[1:])).astype(np.float32) for t in model.inputs]


def fastgan_to_tflite(model, path=None, quantize="none", noise="input", calibration=32, overwrite=False):
    """Converts a trained FastGAN generator (see `deploy_generator`) to a TFLite flatbuffer, checked against the
    Keras copy on one noise draw before it is written (atomically, to `path` unless None).

    'int8' calibrates on `calibration` N(0, 1) draws of the inputs; its inputs stay float32, its output is uint8.
    An existing file at `path` is replaced only with `overwrite`.

    Returns:
        (flatbuffer bytes, the deployed Keras model).
    """
    deployed = deploy_generator(model, noise, batch_size=1)
    representative = [noise_inputs(deployed, seed=1 + k) for k in range(calibration)]
    content = to_tflite(deployed, path, quantize=quantize, probe=noise_inputs(deployed),
                        representative=representative, uint8_input=False, overwrite=overwrite)
    return content, deployed


def fastgan_to_saved_model(model, path, noise="input", overwrite=False):
    """Writes a trained FastGAN generator as a SavedModel: `serving_default` takes float32 `noise` (B, nz) (and,
    with noise 'input', the named noise maps (B, r, r, 1)) and returns the uint8 image `image`; checked against
    the Keras copy and written atomically (an existing SavedModel at `path` is replaced only with `overwrite`).

    Returns:
        (`path`, the deployed Keras model).
    """
    deployed = deploy_generator(model, noise)
    specs = [tf.TensorSpec((None, *t.shape[1:]), tf.float32, name=t.name) for t in deployed.inputs]
    return write_saved_model(deployed, path, specs, "image", noise_inputs(deployed), overwrite), deployed


def slerp(a, b, t):
    """Spherical interpolation between two arrays treated as one vector each: exactly `a` at t = 0 and `b` at
    t = 1 (linear when they are parallel)."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    cos = np.sum(a64 * b64) / (np.linalg.norm(a64) * np.linalg.norm(b64))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if t == 0:
        return np.asarray(a)
    if t == 1:
        return np.asarray(b)
    if np.sin(omega) < 1e-8:
        return ((1 - t) * a64 + t * b64).astype(np.asarray(a).dtype)
    mixed = (np.sin((1 - t) * omega) * a64 + np.sin(t * omega) * b64) / np.sin(omega)
    return mixed.astype(np.asarray(a).dtype)


def latent_walk(model, seed_a, seed_b, frames):
    """Inputs of `frames` images from image 0 of `seed_a` to image 0 of `seed_b`: z and the noise maps together
    interpolated spherically, as one vector."""
    if frames < 2:
        raise UserInputError(f"A walk needs at least 2 frames. Received: frames={frames}")
    a, b = noise_inputs(model, seed_a), noise_inputs(model, seed_b)
    flat_a = np.concatenate([x.ravel() for x in a])
    flat_b = np.concatenate([x.ravel() for x in b])
    walk = []
    for k in range(frames):
        t = k / (frames - 1)
        flat = slerp(flat_a, flat_b, t)
        parts, start = [], 0
        for x in a:
            parts.append(flat[start:start + x.size].reshape(x.shape))
            start += x.size
        walk.append(parts)
    return walk


def render(model, inputs):
    """One uint8 image (H, W, 3) of a deployed generator from its inputs (batch 1)."""
    out = model([np.asarray(x, np.float32) for x in inputs] if len(model.inputs) > 1 else inputs[0],
                training=False)
    return np.clip(np.round(keras.ops.convert_to_numpy(out)[0]), 0, 255).astype(np.uint8)


__all__ = ["NOISE_MODES", "generator_config", "deploy_generator", "noise_inputs", "fastgan_to_tflite",
           "fastgan_to_saved_model", "slerp", "latent_walk", "render"]
