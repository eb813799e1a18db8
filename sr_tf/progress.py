"""Progress of long loops: Keras's progress bar on a terminal; plain, rate-limited lines in a log file.

A progress bar redraws itself after every step; written to a file (a cluster job's log) that is one ever-growing
line. When the output is not a terminal, `PlainProgress` writes one line at most every `interval` seconds
instead (and whenever `force=True`, e.g. at an evaluation).
"""

import sys
import time

LOG_INTERVAL = 30.0  # seconds between plain progress lines when the output is not a terminal


class PlainProgress:
    """`step n/total (p%) name value ... elapsed` lines, at most one every `interval` seconds.

    Args:
        total: the last step.
        interval: seconds between lines (0: a line at every update).
        unit_name: what a step is called.
        stream: where lines go (standard output by default).
    """

    def __init__(self, total, interval=LOG_INTERVAL, unit_name="step", stream=None):
        self.total, self.interval, self.unit_name = total, float(interval), unit_name
        self.stream = stream
        self.started = time.monotonic()
        self.last_line = None
        self.current = 0

    def add(self, n, values=None):
        """Advances by `n` steps (as Keras's progress bar does)."""
        self.update(self.current + n, values)

    def update(self, current, values=None, force=False):
        """Records progress at `current`; writes a line if `interval` has passed, at the end, or with `force`."""
        self.current = current
        now = time.monotonic()
        due = self.last_line is None or now - self.last_line >= self.interval
        if not (force or due or current >= self.total):
            return
        self.last_line = now
        shown = " ".join(f"{name} {value:.4g}" if isinstance(value, float) else f"{name} {value}"
                         for name, value in (values or []))
        percent = 100.0 * current / self.total if self.total else 100.0
        print(f"{self.unit_name} {current}/{self.total} ({percent:.0f}%) {shown} [{now - self.started:.0f} s]".replace(
            "  ", " "), file=self.stream or sys.stdout, flush=True)


def progress(total, unit_name="step", interval=LOG_INTERVAL, stateful_metrics=None):
    """Keras's progress bar when standard output is a terminal, else `PlainProgress` (one line per `interval`)."""
    if sys.stdout.isatty():
        import keras

        return keras.utils.Progbar(total, stateful_metrics=stateful_metrics, unit_name=unit_name)
    return PlainProgress(total, interval=interval, unit_name=unit_name)
