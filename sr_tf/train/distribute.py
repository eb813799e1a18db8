"""Distribution strategies by name, as the training commands offer them, and what a trainer needs to know about
the one it runs under: whether this process is the chief, where a non-chief worker may write, the input sharding
and how to tell that the weights of every worker agree.

Multi-worker training follows TensorFlow's documented setup: every machine runs the same command with its own
`TF_CONFIG` (the cluster's `host:port` list and this task's index); worker 0 is the chief. Each worker builds the
whole (seeded, hence identical) input pipeline and keeps its share of every global batch (`AutoShardPolicy.DATA`).
Gradients are summed with collective all-reduces; a collective that does not complete within
`collective_timeout` seconds, or a peer that stops sending heartbeats, ends the step with an error instead of a
hang.
"""

import hashlib
import json
import os

import keras
import numpy as np
import tensorflow as tf

from sr_tf.errors import ResourceUnavailableError, UserInputError

STRATEGIES = ("auto", "one", "mirrored", "multiworker")
COLLECTIVE_TIMEOUT = 300.0  # seconds a collective may wait for a peer (tracing and XLA compilation included)


# What a collective raises when a peer died (missed heartbeats), timed out or aborted the group.
PEER_FAILURES = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
                 tf.errors.AbortedError)


class WorkerLostError(ResourceUnavailableError):
    """Another worker of a multi-worker run stopped or stopped answering; rerunning every worker resumes."""


def worker_lost(error, step, checkpoint_dir):
    """The `WorkerLostError` for a collective's failure (one of `PEER_FAILURES`) after `step`."""
    first_line = (str(error).strip().splitlines() or [""])[0][:200]
    return WorkerLostError(f"Another worker stopped or stopped answering after step {step} "
                           f"({type(error).__name__}: {first_line}). Start every worker again with the same "
                           f"command to resume from the last checkpoint in {checkpoint_dir}.")


def cluster_from_environment():
    """The parsed `TF_CONFIG` of this process, checked for a cluster and this task's type and index.

    Raises:
        UserInputError: TF_CONFIG is unset, not JSON, or lacks 'cluster' / 'task'.
    """
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserInputError("--strategy multiworker needs the TF_CONFIG environment variable (the cluster's "
                             "'host:port' list and this task's index). Received: TF_CONFIG unset")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserInputError(f"TF_CONFIG is not JSON ({e.msg}). Received: TF_CONFIG={text!r}") from None
    task = config.get("task", {}) if isinstance(config, dict) else {}
    workers = config.get("cluster", {}).get("worker") if isinstance(config, dict) else None
    if not workers or "type" not in task or "index" not in task:
        raise UserInputError("TF_CONFIG must hold {'cluster': {'worker': ['host:port', ...]}, 'task': {'type': "
                             f"'worker', 'index': i}}}}. Received: TF_CONFIG={text!r}")
    return config


def make_strategy(name="auto", collective_timeout=COLLECTIVE_TIMEOUT):
    """The `tf.distribute.Strategy` a training command asked for.

    Args:
        name: 'auto' (`MirroredStrategy` over the visible GPUs when there are two or more, else the default
            strategy), 'one' (the default strategy: one device), 'mirrored' (`MirroredStrategy` over every local
            GPU, or the CPU) or 'multiworker' (`MultiWorkerMirroredStrategy`, cluster from `TF_CONFIG`).
        collective_timeout: seconds a multi-worker collective waits for its peers before failing.

    Multi-worker strategies must be created before TensorFlow runs its first operation in the process.
    """
    if name not in STRATEGIES:
        raise UserInputError(f"Unknown strategy. Expected one of {list(STRATEGIES)}. Received: strategy={name!r}")
    if name == "multiworker":
        cluster_from_environment()
        options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=collective_timeout)
        try:
            return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        except tf.errors.UnknownError as e:
            if "gRPC server" not in str(e):
                raise
            resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
            address = resolver.cluster_spec().task_address(resolver.task_type, resolver.task_id)
            raise UserInputError(f"This worker could not listen on {address} (its TF_CONFIG address): the port is "
                                 "taken by another process. Choose a free port for it.") from None
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        # Every GPU; without GPUs, every logical CPU device (one, unless the process split the CPU in several).
        return tf.distribute.MirroredStrategy([d.name for d in gpus or tf.config.list_logical_devices("CPU")])
    return tf.distribute.get_strategy()


