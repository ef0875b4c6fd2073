#!/usr/bin/env python3
"""Declare another input size (H x W, multiples of 32) on the converted NanoDet graph.

Why: NanoDet-m is fully convolutional. After tools/nanodet_dynamic_batch.py the converted
TFJS graph holds nothing that depends on the input size: its head Reshape targets are
[0, 80, -1] / [0, 44, -1] (the anchor count is inferred, not the 2704 / 676 / 169 of a
416 x 416 input), its Resize nodes use scales ([1, 1, 2, 2] / [1, 1, 0.5, 0.5]), its Pad
nodes fixed 1-pixel borders. Only the *declared* input
says 416 ([batch, 3, 416, 416]; the outputs are declared with symbolic dimensions). This
script checks that this is still so (it fails loudly on any other graph), rewrites the
declared input to [batch, 3, H, W]; each output is then [batch, (H/s) * (W/s), 80 | 44]
for its stride s. Weights and operators are untouched, so
the computation at 416 x 416 is the original's, and a non-square size needs nothing else.
tools/fetch-models uses it for the allowlisted `nanodet-coco-512x288` (HEIGHT 288, WIDTH
512: wide sources), `nanodet-coco-416x352` (HEIGHT 352, WIDTH 416: landscape sources) and
`nanodet-coco-768x448` (HEIGHT 448, WIDTH 768: small objects in wide sources, on request),
all letterboxed; pinned SHA-256 in models/manifest.toml.

Input: the normalised 416 file (nanodet_coco_416.onnx, pinned SHA-256), so no second
TFJS conversion is needed; run tools/normalize_onnx.py on the output (graph name = the
model id) for the canonical bytes.

usage: nanodet_input_size.py INPUT.onnx OUTPUT.onnx HEIGHT WIDTH
"""
import sys

import onnx
from onnx import numpy_helper

BASE = 416
STRIDES = (8, 16, 32)


def fail(msg: str) -> None:
    raise SystemExit(f"nanodet_input_size: {msg}")


def main() -> None:
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    h, w = int(sys.argv[3]), int(sys.argv[4])
    if h <= 0 or w <= 0 or h % 32 or w % 32:
        fail(f"input size {h} x {w}: height and width must be positive multiples of 32")
    model = onnx.load(src)
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}

    # Nothing in the graph may depend on the input size.
    for node in g.node:
        if node.op_type == "Reshape":
            continue  # targets checked below, through their constants
        if node.op_type in ("Slice", "Tile", "ConstantOfShape", "Range", "Shape", "Gather"):
            fail(f"unexpected size-dependent operator {node.op_type} ({node.name})")
        if node.op_type == "Resize":
            scales = inits.get(node.input[2]) if len(node.input) > 2 else None
            if scales is None or len(node.input) > 3 and node.input[3]:
                fail(f"Resize {node.name} is not scale-based")
    shape_consts = [a for a in inits.values() if a.shape == (3,) and a[-1] == -1]
    if sorted(tuple(a.tolist()) for a in shape_consts) != [(0, 44, -1), (0, 80, -1)]:
        fail("expected the head Reshape targets [0, 44, -1] and [0, 80, -1] (run nanodet_dynamic_batch.py first)")

    if len(g.input) != 1:
        fail("expected one graph input")
    dims = g.input[0].type.tensor_type.shape.dim
    if len(dims) != 4 or dims[0].dim_value != 0 or [d.dim_value for d in dims[1:]] != [3, BASE, BASE]:
        fail(f"expected the input [batch, 3, {BASE}, {BASE}]")
    dims[2].dim_value = h
    dims[3].dim_value = w

    # The outputs are declared [d, d, d] by the conversion: nothing to rewrite. Their
    # anchor counts, (H/s) * (W/s) per stride s, come from the Reshape targets' -1 at run
    # time (ONNX shape inference cannot follow the Add/Cast that builds those targets);
    # vigie checks them against the manifest's declared output shapes when it runs.
    if len(g.output) != 6:
        fail("expected 6 outputs: scores and box distributions for strides 8, 16, 32")
    for out in g.output:
        d = out.type.tensor_type.shape.dim
        if len(d) != 3 or any(x.dim_value for x in d):
            fail(f"expected output {out.name} declared [d, d, d]")
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    main()
