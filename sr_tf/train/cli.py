"""What the training scripts share: exit statuses and the error handling around a subcommand."""

import sys

EXIT_ERROR = 2  # bad input: a message naming the file or value, no traceback
EXIT_INTERRUPTED = 130  # Ctrl-C: a checkpoint was saved; re-running resumes (the shell's status for SIGINT)


def run_command(command, args):
    """Runs `command(args)` and returns its exit status; input errors print `error: ...` and give EXIT_ERROR.

    ValueError, FileNotFoundError and RuntimeError (which `DatasetUnavailableError` is) carry messages written
    for users, so they are shown without a traceback.
    """
    try:
        return command(args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
