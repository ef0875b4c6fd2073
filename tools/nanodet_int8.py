#!/usr/bin/env python3
"""Build the int8 (QDQ) NanoDet from the pinned float file and a committed calibration table.

Why: on a CPU with 8-bit dot-product instructions (AVX512-VNNI / AVX-VNNI / AMX) ONNX
Runtime runs NanoDet's convolutions in int8 about 1.6x faster than in float. Static
quantisation needs activation ranges measured on real frames (calibration). Measuring them
again on every machine would tie the bytes to the ONNX Runtime version and to floating-point
details, so the ranges were measured once (`calibrate`, below) and committed as
models/calibration/nanodet_coco_416.int8.json; `build` only applies them with onnx and
numpy (the pinned converter venv: onnx 1.15.0, numpy<2), so every machine produces the same
bytes (then tools/normalize_onnx.py, graph name nanodet_coco_416_int8 /
nanodet_coco_512x288_int8 / nanodet_coco_416x352_int8 /
nanodet_coco_768x448_int8).

What `build` does, in this order:
1. checks the SHA-256 of the float file against the table's `float_model_sha256`;
2. folds each zero-padding Pad that feeds a Conv into the Conv's `pads` (the TFJS export
   pads explicitly; the same computation, and the DQ -> Conv -> Q pattern ONNX Runtime
   fuses into an int8 convolution needs the Conv to read the DequantizeLinear directly).
   The -inf Pad before the MaxPool is kept;
3. inserts QuantizeLinear -> DequantizeLinear (uint8, the table's scale and zero point)
   after every activation tensor the table names; every consumer reads the dequantized
   tensor;
4. stores the weights of the Convs the table lists as int8, symmetric per output channel
   (scale = max|w| / 127 per channel, round half to even, clipped to [-127, 127]) and their
   biases as int32 (scale = input scale x weight scale, zero point 0), each behind a
   DequantizeLinear (axis 0). Other Convs (the stem, the three output Convs) stay float:
   quantised, they cost up to 38 points of person recall (see EXCLUDE).
The rules match onnxruntime.quantization 1.31.1 (quantize_static, QDQ, per_channel=True,
QUInt8 activations, QInt8 weights), so the result computes what that tool produced from the
same ranges.

`calibrate` (needs onnxruntime==1.31.1 and ffmpeg; run once, by a maintainer, to make the
table): decodes every 8th frame of vtest.avi (Debian opencv-doc; 100 frames), letterboxes
each to the float model's declared input size (416 x 416, 416 x 352, 512 x 288, 768 x 448) exactly as vigie
does (engine/detect/src/preprocess.rs), runs onnxruntime.quantization.quantize_static
(MinMax, the nodes in EXCLUDE left float) and writes the resulting scales and zero points
as the table. No evaluation data is used.

Each input size has its own table, measured at that size (ranges measured at 416 x 416 cost
the 512 x 288 model 1.25 points of any-vehicle precision, and the 416 x 352 model 1.04 points
of person recall on TUD-Stadtmitte; their own tables keep every figure within 1 point):
models/calibration/nanodet_coco_416.int8.json for nanodet_coco_416.onnx,
models/calibration/nanodet_coco_512x288.int8.json for nanodet_coco_512x288.onnx,
models/calibration/nanodet_coco_416x352.int8.json for nanodet_coco_416x352.onnx,
models/calibration/nanodet_coco_768x448.int8.json for nanodet_coco_768x448.onnx.

usage: nanodet_int8.py build FLOAT.onnx TABLE.json OUTPUT.onnx
       nanodet_int8.py calibrate FLOAT.onnx VTEST.avi TABLE.json
"""
import hashlib
import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def fail(msg: str) -> None:
    raise SystemExit(f"nanodet_int8: {msg}")


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def f32(v) -> np.float32:
    return np.float32(v)


