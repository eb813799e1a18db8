"""How every command line starts, before TensorFlow loads: its C++ log hidden, Ctrl-C while loading handled, and
the one `sr-tf` console command that `pip install` puts on the PATH.

`sr-tf` is one command with sub-commands (`sr-tf resolve`, `sr-tf export`, `sr-tf train-srgan`, ...), rather than
one console script per tool: one name to remember, `sr-tf --help` lists them all, and nothing else on the PATH is
claimed. Each sub-command runs the same `main(argv)` as `python -m sr_tf.resolve` and the `train_*.py` scripts.

TensorFlow's C++ log (about ten lines: oneDNN, CUDA stubs, `cuInit` failing on a machine without a GPU, CPU
features) is hidden (`quiet_tensorflow`) unless the user passed `--verbose` or set TF_CPP_MIN_LOG_LEVEL (theirs
wins). This module imports nothing of TensorFlow, so `--help` answers at once.
"""

import argparse
import atexit
import importlib
import os
import re
import sys
import threading

# sub-command of `sr-tf` -> (module whose main(argv) runs it, one-line help)
COMMANDS = {
    "resolve": ("sr_tf.cli.resolve", "super-resolve photos or folders (python -m sr_tf.resolve)"),
    "export": ("sr_tf.cli.export", "export a model to TFLite, a SavedModel or ONNX (python -m sr_tf.export)"),
    "train-srgan": ("sr_tf.cli.srgan", "train and evaluate SRGAN, EDSR, WDSR, Real-ESRGAN (train_srgan.py)"),
    "train-pixelcnn": ("sr_tf.cli.pixelcnn", "train, evaluate and sample PixelCNNs (train_pixelcnn.py)"),
    "train-fastgan": ("sr_tf.cli.fastgan", "train, evaluate and sample FastGAN (train_fastgan.py)"),
}
VERBOSE_HELP = "show TensorFlow's own log lines (hidden by default; TF_CPP_MIN_LOG_LEVEL, when set, wins)"


# What TensorFlow's C++ log (absl) writes on file descriptor 2: 'I0000 00:00:1796.123    2435 port.cc:153] ...',
# the banner before its first line, and the second line of its CPU-feature notice.
_LOG_LINE = re.compile(rb"([IWEF])\d{4} \d\d:\d\d:[\d.]+ +\d+ [^\]\s]+:\d+\] ")
_LOG_BANNERS = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
                b"To enable the following instructions:", b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.")
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}


def _undecided(line):
    """Whether the start of a line may still turn out to be one of TensorFlow's log lines."""
    if any(banner.startswith(line) for banner in _LOG_BANNERS):
        return True
    return len(line) < 80 and re.fullmatch(rb"[IWEF][\d :.]*(?:[^\]\s]+(?::\d*)?)?", line) is not None


class LogFilter:
    """Drops TensorFlow's C++ log lines of a severity below `min_level` (0 info .. 3 fatal; 4 drops all) from a
    byte stream and passes everything else on at once (progress bars with carriage returns included)."""

    def __init__(self, write, min_level=4):
        self.write, self.min_level = write, min_level
        self.line, self.dropping, self.passing = b"", False, False

    def _decide(self):
        match = _LOG_LINE.match(self.line)
        if match or any(self.line.startswith(b) for b in _LOG_BANNERS):
            self.dropping = match is None or _SEVERITY[match.group(1)] < self.min_level
            self.passing = not self.dropping
        elif not _undecided(self.line):
            self.passing = True
        if self.passing:
            self.write(self.line)
            self.line = b""

    def feed(self, data):
        """Takes the next bytes of the stream."""
        for piece in re.split(rb"(\n)", data):
            if piece == b"\n":
                if not self.dropping:
                    self.write(self.line + piece)
                self.line, self.dropping, self.passing = b"", False, False
            elif self.dropping:
                continue
            elif self.passing:
                self.write(piece)
            elif piece:
                self.line += piece
                self._decide()

    def close(self):
        """Passes on a last unfinished line that is not a log line."""
        if self.line and not self.dropping:
            self.write(self.line)
        self.line = b""


def quiet_tensorflow(argv):
    """Hides TensorFlow's C++ log lines on stderr for the rest of the process, unless `--verbose` is in `argv`.

    TensorFlow 2.21 logs through absl before TF_CPP_MIN_LOG_LEVEL is read, so that variable alone hides nothing:
    file descriptor 2 is routed through a `LogFilter` on a thread instead (every other byte passes unchanged, and
    the rest of the stream is drained before the process exits). A TF_CPP_MIN_LOG_LEVEL the user set wins: lines
    of that severity and above are shown. Returns the filter, or None when nothing is hidden."""
    if "--verbose" in argv:
        return None
    user_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    min_level = int(user_level) if user_level in ("0", "1", "2", "3") else 4
    if min_level == 0:
        return None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # what still reads it (Python-side TF logging)
    original = os.dup(2)
    read_end, write_end = os.pipe()
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)
    log_filter = LogFilter(lambda data: os.write(original, data), min_level)

    def pump():
        while data := os.read(read_end, 65536):
            log_filter.feed(data)
        log_filter.close()

    thread = threading.Thread(target=pump, name="tf-log-filter", daemon=True)
    thread.start()

    def drain():
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(original, 2)  # closes the pipe's last write end: the pump reads to the end and stops
        thread.join(timeout=5)

    atexit.register(drain)
    return log_filter


def add_verbose(parser):
    """Adds `--verbose` to `parser` and to each of its sub-command parsers (read by `quiet_tensorflow`)."""
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    for action in parser._actions:  # argparse keeps its sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    return parser


def run_module(module, argv=None):
    """Runs `module`'s `main(argv)` as a command line (log hidden first); returns its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    quiet_tensorflow(argv)
    try:
        main = importlib.import_module(module).main  # TensorFlow may load here: a few seconds
    except KeyboardInterrupt:
        return 130  # Ctrl-C while starting: nothing was written
    return main(argv)


def _usage():
    lines = ["usage: sr-tf COMMAND [options]   (sr-tf COMMAND --help for a command's options)", "", "commands:"]
    lines += [f"  {name:<15} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    """The `sr-tf` console command: `sr-tf COMMAND ...` runs COMMAND's main; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(f"error: unknown command {argv[0]!r}; expected one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return run_module(COMMANDS[argv[0]][0], argv[1:])


def script(module):
    """The body of a `python -m` module or `train_*.py` script: runs `module` and exits with its status."""
    sys.exit(run_module(module))


if __name__ == "__main__":
    sys.exit(main())
