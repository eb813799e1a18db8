"""The step loop's host side: how many steps the next `tf.function` call runs, Ctrl-C as a request to stop at
the next step boundary, and the TensorBoard log."""

import contextlib
import os
import signal
import threading

import tensorflow as tf

from sr_tf.errors import UserInputError

AUTO = "auto"
AUTO_TARGET_SECONDS = 0.2  # 'auto' steps per execution: aim for calls of about this long ...
AUTO_MAX_STEPS = 1000  # ... and run at most this many steps in one call


def check_steps_per_execution(value):
    """Returns `value` when it is 'auto' or a positive integer; raises a `UserInputError` naming it otherwise."""
    if value == AUTO or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise UserInputError(f"`steps_per_execution` must be 'auto' or a positive integer. "
                         f"Received: steps_per_execution={value!r}")


class StepSchedule:
    """Sizes the calls of the in-graph step loop.

    A call runs `size` steps, cut so that it ends exactly at the next multiple of each host period (evaluation,
    TensorBoard, sample grids) and at the last step. With 'auto', the size starts at 1 and, after each full-size
    call, doubles when the call took less than half of `AUTO_TARGET_SECONDS` and halves when it took more than
    twice that (at most `AUTO_MAX_STEPS`): the host then syncs a few times per second whatever a step costs.

    Args:
        steps_per_execution: 'auto' or a positive integer.
        agree: optional function of a duration in seconds returning the value every worker agrees on (the mean
            over workers), so that all workers of a cluster pick the same sizes; None for one process.
    """

    def __init__(self, steps_per_execution=AUTO, agree=None):
        self.auto = check_steps_per_execution(steps_per_execution) == AUTO
        self.size = 1 if self.auto else steps_per_execution
        self.agree = agree

    def next_size(self, step, last_step, periods):
        """Steps of the next call from `step`: at most `size`, ending at the next multiple of every nonzero
        period and at `last_step`."""
        return min([self.size, last_step - step] + [p - step % p for p in periods if p])

    def record(self, size, seconds):
        """Adapts the size ('auto') after a call of `size` steps that took `seconds`."""
        if not self.auto or size != self.size:
            return
        if self.agree is not None:
            seconds = self.agree(seconds)
        if seconds < AUTO_TARGET_SECONDS / 2:
            self.size = min(2 * size, AUTO_MAX_STEPS)
        elif seconds > 2 * AUTO_TARGET_SECONDS:
            self.size = max(size // 2, 1)


@contextlib.contextmanager
def stop_on_signals(stop):
    """Within the block, Ctrl-C (SIGINT) or SIGTERM (how cluster schedulers and preemptible machines stop a job)
    sets the `threading.Event` `stop`, with `stop.signal` naming it: the loop finishes the steps under way and
    saves. A second signal raises KeyboardInterrupt at once. Only in the main thread; the previous handlers come
    back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.signal = signal.Signals(signum).name
        what = "Ctrl-C" if signum == signal.SIGINT else stop.signal
        # os.write, not print: the signal may land while the main thread is inside a print to the same buffered
        # stream, and a second buffered write from the handler would raise "reentrant call"
        os.write(2, f"\n{what}: finishing the steps under way and saving a checkpoint (again to stop at once).\n"
                    .encode())
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class TensorBoardLog:
    """Scalars and images for TensorBoard in `folder`, created on first use; writes nothing when not `enabled`
    (the non-chief workers of a cluster)."""

    def __init__(self, folder, enabled=True):
        self.folder, self.enabled, self._writer = folder, enabled, None

    def _write(self, write):
        if not self.enabled:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.folder)
        with self._writer.as_default():
            write()

    def scalars(self, values, step):
        """One scalar per name of `values` (a dict of numbers) at `step`."""
        self._write(lambda: [tf.summary.scalar(name, value, step=step) for name, value in values.items()])

    def images(self, images, step, max_outputs=4):
        """Each uint8 NHWC batch of `images` (a dict; may be empty) at `step`."""
        if images:
            self._write(lambda: [tf.summary.image(name, value, step=step, max_outputs=max_outputs)
                                 for name, value in images.items()])

    def flush(self):
        """Flushes what was written."""
        if self._writer is not None:
            self._writer.flush()
