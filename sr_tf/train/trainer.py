"""The Trainer base class every trainer in this package builds on.

A trainer owns one `tf.train.Checkpoint` (step, best score, models, optimizers) and two managers: the latest
checkpoints in `checkpoint_dir` (3 kept; `restore()`, or `train` first, resumes; building a trainer reads no file)
and the best by validation score in `checkpoint_dir/best`. The step loop runs N steps per `tf.function` call
through a `tf.distribute.Strategy`, shows progress, logs to TensorBoard (`checkpoint_dir/logs`), evaluates
periodically and saves a checkpoint on Ctrl-C. Subclasses fill in hooks: `build_auxiliary_models`, `train_step`
(with `apply_gradients`), `after_train_step`, `on_train_begin`, `host_every`/`on_step_end`, `score`,
`sample_images`."""

import functools
import math
import os
import threading
import time

import keras
import tensorflow as tf

from sr_tf.errors import Arg, UserInputError
from sr_tf.precision import training_precision
from sr_tf.progress import LOG_INTERVAL, PlainProgress, progress
from sr_tf.train import distribute, records
from sr_tf.train.loop import AUTO, StepSchedule, TensorBoardLog, stop_on_signals


class _Completed(type):
    """Trainers finish building after the `__init__` of every class in their hierarchy (`Trainer._setup`)."""

    def __call__(cls, *args, **kwargs):
        trainer = super().__call__(*args, **kwargs)
        trainer._setup()
        return trainer


