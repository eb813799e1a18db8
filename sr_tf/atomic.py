"""Writing files so that nothing is ever half-written at a user-visible path.

`atomic_write(path, write)` lets `write` fill a temporary file in the same folder, flushes it to disk and renames
it over `path`: a reader (or a later run) sees the old file or the new one, never part of one, whether the writer
is interrupted, killed or runs out of disk. Temporary files are named `.tmp-<pid>-<token>-<name>`, so they keep the
final name's suffix (Keras picks formats by suffix), and one left behind by a killed process is removed by the
next write of the same file.
"""

import os
import secrets

TMP_PREFIX = ".tmp-"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(path):
    """Removes temporary files of `path` left by writers that no longer run; returns how many were removed."""
    directory, name = os.path.split(os.path.abspath(path))
    removed = 0
    if not os.path.isdir(directory):
        return removed
    for entry in os.listdir(directory):
        if not (entry.startswith(TMP_PREFIX) and entry.endswith(f"-{name}")):
            continue
        pid = entry[len(TMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            try:
                os.remove(os.path.join(directory, entry))
                removed += 1
            except OSError:
                pass
    return removed


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write):
    """Writes `path` through a temporary file in its folder (created if needed) and an atomic rename.

    Args:
        path: the destination.
        write: a function of the temporary path that writes the whole file there.

    Returns:
        `path`.
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = os.path.join(directory, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{name}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:  # on disk before it is visible under its name
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def atomic_write_text(path, text):
    """Writes a text file (UTF-8) atomically; returns `path`."""
    def write(tmp):
        with open(tmp, "w", encoding="utf8") as f:
            f.write(text)

    return atomic_write(path, write)
