"""Op-level time of a piece of TensorFlow work, from the TensorFlow profiler's trace (shared by the benches).

`op_seconds(run)` profiles one call of `run()` and returns {op type: seconds}, summed over the executor's threads
(`tf_Compute*` lines; an op's event is named 'node name:op type' and its time includes the Eigen / oneDNN worker
threads it waits for). Op types are grouped by `KIND` into the parts a training step is made of.
"""

import collections
import glob
import os
import tempfile

import tensorflow as tf

# op type -> part of the step ('other' for the rest); oneDNN's names first (`_Mkl*` are the CPU build's kernels)
KIND = {"convolution, forward": ("Conv2D", "_MklNativeFusedConv2D", "_MklNativeConv2D", "_FusedConv2D",
                                 "_MklFusedConv2D", "_MklConv2D", "_MklNativeConv2DWithBias"),
        "convolution, input gradient": ("Conv2DBackpropInput", "_MklNativeConv2DBackpropInput",
                                        "_MklConv2DBackpropInput"),
        "convolution, weight gradient": ("Conv2DBackpropFilter", "_MklNativeConv2DBackpropFilter",
                                         "_MklConv2DBackpropFilter", "_MklNativeConv2DBackpropFilterWithBias",
                                         "_MklConv2DBackpropFilterWithBias"),
        "batch norm (fwd + bwd)": ("FusedBatchNormV3", "FusedBatchNormGradV3", "_MklNativeFusedBatchNormV3",
                                   "_MklNativeFusedBatchNormGradV3", "_MklFusedBatchNormV3",
                                   "_MklFusedBatchNormGradV3", "_MklNativeFusedBatchNormEx"),
        "optimizer": ("ResourceApplyAdam", "AssignVariableOp", "AssignSubVariableOp", "AssignAddVariableOp",
                      "ReadVariableOp", "Sqrt", "RealDiv", "Pow"),
        "bias gradient": ("BiasAddGrad",)}


def kind_of(op):
    """The part of a step an op type belongs to (see `KIND`), 'element-wise and other' otherwise."""
    for kind, ops in KIND.items():
        if op in ops:
            return kind
    return "element-wise and other"


def op_seconds(run):
    """Profiles `run()` once and returns a Counter {op type: seconds}."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    with tempfile.TemporaryDirectory() as folder:
        tf.profiler.experimental.start(folder)
        try:
            run()
        finally:
            tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        with open(glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True)[0], "rb") as f:
            space.ParseFromString(f.read())
    by_op = collections.Counter()
    for plane in space.planes:
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if ":" in name and not name.startswith(("ThreadpoolListener", "ExecutorState")):
                    by_op[name.rsplit(":", 1)[1]] += event.duration_ps / 1e12
    return by_op


def by_kind(by_op):
    """{part of the step: seconds} from `op_seconds`' Counter."""
    kinds = collections.Counter()
    for op, seconds in by_op.items():
        kinds[kind_of(op)] += seconds
    return kinds