def fold_pads(g: onnx.GraphProto, inits: dict) -> None:
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    outputs = {o.name for o in g.output}
    keep = []
    folded = 0
    for n in g.node:
        if n.op_type == "Pad":
            cons = consumers.get(n.output[0], [])
            mode = next((a.s for a in n.attribute if a.name == "mode"), b"constant")
            value = inits.get(n.input[2]) if len(n.input) > 2 and n.input[2] else np.float32(0)
            pads = inits.get(n.input[1])
            if (
                len(cons) == 1 and cons[0].op_type == "Conv" and cons[0].input[0] == n.output[0]
                and n.output[0] not in outputs and mode == b"constant" and value is not None
                and float(value) == 0.0 and pads is not None and pads.shape == (8,)
                and not pads[[0, 1, 4, 5]].any() and (pads >= 0).all()
            ):
                conv = cons[0]
                attrs = {a.name: a for a in conv.attribute}
                if "auto_pad" in attrs and attrs["auto_pad"].s not in (b"", b"NOTSET"):
                    fail(f"Conv {conv.name} has auto_pad {attrs['auto_pad'].s!r}")
                old = list(attrs["pads"].ints) if "pads" in attrs else [0, 0, 0, 0]
                new = [int(pads[2]) + old[0], int(pads[3]) + old[1], int(pads[6]) + old[2], int(pads[7]) + old[3]]
                for a in list(conv.attribute):
                    if a.name == "pads":
                        conv.attribute.remove(a)
                conv.attribute.append(helper.make_attribute("pads", new))
                conv.input[0] = n.input[0]
                folded += 1
                continue
        keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    if folded != 28:
        fail(f"folded {folded} Pad nodes into Convs, expected 28 (is this the pinned NanoDet file?)")


def quantize_weight(w: np.ndarray):
    """int8 symmetric per output channel (axis 0)."""
    flat = w.reshape(w.shape[0], -1).astype(np.float32)
    rmin = np.minimum(flat.min(axis=1), np.float32(0))
    rmax = np.maximum(flat.max(axis=1), np.float32(0))
    absmax = np.maximum(np.abs(rmin), np.abs(rmax)).astype(np.float64)
    scale = (2.0 * absmax / 254.0).astype(np.float32)
    scale = np.where(scale < np.finfo(np.float32).tiny, np.float32(1.0), scale).astype(np.float32)
    q = np.empty(w.shape, np.int8)
    for c in range(w.shape[0]):
        v = (w[c].astype(np.float32) / scale[c]).round()
        q[c] = np.clip(v, -127, 127).astype(np.int8)
    return q, scale


