#!/usr/bin/env python3
"""Make the converted NanoDet graph accept any batch size.

Why: the TFJS export bakes batch 1 into the graph: the input is [1, 3, 416, 416] and the
head's Reshape targets are float constants [1, 80, -1] / [1, 44, -1] (added to a zero
vector, cast to int64). Every other operator (Conv, Pad, MaxPool, LeakyRelu, Resize with
scales [1, 1, s, s], Concat/Split on axis 1, Transpose [0, 2, 1]) is batch-agnostic. So
the rewrite is: input dim 0 becomes the symbolic `batch`, and those Reshape targets start
with 0 (ONNX Reshape: "copy this dimension from the input"). The result is checked by
vigie-policy's tests (batch 2 = two batch-1 runs, within float tolerance).

Run before tools/normalize_onnx.py. Fails loudly if the graph is not the one expected.

usage: nanodet_dynamic_batch.py INPUT.onnx OUTPUT.onnx
"""
import sys

import onnx
from onnx import numpy_helper


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model = onnx.load(sys.argv[1])
    g = model.graph
    if len(g.input) != 1:
        raise SystemExit("nanodet_dynamic_batch: expected one graph input")
    dim0 = g.input[0].type.tensor_type.shape.dim[0]
    if dim0.dim_value != 1:
        raise SystemExit("nanodet_dynamic_batch: expected a batch-1 input")
    dim0.Clear()
    dim0.dim_param = "batch"

    producers = {o: n for n in g.node for o in n.output}
    inits = {i.name: i for i in g.initializer}
    changed = set()
    for node in g.node:
        if node.op_type != "Reshape":
            continue
        # shape <- Cast <- Add(const, zeros) in the TFJS export.
        cast = producers.get(node.input[1])
        if cast is None or cast.op_type != "Cast":
            raise SystemExit(f"nanodet_dynamic_batch: unexpected Reshape shape source for {node.name}")
        add = producers.get(cast.input[0])
        if add is None or add.op_type != "Add":
            raise SystemExit(f"nanodet_dynamic_batch: unexpected Reshape shape source for {node.name}")
        const = next((inits[x] for x in add.input if x in inits), None)
        if const is None:
            raise SystemExit(f"nanodet_dynamic_batch: no constant shape for {node.name}")
        if const.name in changed:  # shared by several Reshapes
            continue
        arr = numpy_helper.to_array(const)
        if arr.shape != (3,) or arr[0] != 1:
            raise SystemExit(f"nanodet_dynamic_batch: unexpected shape constant {arr.tolist()} for {node.name}")
        new = arr.copy()
        new[0] = 0
        const.CopyFrom(numpy_helper.from_array(new.astype(arr.dtype), const.name))
        changed.add(const.name)
    if not changed:
        raise SystemExit("nanodet_dynamic_batch: no Reshape target found")
    for out in g.output:
        d = out.type.tensor_type.shape.dim
        if d:
            d[0].Clear()
            d[0].dim_param = "batch"
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
