"""`sr_tf.export`: deployment formats of the super-resolution models (the functions live in `sr_tf.deploy`)."""

from sr_tf.deploy import QUANTIZATIONS, ExportCheckError, probe_image, tflite_run, to_saved_model, to_tflite

__all__ = ["QUANTIZATIONS", "ExportCheckError", "probe_image", "tflite_run", "to_saved_model", "to_tflite"]