class Trainer(metaclass=_Completed):
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
        mixed_precision, precision: None (as the models were built), or 'float32', 'bfloat16', 'float16' or 'auto',
            as they were built (`sr_tf.precision.training_precision`); float16 (`mixed_precision=True`) scales losses.
        log_every: steps between TensorBoard scalar writes.
        log_interval: seconds between plain progress lines when standard output is not a terminal (a log file);
            on a terminal the progress bar is redrawn at every step.
        data: optional JSON-able description of the training data (source and options). It is recorded in
            `checkpoint_dir/data.json`; resuming a folder that was trained on other data is a `DataMismatchError`.
        steps_per_execution: steps run by one `tf.function` call (one host sync each), or 'auto': calls of about
            0.2 s (`sr_tf.train.loop.StepSchedule`); never across a multiple of the evaluation and log periods.

    Under a multi-worker strategy every worker runs the same loop and only the chief (worker 0) writes files
    (`distribute.save_and_discard`); on a restart every worker restores from `checkpoint_dir` (shared, or the
    chief's copied). With more than one replica, BatchNormalization uses the statistics of the global batch.
    """

    higher_is_better = True
    score_name = "score"
    default_checkpoint_dir = None

    def __init__(self, models, optimizers, checkpoint_dir=None, strategy=None, jit_compile=False,
                 mixed_precision=False, log_every=50, data=None, log_interval=LOG_INTERVAL, steps_per_execution=AUTO,
                 precision=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.is_chief = distribute.is_chief(self.strategy)
        self.multi_worker = distribute.is_multi_worker(self.strategy)
        agree = functools.partial(distribute.mean_over_workers, self.strategy) if self.multi_worker else None
        self.schedule = StepSchedule(steps_per_execution, agree)
        self.models = dict(models)
        self.precision = training_precision(self.models, precision, mixed_precision)
        if strategy is not None:
            distribute.check_models_in_scope(self.models, self.strategy)
        if self.strategy.num_replicas_in_sync > 1:
            distribute.synchronize_batchnorm(self.models.values())
        checkpoint_dir = self.default_checkpoint_dir if checkpoint_dir is None else checkpoint_dir
        if checkpoint_dir is None:
            raise UserInputError(f"{type(self).__name__} needs a checkpoint folder. Received: checkpoint_dir=None")
        self.checkpoint_dir = os.fspath(checkpoint_dir)
        self.data = None if data is None else records.as_json(data)
        self.jit_compile = jit_compile
        self.log_every = log_every
        self.log_interval = log_interval
        with self.strategy.scope():
            self.optimizers = {}
            for name, factory in optimizers.items():
                optimizer = factory()
                if self.precision == "float16":
                    optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
                self.optimizers[name] = optimizer
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.best_score = tf.Variable(-math.inf if self.higher_is_better else math.inf, dtype=tf.float64,
                                          trainable=False, name="best_score")
        self._build_optimizers()
        self.log = TensorBoardLog(os.path.join(self.checkpoint_dir, "logs"), enabled=self.is_chief)
        self._loop_fn = None
        self.restored = False
        self.interrupted = False

    def _setup(self):
        """Completes the trainer once, after every `__init__` of its classes has run (so a subclass may set its
        state after `Trainer.__init__`): the auxiliary models (the `build_auxiliary_models` hook), the checkpoint of
        the step, best score, models and optimizers and its managers. Reads and writes no file."""
        with self.strategy.scope():
            self.models.update(self.build_auxiliary_models())
        self.checkpoint, self.manager, self.best_manager = records.checkpointing(
            self.checkpoint_dir, step=self.step, best_score=self.best_score, **self.models,
            **{f"{k}_optimizer": v for k, v in self.optimizers.items()})

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

    def after_train_step(self):
        """Traced into the step loop after every step, in cross-replica context (e.g. an EMA update)."""
        return None  # a body AutoGraph can convert (a docstring alone is not one)

    def host_every(self):
        """Step periods at which the loop returns to Python for `on_step_end` (e.g. sample grids)."""
        return []

    def on_step_end(self, step):
        """Called in Python after each call of the step loop with the step reached (see `host_every`)."""

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

    def _build_optimizers(self):
        """Creates optimizer slots now, so a restore fills them instead of deferring."""
        for name, optimizer in self.optimizers.items():
            model = self.models.get(name, self.model)
            with self.strategy.scope():
                optimizer.build(model.trainable_variables)

    def _record_path(self, kind):
        return os.path.join(self.checkpoint_dir, f"{kind}.json")

    def restore(self):
        """Restores the latest readable checkpoint in `checkpoint_dir`, if any, and says so; returns its path or
        None. `train` calls it first when it has not been called; building a trainer restores nothing.

        The folder's records are checked first (same architecture, same data); then `restore_newest_readable`
        skips damaged checkpoints with a warning and refuses one of another learning-rate kind.
        """
        checkpoints = list(reversed(self.manager.checkpoints))
        self.restored = True
        if not checkpoints:
            return None
        records.check_architecture(records.read_record(self._record_path("architecture")),
                                   records.architecture_of(self.models), self.checkpoint_dir)
        records.check_data(records.read_record(self._record_path("data")), self.data, self.checkpoint_dir)
        path = records.restore_newest_readable(self.checkpoint, checkpoints)
        if path is not None:
            best = float(self.best_score.numpy())
            print(f"Restored {path} at step {int(self.step.numpy())}" +
                  (f" (best {self.score_name} {best:.4f})." if math.isfinite(best) else " (not validated yet)."))
            return path
        raise UserInputError(f"No checkpoint in {self.checkpoint_dir} can be read ({len(checkpoints)} damaged). Use "
                             "another ", Arg("checkpoint_dir"), ", or delete the damaged folder to start again.")

    def restore_best(self):
        """Restores the best checkpoint by validation score (falls back to the latest); returns its path."""
        path = self.best_manager.latest_checkpoint or self.manager.latest_checkpoint
        if path is not None:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        return path

    def save(self, best=False):
        """Writes a checkpoint (and the architecture fingerprint); with `best`, into the best slot instead.

        On a non-chief worker the checkpoint goes to its `workertemp_<task>` folder, which is deleted at once
        (every worker must save, as collectives may run while variables are read); returns None there.
        """
        if not self.is_chief:
            return distribute.save_and_discard(self.checkpoint, self.checkpoint_dir, self.strategy, self.step)
        os.makedirs(self.checkpoint_dir, exist_ok=True)
        records.write_missing(self.checkpoint_dir, architecture=records.architecture_of(self.models), data=self.data)
        manager = self.best_manager if best else self.manager
        return manager.save(checkpoint_number=int(self.step.numpy()))

    def is_improvement(self, score):
        """True when `score` beats the best score so far."""
        best = float(self.best_score.numpy())
        return score > best if self.higher_is_better else score < best

    # ----------------------------------------------------------------- the loop
    def _distributed_step(self, batch):
        replica_step = tf.function(self.train_step, jit_compile=True) if self.jit_compile else self.train_step
        losses = self.strategy.run(replica_step, args=(batch,))
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in losses.items()}

    def _one_step(self, iterator):
        losses = self._distributed_step(next(iterator))
        with tf.control_dependencies(list(losses.values())):  # counted once done (not when the data ran out)
            self.step.assign_add(1)
        self.after_train_step()
        return losses

    def _run_steps(self, iterator, n):
        """`n` (>= 1) steps over the distributed iterator in one graph; the losses of the last one. The step is
        traced once, as its own function, and called from one place (the loop's body): a step called twice in
        the graph would double the tracing and graph-optimisation time of large models."""
        outputs = self._step_fn.get_concrete_function(iterator).structured_outputs
        losses = {name: tf.zeros(value.shape, value.dtype) for name, value in outputs.items()}
        for _ in tf.range(n):
            losses = self._step_fn(iterator)
        return losses

    def evaluate(self, dataset):
        """`score(dataset)` as a scalar float64 tensor, as the tutorial's `evaluate` returned (it prints
        `psnr.numpy()`); `float(...)` of it is the number."""
        return tf.constant(float(self.score(dataset)), tf.float64)

    def train(self, train_dataset, valid_dataset=None, steps=1000, evaluate_every=1000, save_best_only=False):
        """Trains until `steps` steps in total, resuming from the restored step.

        Restores first unless `restore()` was called. Steps run in calls of `steps_per_execution` steps inside one
        `tf.function`. Every `evaluate_every` steps and at the end: with `valid_dataset`, the score is computed and
        logged, an improvement saved in the best slot; a checkpoint is written (only on improvement with
        `save_best_only`). Ctrl-C or SIGTERM stops at the end of the current call (every worker at the same step),
        saves, and sets `self.interrupted` to 'SIGINT' or 'SIGTERM'. Training data that run out end it early.

        Args:
            train_dataset: an endless (repeated) dataset of batches (global batches under a strategy).
            valid_dataset: optional finite dataset for `score`.
            steps: total number of steps (not additional ones).
            evaluate_every: steps between evaluations and checkpoints.
            save_best_only: write periodic checkpoints only when the score improves (needs `valid_dataset`).

        Returns:
            The trainer's last logged losses (a dict of floats).

        Raises:
            WorkerLostError: (multi-worker) another worker stopped or stopped answering.
        """
        if not self.restored:
            self.restore()
        step = int(self.step.numpy())
        if steps - step <= 0:
            print(f"Already trained {step} of {steps} steps.")
            return {}
        if self._loop_fn is None:
            self._step_fn, self._loop_fn = tf.function(self._one_step), tf.function(self._run_steps)
        # The training iterator first: a seeded dataset's next iterator continues its random sequence, so a hook
        # that peeks at the data must not shift what training draws (nor make workers and one device differ).
        iterator = iter(self.strategy.experimental_distribute_dataset(distribute.shard_by_data(train_dataset)))
        self.on_train_begin(train_dataset)
        stop = threading.Event()
        try:
            with stop_on_signals(stop):
                return self._loop(iterator, stop, steps, evaluate_every, valid_dataset, save_best_only)
        except distribute.PEER_FAILURES as e:
            if not self.multi_worker:
                raise
            raise distribute.worker_lost(e, int(self.step.numpy()), self.checkpoint_dir) from e
        finally:
            self.log.flush()

    def _loop(self, iterator, stop, steps, evaluate_every, valid_dataset, save_best_only):
        step = first = int(self.step.numpy())
        periods = [evaluate_every, self.log_every, *self.host_every()]
        bar = progress(steps, unit_name="step", interval=self.log_interval, stateful_metrics=["steps/s"])
        bar.update(step)
        logs, started = {}, time.perf_counter()
        while step < steps:
            size = self.schedule.next_size(step, steps, periods)
            called = time.perf_counter()
            try:
                losses = self._loop_fn(iterator, tf.constant(size, tf.int64))
            except tf.errors.OutOfRangeError:
                step = int(self.step.numpy())
                print(f"\nThe training data ran out at step {step} of {steps}; stopping there.")
                self._evaluate_and_save(valid_dataset, save_best_only, step)
                break
            step = int(self.step.numpy())  # the host's one sync per call
            self.schedule.record(size, time.perf_counter() - called)
            self.on_step_end(step)
            logs = {k: float(v) for k, v in losses.items()}
            evaluating = step % evaluate_every == 0 or step == steps
            bar.update(step, values=[*logs.items(), ("steps/s", (step - first) / (time.perf_counter() - started))],
                       **({"force": True} if evaluating and isinstance(bar, PlainProgress) else {}))
            if step % self.log_every == 0:
                self.log.scalars(logs, step)
            if evaluating:
                self._evaluate_and_save(valid_dataset, save_best_only, step)
            # The workers vote (a lone one stopping would hang the collectives); a signal after the vote waits.
            voted = stop.is_set()
            if self.multi_worker:
                voted = distribute.mean_over_workers(self.strategy, float(voted)) > 0
            if voted:
                self.interrupted = getattr(stop, "signal", "SIGTERM")
                path = self.save()
                print(f"\nInterrupted at step {step}; saved {path}. Run the same command again to resume.")
                break
        return logs

    def _evaluate_and_save(self, valid_dataset, save_best_only, step):
        improved = False
        if valid_dataset is not None:
            score = float(self.evaluate(valid_dataset))
            improved = self.is_improvement(score)
            self.log.scalars({f"valid_{self.score_name}": score}, step)
            if self.is_chief:
                self.log.images(self.sample_images(valid_dataset), step)
            if improved:
                self.best_score.assign(score)
                self.save(best=True)
            print(f"\nstep {step}: {self.score_name} = {score:.4f} (best {float(self.best_score.numpy()):.4f})")
        if improved or not save_best_only or valid_dataset is None:
            self.save()
