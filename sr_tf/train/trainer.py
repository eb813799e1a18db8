"""The Trainer base class every trainer in this package builds on.

A trainer owns one `tf.train.Checkpoint` (step, best score, models, optimizers) and two managers: the latest
checkpoints in `checkpoint_dir` (max_to_keep=3, restored on construction, so re-running resumes) and the best one
by validation score in `checkpoint_dir/best`. The step loop runs a `tf.function` train step (optionally XLA
compiled) through a `tf.distribute.Strategy` (the default strategy when none is given), shows a progress bar,
writes TensorBoard scalars and images under `checkpoint_dir/logs`, evaluates periodically and saves a checkpoint
when interrupted with Ctrl-C.

Subclasses fill in hooks rather than re-deriving the base's logic: `build_auxiliary_models` (run in the strategy's
scope: VGG features, an EMA copy), `train_step` (using `apply_gradients`, which handles loss scaling),
`on_train_begin`, `on_step_end`, `score` and `sample_images`.
"""

import math
import os
import signal
import threading
import time
import warnings

import keras
import tensorflow as tf

from sr_tf.errors import UserInputError
from sr_tf.progress import LOG_INTERVAL, PlainProgress, progress
from sr_tf.train.records import (architecture_of, as_json, check_architecture, check_data, read_record,
                                 write_record)


def enable_mixed_precision():
    """Sets Keras's global policy to 'mixed_float16'. Call it before building models (GPU training)."""
    keras.mixed_precision.set_global_policy("mixed_float16")


