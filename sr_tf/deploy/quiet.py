"""Holding back the TFLite converter's own chatter, so that an export prints only its own lines."""

import contextlib
import os


@contextlib.contextmanager
def quiet_converter():
    """Within the block, the TFLite converter's own chatter is held back: its Python warnings (e.g. int8's
    "Statistics for quantized inputs were expected") and what its C++ code prints on file descriptor 2 (e.g.
    "fully_quantize: 0, inference_type: 6"). The held-back text is printed if the block fails, so an error keeps
    its context."""
    import sys
    import tempfile
    import warnings

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode("utf8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