def build(src: str, table_path: str, dst: str) -> None:
    with open(table_path) as f:
        table = json.load(f)
    if sha256_file(src) != table["float_model_sha256"]:
        fail(f"{src} is not the float model the table was measured on (SHA-256 {table['float_model_sha256']})")
    model = onnx.load(src)
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    fold_pads(g, inits)

    acts = table["activations"]
    produced = {o for n in g.node for o in n.output} | {i.name for i in g.input}
    for name in acts:
        if name not in produced:
            fail(f"the table names activation '{name}', which the graph does not produce")
    new_inits = []
    qparams = {}
    for name, p in sorted(acts.items()):
        scale = f32(p["scale"])
        zp = int(p["zero_point"])
        if not (scale > 0 and np.isfinite(scale) and 0 <= zp <= 255):
            fail(f"bad quantisation parameters for '{name}': {p}")
        qparams[name] = scale
        new_inits.append(numpy_helper.from_array(np.array(scale, np.float32), f"{name}__scale"))
        new_inits.append(numpy_helper.from_array(np.array(zp, np.uint8), f"{name}__zp"))

    convs = {n.name: n for n in g.node if n.op_type == "Conv"}
    int8_convs = table["int8_convs"]
    for cname, wname in int8_convs.items():
        conv = convs.get(cname)
        if conv is None or conv.input[1] != wname or len(conv.input) < 3:
            fail(f"the table lists Conv '{cname}' with weight '{wname}', not found with a bias in the graph")
        if conv.input[0] not in qparams or conv.output[0] not in qparams:
            fail(f"Conv '{cname}': its input and output must both be quantised activations")

    new_nodes = []
    # Activations: Q -> DQ right after the producer (graph inputs first).
    def qdq(name):
        return [
            helper.make_node("QuantizeLinear", [name, f"{name}__scale", f"{name}__zp"], [f"{name}__q"], name=f"{name}__Q"),
            helper.make_node("DequantizeLinear", [f"{name}__q", f"{name}__scale", f"{name}__zp"], [f"{name}__dq"], name=f"{name}__DQ"),
        ]
    for i in g.input:
        if i.name in qparams:
            new_nodes.extend(qdq(i.name))
    for n in g.node:
        if n.op_type == "Conv" and n.name in int8_convs:
            w = inits[n.input[1]]
            b = inits[n.input[2]]
            q, wscale = quantize_weight(w)
            bscale = (qparams[n.input[0]] * wscale).astype(np.float32)
            qb = np.round(b.astype(np.float64) / bscale.astype(np.float64))
            if (np.abs(qb) > np.iinfo(np.int32).max).any():
                fail(f"Conv '{n.name}': bias overflows int32")
            wn, bn = n.input[1], n.input[2]
            new_inits += [
                numpy_helper.from_array(q, f"{wn}__q8"),
                numpy_helper.from_array(wscale, f"{wn}__scale"),
                numpy_helper.from_array(np.zeros(w.shape[0], np.int8), f"{wn}__zp"),
                numpy_helper.from_array(qb.astype(np.int32), f"{bn}__q32"),
                numpy_helper.from_array(bscale, f"{bn}__scale"),
                numpy_helper.from_array(np.zeros(b.shape[0], np.int32), f"{bn}__zp"),
            ]
            new_nodes.append(helper.make_node("DequantizeLinear", [f"{wn}__q8", f"{wn}__scale", f"{wn}__zp"], [f"{wn}__dq"], name=f"{wn}__DQ", axis=0))
            new_nodes.append(helper.make_node("DequantizeLinear", [f"{bn}__q32", f"{bn}__scale", f"{bn}__zp"], [f"{bn}__dq"], name=f"{bn}__DQ", axis=0))
            n.input[1] = f"{wn}__dq"
            n.input[2] = f"{bn}__dq"
        for k, i in enumerate(n.input):
            if i in qparams:
                n.input[k] = f"{i}__dq"
        new_nodes.append(n)
        for o in n.output:
            if o in qparams:
                new_nodes.extend(qdq(o))
    del g.node[:]
    g.node.extend(new_nodes)
    used = {i for n in g.node for i in n.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    onnx.checker.check_model(model)
    with open(dst, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))


# ---- calibrate (maintainers only; needs onnxruntime==1.31.1 and ffmpeg) -------------------

MEAN = np.array([103.53, 116.28, 123.675], np.float32)
STD = np.array([57.375, 57.12, 58.395], np.float32)
# Left in float: the MaxPool's -inf Pad and the MaxPool, the stem (the first five Convs,
# their activations and Concats, at 1/2 and 1/4 resolution: the largest error when
# quantised, ~15 % of the work) and the three output Convs (class scores, box bins).
EXCLUDE = ["n9", "n10", "n7", "n8", "n12", "n13", "n15", "n16", "n18", "n19", "n20", "n22", "n23", "n24",
           "n109", "n119", "n129"]