def is_multi_worker(strategy):
    """True for a strategy whose replicas span several processes."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and len(
        strategy.cluster_resolver.cluster_spec().as_dict().get("worker", [])) > 1


def task_id(strategy):
    """This process's index among the workers (0 outside multi-worker training)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return int(resolver.task_id or 0) if resolver is not None and resolver.task_type else 0


def is_chief(strategy):
    """True when this process writes the run's files: always, except on the non-chief workers of a cluster."""
    return bool(strategy.extended.should_checkpoint)


def worker_dir(checkpoint_dir, strategy):
    """Where a non-chief worker writes the checkpoints it must write with the others (collectives may run while
    saving) and deletes right after: `checkpoint_dir/workertemp_<task>`, apart from every file of the chief."""
    return os.path.join(checkpoint_dir, f"workertemp_{task_id(strategy)}")


def check_models_in_scope(models, strategy):
    """Raises a `UserInputError` naming the first model whose variables were not created in the strategy's
    scope (training would then not be distributed)."""
    for name, model in models.items():
        # Keras 3 variables wrap the tf.Variable that the strategy created (or not) in its scope.
        variable = getattr(model.weights[0], "value", None) if model.weights else None
        if variable is not None and not strategy.extended.variable_created_in_scope(variable):
            raise UserInputError(f"Model '{name}' was not built inside the strategy's scope. Build it under "
                                 "`with strategy.scope():` and pass it to the trainer.")


def mean_over_workers(strategy, value):
    """The mean of a host number over all replicas of the strategy (one collective: every worker must call)."""
    values = strategy.experimental_distribute_values_from_function(lambda _: tf.constant(value))
    return float(strategy.reduce(tf.distribute.ReduceOp.MEAN, values, axis=None))


def check_global_batch(batch_size, strategy):
    """Raises a `UserInputError` unless the global `batch_size` splits evenly over the strategy's replicas (losses
    are averaged over the global batch: an uneven split would weigh examples unequally)."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserInputError(f"--batch-size is the global batch, split over {replicas} replicas; it must be a "
                             f"multiple of {replicas}. Received: batch_size={batch_size}")


def shard_by_data(dataset):
    """The dataset with `AutoShardPolicy.DATA`: every worker runs the whole pipeline (in-memory and decoded
    sources have no files to split) and keeps its part of each global batch, so no two workers train on the same
    examples."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def synchronize_batchnorm(models):
    """Makes every BatchNormalization layer of `models` compute its batch statistics over the global batch
    (all replicas) rather than each replica's share, so training matches one device; returns how many."""
    count = 0
    for model in models:
        for layer in _nested_layers(model):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True
                count += 1
    return count


def _nested_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _nested_layers(layer)


def weights_digest(models):
    """A short SHA-256 of the models' weights (name order), to check that the workers of a run agree."""
    digest = hashlib.sha256()
    for name in sorted(models):
        for weight in models[name].weights:
            digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()[:16]


def save_and_discard(checkpoint, folder, strategy, step):
    """A non-chief worker's save: every worker must save (collectives may run while variables are read), so this
    one writes to its `worker_dir` and deletes it at once; returns None."""
    import shutil

    temporary = worker_dir(folder, strategy)
    tf.train.CheckpointManager(checkpoint, temporary, max_to_keep=1).save(int(step.numpy()))
    shutil.rmtree(temporary, ignore_errors=True)
    return None
