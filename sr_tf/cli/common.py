"""What the command lines share: exit statuses, the error handling around a subcommand, the mapping from the
library's argument names to command-line flags, option defaults, and loading saved models."""

import argparse
import os
import sys

from sr_tf.errors import InputFileNotFoundError, UserInputError, printing_warnings
from sr_tf.weights_io import load_keras_model

# sr_tf.train.distribute's strategy names and collective timeout, written here so that --help needs no TensorFlow
# (tests/test_cli_surface.py checks that they are equal)
STRATEGIES = ("auto", "one", "mirrored", "multiworker")
COLLECTIVE_TIMEOUT = 300.0

EXIT_ERROR = 2  # bad input: a message naming the file or value, no traceback
EXIT_INTERRUPTED = 130  # Ctrl-C: a checkpoint was saved; re-running resumes (the shell's status for SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (a scheduler's stop): the same, with the shell's status for SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM outside the training loop: handled as Ctrl-C is, with EXIT_TERMINATED."""


def interrupted_status(signal_name):
    """The exit status of a run its training loop stopped on `signal_name` ('SIGINT' or 'SIGTERM')."""
    return EXIT_TERMINATED if signal_name == "SIGTERM" else EXIT_INTERRUPTED


def _raise_terminated(signum, frame):
    raise Terminated