class Trainer:
    """Base trainer: checkpoints, resume, step loop, evaluation, best-by-score saving, distribution.

    Subclasses pass their models and optimizer factories to `__init__` and implement `train_step` (one replica's
    step on one batch, returning a dict of named scalar losses already averaged over the global batch with
    `tf.nn.compute_average_loss`) and `score` (the validation score). `higher_is_better` says how scores compare.

    Args:
        models: dict of name -> `keras.Model`. With a strategy, build them inside `strategy.scope()`.
        optimizers: dict of name -> zero-argument callable returning an optimizer (called in the strategy scope).
        checkpoint_dir: where checkpoints, the best checkpoint and TensorBoard logs are written (default: the
            class's `default_checkpoint_dir`).
        strategy: optional `tf.distribute.Strategy` (e.g. `MirroredStrategy`, `MultiWorkerMirroredStrategy`).
        jit_compile: compile the per-replica train step with XLA.
        mixed_precision: wrap optimizers in `LossScaleOptimizer` (build the models under 'mixed_float16').
        log_every: steps between TensorBoard scalar writes.
        log_interval: seconds between plain progress lines when standard output is not a terminal (a log file);
            on a terminal the progress bar is redrawn at every step.
        data: optional JSON-able description of the training data (source and options). It is recorded in
            `checkpoint_dir/data.json`; resuming a folder that was trained on other data is a `DataMismatchError`.
    """

    higher_is_better = True
    score_name = "score"
    default_checkpoint_dir = None

    def __init__(self, models, optimizers, checkpoint_dir=None, strategy=None, jit_compile=False,
                 mixed_precision=False, log_every=50, data=None, log_interval=LOG_INTERVAL):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.models = dict(models)
        if strategy is not None:
            self._check_models_in_scope()
        with self.strategy.scope():
            self.models.update(self.build_auxiliary_models())
        checkpoint_dir = self.default_checkpoint_dir if checkpoint_dir is None else checkpoint_dir
        if checkpoint_dir is None:
            raise UserInputError(f"{type(self).__name__} needs a checkpoint folder. Received: checkpoint_dir=None")
        self.checkpoint_dir = os.fspath(checkpoint_dir)
        self.data = None if data is None else as_json(data)
        self.jit_compile = jit_compile
        self.log_every = log_every
        self.log_interval = log_interval
        with self.strategy.scope():
            self.optimizers = {}
            for name, factory in optimizers.items():
                optimizer = factory()
                if mixed_precision:
                    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
                self.optimizers[name] = optimizer
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.best_score = tf.Variable(-math.inf if self.higher_is_better else math.inf, dtype=tf.float64,
                                          trainable=False, name="best_score")
        self._build_optimizers()
        self.checkpoint = tf.train.Checkpoint(step=self.step, best_score=self.best_score, **self.models,
                                              **{f"{k}_optimizer": v for k, v in self.optimizers.items()})
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.checkpoint_dir, max_to_keep=3)
        self.best_manager = tf.train.CheckpointManager(self.checkpoint, os.path.join(self.checkpoint_dir, "best"),
                                                       max_to_keep=1)
        self._writer = None
        self._step_fn = None
        self.interrupted = False
        self.restore()

    # ----------------------------------------------------------------- to implement in subclasses
    def build_auxiliary_models(self):
        """Builds models the trainer needs besides the given ones, inside the strategy's scope.

        Returns a dict of name -> model to checkpoint with the others (e.g. an EMA generator); models that are
        not checkpointed (frozen VGG features) are kept as attributes and left out of the dict.
        """
        return {}

    def on_train_begin(self, dataset):
        """Called by `train` with the training dataset before the first step of this run."""

    def train_step(self, batch):
        """One replica's training step on `batch`; returns a dict of named scalar losses."""
        raise NotImplementedError

    def score(self, dataset):
        """Validation score of the current models on `dataset` (PSNR for super-resolution)."""
        raise NotImplementedError

    def sample_images(self, dataset):
        """Optional images (uint8 NHWC) to show in TensorBoard at each evaluation."""
        return {}

    def on_step_end(self, step):
        """Called after every step with the new step count (e.g. to update an EMA model or write samples)."""

    def apply_gradients(self, tape, loss, variables, optimizer):
        """One optimizer update from `tape`: scales the loss for mixed precision (the optimizer unscales the
        gradients), then applies the gradients of `variables`."""
        with tape:  # record the scaling, so the gradients are those of the scaled loss
            scaled = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, variables)
        optimizer.apply_gradients(zip(gradients, variables))

    # ----------------------------------------------------------------- models, optimizers, checkpoints
    @property
    def model(self):
        """The main model (the first one given, e.g. the generator)."""
        return next(iter(self.models.values()))

    def _check_models_in_scope(self):
        for name, model in self.models.items():
            # Keras 3 variables wrap the tf.Variable that the strategy created (or not) in its scope.
            variable = getattr(model.weights[0], "value", None) if model.weights else None
            if variable is not None and not self.strategy.extended.variable_created_in_scope(variable):
                raise UserInputError(
                    f"Model '{name}' was not built inside the strategy's scope. Build it under "
                    "`with strategy.scope():` and pass it to the trainer."
                )

    def _build_optimizers(self):
        """Creates optimizer slots now, so a restore fills them instead of deferring."""
        for name, optimizer in self.optimizers.items():
            model = self.models.get(name, self.model)
            with self.strategy.scope():
                optimizer.build(model.trainable_variables)

    def _record_path(self, kind):
        return os.path.join(self.checkpoint_dir, f"{kind}.json")

    def restore(self):
        """Restores the latest readable checkpoint in `checkpoint_dir`, if any; returns its path or None.

        The folder's records are checked first (same architecture, same data). A damaged checkpoint (cut short by
        a full disk or a killed copy) is skipped with a warning naming it, and the one before it is restored.
        """
        checkpoints = list(reversed(self.manager.checkpoints))
        if not checkpoints:
            return None
        check_architecture(read_record(self._record_path("architecture")), architecture_of(self.models),
                           self.checkpoint_dir)
        check_data(read_record(self._record_path("data")), self.data, self.checkpoint_dir)
        for path in checkpoints:
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except (tf.errors.OpError, ValueError, IndexError, AssertionError) as e:
                reason = " ".join(str(e).split())[:200]
                warnings.warn(f"Checkpoint {path} is damaged and was skipped ({type(e).__name__}: {reason}).",
                              stacklevel=2)
                continue
            print(f"Restored {path} at step {int(self.step.numpy())} "
                  f"(best {self.score_name} {float(self.best_score.numpy()):.4f}).")
            return path
        raise UserInputError(f"No checkpoint in {self.checkpoint_dir} can be read ({len(checkpoints)} damaged). "
                             "Use another checkpoint_dir=, or delete the damaged folder to start again.")

    def restore_best(self):
        """Restores the best checkpoint by validation score (falls back to the latest); returns its path."""
        path = self.best_manager.latest_checkpoint or self.manager.latest_checkpoint
        if path is not None:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        return path

    def save(self, best=False):
        """Writes a checkpoint (and the architecture fingerprint); with `best`, into the best slot instead."""
        os.makedirs(self.checkpoint_dir, exist_ok=True)
        records = {"architecture": architecture_of(self.models), "data": self.data}
        for kind, value in records.items():
            if value is not None and read_record(self._record_path(kind)) is None:
                write_record(self._record_path(kind), value)
        manager = self.best_manager if best else self.manager
        return manager.save(checkpoint_number=int(self.step.numpy()))

    def is_improvement(self, score):
        """True when `score` beats the best score so far."""
        return score > float(self.best_score.numpy()) if self.higher_is_better else score < float(self.best_score.numpy())

    # ----------------------------------------------------------------- the loop
    def _distributed_step(self, batch):
        replica_step = tf.function(self.train_step, jit_compile=True) if self.jit_compile else self.train_step
        losses = self.strategy.run(replica_step, args=(batch,))
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in losses.items()}

    def _summary_writer(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.checkpoint_dir, "logs"))
        return self._writer

    def evaluate(self, dataset):
        """Scores the current models on `dataset` (see `score`; PSNR for super-resolution).

        Returns a scalar float64 tensor, as the tutorial's `evaluate` did (its code prints `psnr.numpy()`);
        `float(...)` of it is the number.
        """
        return tf.constant(float(self.score(dataset)), tf.float64)

    def train(self, train_dataset, valid_dataset=None, steps=1000, evaluate_every=1000, save_best_only=False):
        """Trains until `steps` steps in total, resuming from the restored step.

        Every `evaluate_every` steps and at the end: with `valid_dataset`, the score is computed and logged, and an
        improvement is saved in the best slot; a checkpoint is written (only on improvement with
        `save_best_only`). Ctrl-C (SIGINT) stops after the current step, writes a checkpoint and returns with
        `self.interrupted` set.

        Args:
            train_dataset: an endless (repeated) dataset of batches.
            valid_dataset: optional finite dataset for `score`.
            steps: total number of steps (not additional ones).
            evaluate_every: steps between evaluations and checkpoints.
            save_best_only: write periodic checkpoints only when the score improves (needs `valid_dataset`).

        Returns:
            The trainer's last logged losses (a dict of floats).
        """
        remaining = steps - int(self.step.numpy())
        if remaining <= 0:
            print(f"Already trained {int(self.step.numpy())} of {steps} steps.")
            return {}
        if self._step_fn is None:
            self._step_fn = tf.function(self._distributed_step)
        self.on_train_begin(train_dataset)
        dataset = self.strategy.experimental_distribute_dataset(train_dataset.take(remaining))
        bar = progress(steps, unit_name="step", interval=self.log_interval, stateful_metrics=["steps/s"])
        bar.update(int(self.step.numpy()))
        stop = threading.Event()
        previous = self._install_sigint(stop)
        logs, started, counted = {}, time.perf_counter(), 0
        try:
            for batch in dataset:
                losses = self._step_fn(batch)
                self.step.assign_add(1)
                step, counted = int(self.step.numpy()), counted + 1
                self.on_step_end(step)
                logs = {k: float(v) for k, v in losses.items()}
                speed = counted / (time.perf_counter() - started)
                evaluating = step % evaluate_every == 0 or step == steps
                bar.update(step, values=[*logs.items(), ("steps/s", speed)],
                           **({"force": True} if evaluating and isinstance(bar, PlainProgress) else {}))
                if step % self.log_every == 0:
                    self._write_scalars(logs, step)
                if step % evaluate_every == 0 or step == steps:
                    self._evaluate_and_save(valid_dataset, save_best_only, step)
                if stop.is_set():
                    self.interrupted = True
                    path = self.save()
                    print(f"\nInterrupted at step {step}; saved {path}. Run the same command again to resume.")
                    break
        finally:
            self._restore_sigint(previous)
            if self._writer is not None:
                self._writer.flush()
        return logs

    def _evaluate_and_save(self, valid_dataset, save_best_only, step):
        improved = False
        if valid_dataset is not None:
            score = float(self.evaluate(valid_dataset))
            improved = self.is_improvement(score)
            self._write_scalars({f"valid_{self.score_name}": score}, step)
            self._write_images(valid_dataset, step)
            if improved:
                self.best_score.assign(score)
                self.save(best=True)
            print(f"\nstep {step}: {self.score_name} = {score:.4f} (best {float(self.best_score.numpy()):.4f})")
        if improved or not save_best_only or valid_dataset is None:
            self.save()

    def _write_scalars(self, values, step):
        with self._summary_writer().as_default():
            for name, value in values.items():
                tf.summary.scalar(name, value, step=step)

    def _write_images(self, dataset, step):
        images = self.sample_images(dataset)
        if images:
            with self._summary_writer().as_default():
                for name, value in images.items():
                    tf.summary.image(name, value, step=step, max_outputs=4)

    def _install_sigint(self, stop):
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if stop.is_set():  # a second Ctrl-C stops at once
                raise KeyboardInterrupt
            print("\nCtrl-C: finishing this step and saving a checkpoint (press again to stop at once).")
            stop.set()

        return signal.signal(signal.SIGINT, handler)

    @staticmethod
    def _restore_sigint(previous):
        if previous is not None:
            signal.signal(signal.SIGINT, previous)

