"""What every part of the package shares at the bottom: the one conversion to displayable pixels, and `Draws`,
the one source of random numbers for augmentations, losses and layers that must draw the same numbers on one
device and on many."""

import contextlib
import contextvars
import weakref

import numpy as np
import tensorflow as tf

_ACTIVE_DRAWS = contextvars.ContextVar("sr_tf_active_draws", default=None)


def to_uint8(values, scale=1.0, offset=0.0):
    """`clip(round((values + offset) * scale), 0, 255)` as uint8: the step from computed values to pixels.

    Model outputs in 0..255 use the defaults; images in [-1, 1] use `offset=1, scale=127.5`; PixelCNN levels
    0..L-1 use `scale=255 / (L - 1)`; 16-bit images use `scale=1 / 257`.

    Args:
        values: a tensor (the result is a uint8 tensor) or anything numpy converts (a uint8 numpy array).
        scale, offset: the affine map applied before rounding.
    """
    if tf.is_tensor(values):
        x = tf.cast(values, tf.float32)
        if offset:
            x = x + offset
        if scale != 1.0:
            x = x * scale
        return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)
    x = np.asarray(values, dtype=np.float64)
    if offset:
        x = x + offset
    if scale != 1.0:
        x = x * scale
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


class Draws:
    """Where an augmentation's random numbers come from.

    Without a seed, TensorFlow's stateful ops (`tf.random.uniform`): fresh numbers at every call. With a seed (a
    shape-(2,) integer tensor), stateless ops: the k-th draw uses the seed folded with k, so the same seed gives
    the same numbers in every process - what lets every worker of a multi-worker run build the same pipeline and
    what makes a step reproducible.

    `per_image=True` draws are for a batch split over replicas: the first dimension of `shape` is this replica's
    batch; the numbers are drawn for all `replicas` batches and this replica keeps its rows, so the union over
    replicas equals one draw for the global batch on one device.

    Args:
        seed: None, or a shape-(2,) int32/int64 tensor.
        replica: this replica's index among `replicas` (`replica_id_in_sync_group`).
        replicas: the number of replicas in sync.

    A train step makes its draws the active ones with `with draws.active():`; functions and layers called
    without `draws` then take `Draws.current()` - the active draws, or stateful ones outside any such block.
    """

    def __init__(self, seed=None, replica=0, replicas=1):
        self.seed = None if seed is None else tf.cast(seed, tf.int64)
        self.replica, self.replicas = replica, replicas
        self._count = 0

    @staticmethod
    def current():
        """The draws made active by the innermost `with draws.active():` block (at trace time), else stateful
        draws."""
        return _ACTIVE_DRAWS.get() or Draws()

    @contextlib.contextmanager
    def active(self):
        """Makes these the draws `Draws.current()` returns within the block."""
        token = _ACTIVE_DRAWS.set(self)
        try:
            yield self
        finally:
            _ACTIVE_DRAWS.reset(token)

    def _draw(self, stateful, stateless, shape, per_image, **kwargs):
        if self.seed is None:
            return stateful(shape, **kwargs)
        seed = tf.random.experimental.stateless_fold_in(self.seed, self._count)
        self._count += 1
        if not per_image or self.replicas == 1:
            return stateless(shape, seed=seed, **kwargs)
        n = shape[0]
        values = stateless(tf.concat([[n * self.replicas], tf.cast(shape[1:], tf.int32)], axis=0), seed=seed,
                           **kwargs)
        return values[self.replica * n:(self.replica + 1) * n]

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32, per_image=False):
        """Uniform numbers in [minval, maxval) (integers need `maxval`)."""
        return self._draw(tf.random.uniform, tf.random.stateless_uniform, shape, per_image, minval=minval,
                          maxval=maxval, dtype=dtype)

    def normal(self, shape, dtype=tf.float32, per_image=False):
        """Standard normal numbers."""
        return self._draw(tf.random.normal, tf.random.stateless_normal, shape, per_image, dtype=dtype)

    def poisson(self, lam, dtype=tf.float32):
        """Poisson counts with rates `lam` (a tensor; the result has its shape)."""
        lam = tf.convert_to_tensor(lam, dtype)
        if self.seed is None:
            return tf.random.poisson([], lam, dtype=dtype)
        return self._draw(None, tf.random.stateless_poisson, tf.shape(lam), False, lam=lam, dtype=dtype)


class PerModelFunction:
    """`fn(model, *args)` as one `tf.function` per model object, traced once and kept while the model lives, so
    a metric computed every N training steps does not trace the model again at every call.

    `PerModelFunction(fn)(model)` returns the traced function of the remaining arguments.
    """

    def __init__(self, fn):
        self.fn = fn
        self.traced = weakref.WeakKeyDictionary()

    def __call__(self, model):
        traced = self.traced.get(model)
        if traced is None:  # through a weak reference: a function holding its model would keep it alive
            ref = weakref.ref(model)
            traced = self.traced[model] = tf.function(lambda *args: self.fn(ref(), *args), reduce_retracing=True)
        return traced