def run_command(command, args):
    """Runs `command(args)` and returns its exit status.

    A `UserInputError` (bad input: its message names the file, the value and what was expected, and the
    arguments as their flags), or a bad image file met inside a tf.data pipeline, is printed as one line,
    `error: ...`, and gives EXIT_ERROR; Ctrl-C or
    SIGTERM before or after the training loop gives EXIT_INTERRUPTED or EXIT_TERMINATED; any other exception is a
    bug and raises with its traceback. Warnings (`sr_tf.errors.warn`) are printed as `warning: ...` lines.
    """
    import signal
    import threading

    from sr_tf.errors import pipeline_error

    pipeline_error()  # none left from an earlier call
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if main_thread else None
    try:
        with printing_warnings():  # a skipped file is a line of the command's output, not a Python warning
            return command(args)
    except UserInputError as e:
        print(f"error: {e.command_line()}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as e:  # outside the training loop (which saves and returns on its own)
        what = "Terminated (SIGTERM)" if isinstance(e, Terminated) else "Interrupted"
        print(f"\n{what}; nothing was written that a re-run would not write again.", file=sys.stderr)
        return interrupted_status("SIGTERM" if isinstance(e, Terminated) else "SIGINT")
    except Exception as e:  # noqa: BLE001 - a file that fails inside a tf.data pipeline arrives wrapped
        cause = _wrapped_input_error(e)
        if cause is None:
            raise
        print(f"error: {cause.command_line()}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _wrapped_input_error(error):
    """The `UserInputError` a tf.data pipeline's reader raised (`sr_tf.errors.pipeline_error`) when `error` is the
    OpError TensorFlow wrapped it in, or None for anything else."""
    import tensorflow as tf

    from sr_tf.errors import pipeline_error

    cause = pipeline_error()
    return cause if isinstance(error, tf.errors.OpError) and cause is not None else None


def load_keras_file(path, what, written_as, families=None, command=None, model_name=None):
    """Loads a whole model from a `.keras` file in safe mode, with errors naming the path.

    Args:
        path: the file.
        what: what the file holds, for the messages (e.g. "Generator").
        written_as: where the training command writes such files (e.g. "weights/pixelcnn/<name>.keras").
        families: the spec families the command takes (e.g. ("pixelcnn", "gated_pixelcnn")); None: any model.
        command: the command, for the message when the family is wrong (e.g. "train_pixelcnn.py sample").
        model_name: the Keras model name the file must hold too (e.g. a FastGAN generator, not its discriminator).

    Raises:
        InputFileNotFoundError: no such file.
        UserInputError: the file is not a loadable `.keras` model, or holds a model of another family (or another
            sr_tf model, or none of sr_tf's), said in one line naming the file, what it holds and what was expected.
    """
    if not os.path.isfile(path):
        raise InputFileNotFoundError(f"{what} file not found: {path} (train writes {written_as}).")
    model = load_keras_model(path)  # checks the suffix and the file itself
    if families is None:
        return model
    from sr_tf.models import spec_of

    family = spec_of(model, path).family  # a model that is none of sr_tf's is a UserInputError here
    if family not in families or (model_name is not None and model.name != model_name):
        held = f"'{family}' model" if family not in families else f"'{family}' model named {model.name!r}"
        raise UserInputError(f"{path} holds a {held}; {command} takes a {' or '.join(families)} "
                             f"{what.lower()} (train writes {written_as}).")
    return model


def load_ncnn(path, what_happens):
    """The model of an ncnn `.param` file (`sr_tf.models.from_ncnn`), saying in one line when its graph ends in a
    resize and `what_happens` to that resize (e.g. "its output is resized to x2")."""
    from sr_tf.models import from_ncnn

    model = from_ncnn(path)
    if model.final_scale is not None:
        print(f"{path}: the x{model.spec.scale} network followed by a bicubic resize to x{model.final_scale:g}; "
              + what_happens.format(scale=f"{model.final_scale:g}"))
    return model


def add_precision(parser, default, auto_help=""):
    """`--precision float32|bfloat16|float16|auto` (see `sr_tf.precision`); None as the default means 'auto'."""
    from sr_tf.precision import PRECISIONS

    shown = "auto" if default is None else default
    parser.add_argument("--precision", choices=PRECISIONS, default=default,
                        help="float32, or mixed bfloat16 / float16 (16-bit layers, float32 weights and output)"
                             f"{auto_help} (default {shown})")


def chosen_precision(precision):
    """The precision `--precision` names (None: 'auto'); for 'auto' its choice is printed in one line."""
    from sr_tf.precision import choose, describe_choice

    chosen, reason = choose("auto" if precision is None else precision)
    if precision in (None, "auto"):
        print(describe_choice(chosen, reason))
    return chosen


def resolve_precision(model, precision, other_files):
    """`model` in `precision` (None: 'auto', whose choice is printed in one line), rebuilt with its weights when it
    was built in another; a model that is not a Keras model (an exported file) runs as it is, and naming a precision
    for one is a `UserInputError` ending with `other_files`."""
    import keras

    from sr_tf.precision import with_precision

    if not isinstance(model, keras.Model):
        if precision not in (None, "auto"):
            raise UserInputError(f"--precision {precision} applies to Keras models; {other_files}.")
        return model
    return with_precision(model, chosen_precision(precision))


def add_architecture_flags(parser, classes, default_text="the preset's", exclude=()):
    """`--<field>` for every field of the architecture families `classes` (each name once; `sr_tf.specs.base.flags`),
    typed and described by the specs, default None (unset: `default_text` says what fills it)."""
    from sr_tf.specs.base import flags

    for flag in flags(classes):
        if flag.name in exclude:
            continue
        if flag.choices:
            kind = flag.type
        elif flag.type is int:
            kind = int_range(flag.minimum)
        elif flag.type is float:
            kind = float_range(flag.minimum)
        else:
            kind = str
        choices = None if not flag.choices else list(flag.choices)
        described = f"{flag.help} " if flag.help else ""
        parser.add_argument(flag.flag, dest=flag.name, type=kind, choices=choices, default=None,
                            help=f"{described}(default: {default_text})")


def add_sr_model_flags(parser):
    """--model (any super-resolution family, or an alias such as 'srgan') and every super-resolution family's
    architecture flags, for the commands that load weights files which carry no architecture."""
    from sr_tf.specs import SrArchitecture
    from sr_tf.specs.base import families, family_names

    parser.add_argument("--model", choices=family_names(SrArchitecture), help="architecture of .h5 weights")
    add_architecture_flags(parser, families(SrArchitecture), "the published weights', or the family's")


def sr_architecture_flags(options):
    """{field: value} of every super-resolution family's architecture flag that `options` sets (not None): what
    `load_sr_model` takes beside a weights file."""
    from sr_tf.specs import SrArchitecture
    from sr_tf.specs.base import families, flags

    return {f.name: getattr(options, f.name) for f in flags(families(SrArchitecture))
            if getattr(options, f.name, None) is not None}


def architecture_overrides(options, cls):
    """{field: value} of the architecture flags of family `cls` that `options` sets (not None)."""
    return {f.name: getattr(options, f.name) for f in cls.flags() if getattr(options, f.name, None) is not None}


def _number(kind, text):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}. "
                                          f"Received: {text!r}") from None


