"""`sr_tf.export`: deployment formats of the super-resolution models (the functions live in `sr_tf.deploy`);
`python -m sr_tf.export` is the command line of `sr_tf.cli.export`."""

from sr_tf.deploy import (QUANTIZATIONS, ExportCheckError, probe_image, representative_patches, tflite_ops,
                          tflite_run, to_saved_model, to_tflite)

__all__ = ["QUANTIZATIONS", "ExportCheckError", "probe_image", "representative_patches", "tflite_ops",
           "tflite_run", "to_saved_model", "to_tflite"]

if __name__ == "__main__":
    import sys

    from sr_tf.cli.export import main

    sys.exit(main())