def letterbox(rgb: np.ndarray, iw: int = 416, ih: int = 416) -> np.ndarray:
    """vigie's letterbox (engine/detect/src/preprocess.rs): bilinear, half-pixel centres,
    centred, black padding, BGR, (x - mean) / std."""
    import math
    fh, fw = rgb.shape[:2]
    s = min(iw / fw, ih / fh)
    rnd = lambda x: int(math.floor(x + 0.5))
    cw, ch = min(max(rnd(fw * s), 1), iw), min(max(rnd(fh * s), 1), ih)
    ox, oy = (iw - cw) // 2, (ih - ch) // 2

    def axis(src, dst):
        sc = np.float32(src) / np.float32(dst)
        p = np.maximum((np.arange(dst, dtype=np.float32) + np.float32(0.5)) * sc - np.float32(0.5), np.float32(0))
        lo = np.minimum(np.floor(p).astype(np.int64), src - 1)
        return lo, np.minimum(lo + 1, src - 1), (p - lo.astype(np.float32)).astype(np.float32)

    xl, xh, wx = axis(fw, cw)
    yl, yh, wy = axis(fh, ch)
    one = np.float32(1)
    d = rgb.astype(np.float32)
    wx_, wy_ = wx[None, :, None], wy[:, None, None]
    top = d[yl][:, xl] * (one - wx_) + d[yl][:, xh] * wx_
    bot = d[yh][:, xl] * (one - wx_) + d[yh][:, xh] * wx_
    px = top * (one - wy_) + bot * wy_
    out = np.empty((3, ih, iw), np.float32)
    for c, src_c in enumerate([2, 1, 0]):
        mul, add = np.float32(1) / STD[c], -MEAN[c] / STD[c]
        out[c].fill(add)
        out[c, oy:oy + ch, ox:ox + cw] = px[:, :, src_c] * mul + add
    return out


def calibrate(src: str, video: str, dst: str) -> None:
    import os
    import subprocess
    import tempfile

    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", video], capture_output=True, text=True, check=True)
    w, h = map(int, probe.stdout.strip().split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", video, "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-sws_flags", "fast_bilinear", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    dims = onnx.load(src).graph.input[0].type.tensor_type.shape.dim
    ih, iw = dims[2].dim_value, dims[3].dim_value
    calib = [letterbox(f, iw, ih)[None] for f in frames[::8]]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calib)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {"input_1:0": x}

    with tempfile.TemporaryDirectory() as tmp:
        pre, q = os.path.join(tmp, "pre.onnx"), os.path.join(tmp, "q.onnx")
        quant_pre_process(src, pre, skip_symbolic_shape=True)
        quantize_static(pre, q, Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True, calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_exclude=EXCLUDE, op_types_to_quantize=["Conv", "LeakyRelu", "Concat", "Add", "Resize"])
        qm = onnx.load(q)
    inits = {t.name: numpy_helper.to_array(t) for t in qm.graph.initializer}
    acts = {}
    for n in qm.graph.node:
        if n.op_type == "QuantizeLinear":
            acts[n.input[0]] = {"scale": float(inits[n.input[1]]), "zero_point": int(inits[n.input[2]])}
    convs = {n.name: n.input[1] for n in onnx.load(src).graph.node if n.op_type == "Conv"}
    int8 = {}
    for n in qm.graph.node:
        if n.op_type == "Conv" and n.input[1] not in inits:  # weight behind a DequantizeLinear
            int8[n.name] = convs[n.name]
    table = {
        "model": os.path.basename(src)[: -len(".onnx")].replace("_", "-") + "-int8",
        "float_model": os.path.basename(src),
        "float_model_sha256": sha256_file(src),
        "calibration": {
            "footage": os.path.basename(video),
            "footage_sha256": sha256_file(video),
            "frames": f"every 8th frame from frame 0 ({len(calib)} frames), decoded with ffmpeg (rgb24, fast_bilinear), letterboxed to {iw} x {ih} as vigie does",
            "method": "onnxruntime.quantization 1.31.1 quantize_static: QDQ, MinMax, activations uint8 asymmetric, weights int8 symmetric per channel",
            "left_in_float": EXCLUDE,
        },
        "activations": dict(sorted(acts.items(), key=lambda kv: (len(kv[0]), kv[0]))),
        "int8_convs": dict(sorted(int8.items(), key=lambda kv: (len(kv[0]), kv[0]))),
    }
    # One entry per line: a small, reviewable diff when the table is measured again.
    lines = ["{"]
    for key in ("model", "float_model", "float_model_sha256", "calibration"):
        lines.append(f" {json.dumps(key)}: {json.dumps(table[key])},")
    for key in ("activations", "int8_convs"):
        items = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in table[key].items()]
        lines.append(f" {json.dumps(key)}: {{\n" + ",\n".join(items) + "\n }" + ("," if key == "activations" else ""))
    lines.append("}")
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "build":
        build(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "calibrate":
        calibrate(*sys.argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
