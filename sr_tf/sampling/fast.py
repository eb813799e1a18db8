"""The fast PixelCNN sampler: each step computes every layer at one position from per-layer caches."""

import keras
import numpy as np
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.layers import DiscretizedLogisticMixture, MaskedConv2D
from sr_tf.layers.mixture import value_logits
from sr_tf.sampling.common import check_sampling_args, image_geometry, model_inputs, raster_sample

_SPATIAL_SAFE = (keras.layers.BatchNormalization, keras.layers.ReLU, keras.layers.Activation, keras.layers.Add,
                 keras.layers.Multiply, keras.layers.Rescaling, keras.layers.Embedding, keras.layers.Reshape,
                 DiscretizedLogisticMixture)


class FastSampler:
    """Exact incremental sampling: each step computes every layer at one position, reusing cached positions.

    A masked network's features at a position depend only on earlier positions, so once computed they never change.
    The sampler runs the model's own layers (their weights, masks and inference-mode BatchNorm) through the model's
    graph on (n, 1, 1, C) tensors: a masked convolution writes its input at the current position into a cache of
    a band of its input map (the kh rows around the current one, shifted down at each new row) and convolves the
    (kh, kw) patch around the position. Vertical-stack convolutions ('V_A', 'V_B') see only
    rows above, so they run once per row over the whole row before that row's pixels. At one position a masked
    convolution is a matrix product of the flattened patch, cut after its last unmasked weight, with the masked
    kernel; those matrices and the inference-mode BatchNorm scales and shifts are computed once per `reset`
    (every `sample` call), not at every step. Layers it supports:
    `MaskedConv2D`, BatchNormalization, ReLU, Activation, Add, Multiply, Rescaling, Embedding and Reshape; any other
    layer is an error (use `sample_naive`).

    Args:
        model: a PixelCNN (`pixelcnn` or `gated_pixelcnn`).
        n: batch size the caches are built for.
    """

    def __init__(self, model, n):
        self.model, self.n = model, int(n)
        self.height, self.width, self.channels, self.levels = image_geometry(model)
        self.caches, self.row_outputs, self.matrices, self.affine = {}, {}, {}, {}
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                self.affine[layer.name] = [tf.Variable(tf.zeros(layer.moving_mean.shape, layer.compute_dtype),
                                                       trainable=False) for _ in ("scale", "shift")]
            if isinstance(layer, keras.layers.InputLayer) or isinstance(layer, _SPATIAL_SAFE):
                continue
            if not isinstance(layer, MaskedConv2D):
                raise UserInputError(f"FastSampler does not support layer '{layer.name}' ({type(layer).__name__}); "
                                 "use sample_naive or method='naive'.")
            kh, kw = layer.kernel_size
            cin = int(layer.kernel.shape[2])
            if kh * kw > 1 or layer.mask_type.startswith("V"):
                self.caches[layer.name] = tf.Variable(tf.zeros((self.n, kh, self.width + kw - 1, cin),
                                                               dtype=layer.compute_dtype),
                                                      trainable=False)
            if layer.mask_type.startswith("V"):
                self.row_outputs[layer.name] = tf.Variable(tf.zeros((self.n, 1, self.width, layer.filters),
                                                                    dtype=layer.compute_dtype),
                                                           trainable=False)
            else:  # flattened (kh, kw, cin) rows up to the last unmasked one: the rest multiply zeros
                used = np.flatnonzero(layer.mask.reshape(kh * kw * cin, -1).any(axis=1))
                rows = int(used[-1]) + 1 if used.size else 0
                self.matrices[layer.name] = tf.Variable(tf.zeros((rows, layer.filters), layer.compute_dtype),
                                                        trainable=False)
        self.has_rows = bool(self.row_outputs)
        self.refresh()
        self._row_step = tf.function(self._row_pass, autograph=False)
        self._pixel_step = tf.function(self._pixel_pass, autograph=False)

    # ------------------------------------------------------------ tensor kinds: full map, one row, one position
    def _kind(self, x):
        if not isinstance(x, tf.Tensor) or x.shape.rank != 4:
            return "other"
        if tuple(x.shape[1:3]) == (self.height, self.width):
            return "full"
        if tuple(x.shape[1:3]) == (1, self.width):
            return "row"
        return "other"  # (n, 1, 1, C): a position, or a label bias (both broadcast alike)

    @staticmethod
    def _window(x, r, c, height, width):
        """The (height, width) window of x at row r and column c (all columns when c is None), static shape."""
        size = [x.shape[0], height, x.shape[2] if c is None else width, x.shape[3]]
        return tf.slice(x, [0, r, 0 if c is None else c, 0], size)

    def _localize(self, x, r, c):
        """Slices a full map to the current row (row pass, c is None) or position."""
        if self._kind(x) == "full":
            x = self._window(x, r, c, 1, 1)
        elif self._kind(x) == "row" and c is not None:
            x = self._window(x, 0, c, 1, 1)
        return x

    def _conv(self, layer, x, r, c):
        """The layer's output at row r (c None: the whole row) or at (r, c), as (n, 1, w, filters)."""
        kh, kw = layer.kernel_size
        ph, pw = kh // 2, kw // 2
        if layer.name in self.caches:
            if self._kind(x) == "full":
                source, top = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]), r
            else:
                band = self.caches[layer.name]  # rows r - ph .. r + ph of the layer's input
                if self._kind(x) == "row":
                    band[:, ph, pw:pw + self.width, :].assign(x[:, 0])
                else:
                    band[:, ph, c + pw, :].assign(x[:, 0, 0])
                source, top = band, 0
            patch = self._window(source, top, c, kh, kw)
        else:
            patch = self._localize(x, r, c)
        if c is not None:  # one position: the flattened patch times the kernel's unmasked rows
            matrix = self.matrices[layer.name]
            y = tf.matmul(tf.reshape(patch, (self.n, -1))[:, :matrix.shape[0]], matrix)
            y = tf.reshape(y, (self.n, 1, 1, layer.filters))
        else:  # Under mixed precision the layer computes in float16 from float32 variables, as Keras does.
            y = tf.nn.convolution(patch, tf.cast(layer.masked_kernel(), patch.dtype), padding="VALID")
        if layer.use_bias:
            y = y + tf.cast(tf.reshape(layer.bias, (1, 1, 1, -1)), y.dtype)
        return layer.activation(y) if layer.activation is not None else y

    def _operation(self, layer, r, c):
        def run(*args, **kwargs):
            flat = tf.nest.flatten(args)
            if any(v is None for v in flat):  # fed by a layer that this pass skips
                return None
            if isinstance(layer, MaskedConv2D):
                vertical = layer.mask_type.startswith("V")
                if c is None:  # row pass: only the vertical stack
                    if not vertical:
                        return None
                    y = self._conv(layer, args[0], r, None)
                    self.row_outputs[layer.name].assign(y)
                    return y
                if vertical:
                    return self._window(self.row_outputs[layer.name], 0, c, 1, 1)
                return self._conv(layer, args[0], r, c)
            kinds = {self._kind(v) for v in flat}
            if kinds != {"full"}:
                args, kwargs = tf.nest.map_structure(lambda v: self._localize(v, r, c), (args, kwargs))
            if isinstance(layer, keras.layers.Reshape) and tuple(layer.target_shape[:2]) == (self.height, self.width):
                x = args[0]
                return tf.cast(tf.reshape(x, (self.n, 1, tf.shape(x)[2], *layer.target_shape[2:])), layer.compute_dtype)
            if isinstance(layer, keras.layers.BatchNormalization):  # inference mode, as scale and shift
                scale, shift = self.affine[layer.name]
                return tf.cast(args[0], scale.dtype) * scale + shift
            return layer(*args, **kwargs)

        return run

    def _run(self, canvas, labels, r, c):
        """Runs the model's layers in order (a functional model lists them topologically), each through
        `_operation`, connecting them by their symbolic `input` and `output` tensors."""
        values = {id(t): v for t, v in zip(self.model.inputs, tf.nest.flatten(model_inputs(canvas, labels)))}
        for layer in self.model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            arguments = tf.nest.map_structure(lambda t: values[id(t)], layer.input)
            values[id(layer.output)] = self._operation(layer, r, c)(arguments)
        return values[id(self.model.output)]

    def _row_pass(self, canvas, labels, r):
        for band in self.caches.values():  # move every band down one row; the new row starts at zero
            band.assign(tf.concat([band[:, 1:], tf.zeros_like(band[:, :1])], axis=1))
        if self.has_rows:
            self._run(canvas, labels, r, None)
        return tf.constant(0)

    def _pixel_pass(self, canvas, labels, r, c):
        return value_logits(self.model, self._run(canvas, labels, r, c)[:, 0, 0], canvas[:, r, c])

    def refresh(self):
        """Recomputes the per-position matrices and BatchNorm scales and shifts from the model's current weights."""
        for name, matrix in self.matrices.items():
            layer = self.model.get_layer(name)
            kernel = tf.reshape(layer.masked_kernel(), (-1, layer.filters))[:matrix.shape[0]]
            matrix.assign(tf.cast(kernel, matrix.dtype))
        for name, (scale, shift) in self.affine.items():
            layer = self.model.get_layer(name)
            factor = tf.math.rsqrt(layer.moving_variance + layer.epsilon)
            if layer.scale:
                factor = factor * layer.gamma
            offset = -layer.moving_mean * factor + (layer.beta if layer.center else 0.0)
            scale.assign(tf.cast(factor, scale.dtype))
            shift.assign(tf.cast(offset, shift.dtype))

    def reset(self):
        """Zeroes the caches (a new batch of samples) and refreshes the weights they are computed with."""
        for variable in [*self.caches.values(), *self.row_outputs.values()]:
            variable.assign(tf.zeros_like(variable))
        self.refresh()

    def logits_at(self, canvas, labels, r, c):
        """Logits (n, C, levels) at (r, c) given the canvas; call in raster order after `start_row(r)`."""
        return self._pixel_step(tf.constant(canvas), labels, tf.constant(r), tf.constant(c))

    def start_row(self, canvas, labels, r):
        """Moves the caches to row r and computes its vertical stack (rows above it must be final)."""
        self._row_step(tf.constant(canvas), labels, tf.constant(r))

    def sample(self, seed=0, temperature=1.0, labels=None, progress=False, rows=None, observed=None,
               observed_rows=0):
        """Draws `n` samples; the arguments are those of `sample_naive`. Returns uint8 (n, H, W, C)."""
        labels = check_sampling_args(self.model, self.n, temperature, labels)
        self.reset()

        def logits_at(canvas, r, c, ch):
            return self.logits_at(canvas, labels, r, c).numpy()[:, ch]

        def start_row(canvas, r):
            self.start_row(canvas, labels, r)

        return raster_sample(self.model, self.n, logits_at, seed, temperature, progress, rows, start_row,
                              observed=observed, observed_rows=observed_rows, visit_observed=True)