def int_range(low, high=None):
    """An argparse `type=` for integers in low..high (high None: no upper bound); errors name the value."""
    def parse(text):
        value = _number(int, text)
        if value < low or (high is not None and value > high):
            allowed = f"at least {low}" if high is None else f"in {low}..{high}"
            raise argparse.ArgumentTypeError(f"must be {allowed}. Received: {value}")
        return value

    parse.__name__ = "int"
    return parse


positive_int = int_range(1)
nonnegative_int = int_range(0)


def float_range(low, high=None, low_open=True, high_open=True):
    """An argparse `type=` for numbers in (low, high) (bounds open by default; None: unbounded above)."""
    def parse(text):
        value = _number(float, text)
        below = value <= low if low_open else value < low
        above = high is not None and (value >= high if high_open else value > high)
        if below or above or value != value:
            allowed = f"{'>' if low_open else '>='} {low}" + ("" if high is None else
                                                            f" and {'<' if high_open else '<='} {high}")
            raise argparse.ArgumentTypeError(f"must be {allowed}. Received: {text}")
        return value

    parse.__name__ = "float"
    return parse


positive_float = float_range(0.0)
unit_float = float_range(0.0, 1.0, low_open=False, high_open=False)  # 0 <= x <= 1


def add_log_interval(parser):
    """The `--log-interval` option of every training command (plain progress lines in log files)."""
    from sr_tf.progress import LOG_INTERVAL

    parser.add_argument("--log-interval", type=float_range(0.0, low_open=False), default=LOG_INTERVAL,
                        help="seconds between progress lines when the output is not a terminal, e.g. a cluster "
                             "job's log (default %(default)s)")


def steps_per_execution(text):
    """An argparse `type=` for --steps-per-execution: 'auto' or a positive integer."""
    return "auto" if text == "auto" else positive_int(text)


steps_per_execution.__name__ = "'auto' or int"


def add_training_options(parser, distributed=True):
    """The options every training command shares: XLA, mixed precision, progress lines, steps per
    `tf.function` call and (with `distributed`) the distribution strategy."""
    parser.add_argument("--jit", action="store_true", help="XLA-compile the train step")
    add_precision(parser, "float32", "; auto: bfloat16 on CPUs with AMX or AVX-512 BF16, float16 on GPUs with "
                                     "tensor cores (with loss scaling), else float32")
    parser.add_argument("--mixed-precision", action="store_true", help="the same as --precision float16")
    add_log_interval(parser)
    parser.add_argument("--steps-per-execution", type=steps_per_execution, default="auto",
                        help="training steps per tf.function call, or 'auto': as many as take about 0.2 s "
                             "(default %(default)s)")
    if distributed:
        parser.add_argument("--strategy", choices=STRATEGIES, default="auto",
                            help="auto: all GPUs of this machine when there are several; one: one device; "
                                 "mirrored: all local GPUs; multiworker: the cluster in TF_CONFIG (default "
                                 "%(default)s)")
        parser.add_argument("--collective-timeout", type=positive_float, default=COLLECTIVE_TIMEOUT,
                            help="multiworker: seconds a worker waits for the others before stopping with an "
                                 "error (default %(default)s)")


def trainer_options(plan, strategy):
    """The `Trainer` keyword arguments of a run's plan (`sr_tf.cli.runner.RunPlan`): the shared training options
    and the precision chosen."""
    options = plan.options
    return dict(strategy=strategy, jit_compile=options.jit, precision=plan.precision,
                log_interval=options.log_interval, steps_per_execution=options.steps_per_execution)


def pipeline_seed(seed, trainer):
    """The input pipeline's seed for a run of `trainer`: the user's `seed` on a fresh run, another one derived from
    it and the restored step on a resumed run (so a resumed run does not replay the batches of the first one).
    The same on every worker of a cluster."""
    return (seed * 1_000_003 + int(trainer.step.numpy())) % 2**31


def finish_worker(trainer):
    """After training under a multi-worker strategy, prints a digest of this worker's weights (equal on every
    worker when they trained in sync) and returns True on a non-chief worker, which writes nothing more."""
    from sr_tf.train.distribute import task_id, weights_digest

    if not trainer.multi_worker:
        return False
    print(f"Worker {task_id(trainer.strategy)} weights digest: {weights_digest(trainer.models)}", flush=True)
    return not trainer.is_chief
