"""What every bench shares: the path set-up (the checkout's `sr_tf` and the bench folder importable without an
install), one machine line (CPU flags included), and one timer that waits for the work it times.

    from common import alternate, clock, machine_line, seconds   # after `import common` has set the path up

TensorFlow is imported only when a function needs it, so the PyTorch side of a bench (run by another Python) can
import its bench module too.
"""

import os
import platform
import statistics
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
for folder in (REPO, BENCH):
    if folder not in sys.path:
        sys.path.insert(0, folder)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up log is not a bench's output

NOTABLE_FLAGS = ("amx", "avx512_bf16", "avx512_fp16", "avx512f", "avx2")


def machine_line():
    """One line naming the machine: architecture, cores, the CPU flags that decide the precisions' speed, GPUs,
    TensorFlow's version and what `--precision auto` picks here; plus a warning where bfloat16 is emulated."""
    import tensorflow as tf

    from sr_tf import precision

    flags = sorted(f for f in precision.cpu_flags() if f.startswith(NOTABLE_FLAGS))
    gpus = len(tf.config.list_physical_devices("GPU"))
    line = (f"{platform.machine()}, {os.cpu_count()} CPU cores, flags: {' '.join(flags) or 'none of note'}, "
            f"GPUs: {gpus}; Python {platform.python_version()}, TensorFlow {tf.__version__}; "
            f"auto -> {precision.choose('auto')[0]}")
    if not precision.bf16_flags():
        line += "\n(no amx_bf16 or avx512_bf16: bfloat16 figures on this CPU are emulated and mean nothing)"
    return line


def sync(result):
    """Waits for `result`: a tensor's value is fetched (`.numpy()`), containers item by item."""
    if isinstance(result, dict):
        result = list(result.values())
    if isinstance(result, (list, tuple)):
        for item in result:
            sync(item)
    elif hasattr(result, "numpy"):
        result.numpy()
    return result


class clock:
    """A started stopwatch for work timed as a whole (a training run, a pipeline pass): `started = clock()`, then
    `started.elapsed(result)` waits for `result` (`sync`; None: nothing to wait for) and returns the seconds since."""

    def __init__(self):
        self.started = time.perf_counter()

    def elapsed(self, result=None):
        """Seconds since the clock started, once `result` is ready."""
        sync(result)
        return time.perf_counter() - self.started


def seconds(fn, repeats=3, warmup=1):
    """Median seconds of `fn()` over `repeats` calls after `warmup` calls, each waited for (`sync`)."""
    for _ in range(warmup):
        sync(fn())
    times = []
    for _ in range(repeats):
        started = clock()
        times.append(started.elapsed(fn()))
    return statistics.median(times)


def alternate(functions, rounds, warmup=1):
    """{name: median seconds} of each zero-argument callable of `functions`, run in turn `rounds` times (after
    `warmup` calls each), every call waited for: alternating keeps a drift of the machine out of the ratios."""
    for f in functions.values():
        for _ in range(warmup):
            sync(f())
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, f in functions.items():
            started = clock()
            times[name].append(started.elapsed(f()))
    return {name: statistics.median(t) for name, t in times.items()}
