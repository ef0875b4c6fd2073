#!/usr/bin/env python3
"""Rewrite an ONNX model into a canonical, byte-stable form.

Why: tf2onnx does not produce the same bytes from run to run for the same TFJS model (it
numbers its generated nodes and folded constants from global counters, so names such as
`pad_const__45` / `pad_const__91` change), while the computation is identical. vigie pins
the SHA-256 of the exact bytes it loads, so the converted model is normalised here:

- every node is renamed `n<index>` in graph order; every intermediate tensor `t<index>` in
  order of first production; every initializer `w<index>` in order of first use (graph
  inputs and outputs keep their names: the manifest refers to them);
- initializers are stored in that order, node attributes sorted by name;
- symbolic dimensions renamed `d<index>`; producer name/version, model/graph/node doc strings, value_info and metadata cleared;
  the graph is named after the model id given on the command line;
- serialised with protobuf's deterministic mode.

- nodes are put in a canonical topological order (tf2onnx writes independent branches in
  an order that varies from run to run), see `canonical_order`.

If some other variation ever slipped through, the pinned hash would fail loudly in
tools/fetch-models, never silently.

usage: normalize_onnx.py INPUT.onnx OUTPUT.onnx GRAPH_NAME
"""
import hashlib
import heapq
import sys

import onnx


def canonical_order(g: onnx.GraphProto) -> list:
    """Nodes in a topological order that does not depend on tf2onnx's names.

    Each node gets a structural digest (op, attributes, and the digests of what feeds it:
    graph inputs by name, initializers by content, other nodes by digest and output
    index). Kahn's algorithm then always emits the ready node with the smallest digest, so
    independent branches come out in the same order whatever order tf2onnx wrote them in.
    """
    producer = {}
    for idx, node in enumerate(g.node):
        for k, out in enumerate(node.output):
            producer[out] = (idx, k)
    init_digest = {}
    for t in g.initializer:
        c = onnx.TensorProto()
        c.CopyFrom(t)
        c.name = ""
        c.doc_string = ""
        init_digest[t.name] = hashlib.sha256(c.SerializeToString(deterministic=True)).hexdigest()
    graph_inputs = {i.name for i in g.input}
    digest = {}

    def node_digest(idx: int) -> str:
        if idx in digest:
            return digest[idx]
        node = g.node[idx]
        h = hashlib.sha256()
        h.update(node.op_type.encode() + b"|" + node.domain.encode() + b"|")
        for a in sorted(node.attribute, key=lambda a: a.name):
            c = onnx.AttributeProto()
            c.CopyFrom(a)
            c.doc_string = ""
            h.update(c.SerializeToString(deterministic=True) + b"|")
        for name in node.input:
            if name == "":
                h.update(b"<none>|")
            elif name in graph_inputs:
                h.update(b"in:" + name.encode() + b"|")
            elif name in init_digest:
                h.update(b"w:" + init_digest[name].encode() + b"|")
            elif name in producer:
                p, k = producer[name]
                h.update(b"n:" + node_digest(p).encode() + b":" + str(k).encode() + b"|")
            else:
                raise SystemExit(f"normalize_onnx: input '{name}' is produced by no node, initializer or graph input")
        digest[idx] = h.hexdigest()
        return digest[idx]

    sys.setrecursionlimit(max(10000, 4 * len(g.node)))
    preds = []
    succs = [[] for _ in g.node]
    for idx, node in enumerate(g.node):
        ps = {producer[n][0] for n in node.input if n in producer}
        preds.append(len(ps))
        for p in ps:
            succs[p].append(idx)
    ready = [(node_digest(i), i) for i, n in enumerate(preds) if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, idx = heapq.heappop(ready)
        order.append(idx)
        for s in succs[idx]:
            preds[s] -= 1
            if preds[s] == 0:
                heapq.heappush(ready, (node_digest(s), s))
    if len(order) != len(g.node):
        raise SystemExit("normalize_onnx: the graph has a cycle")
    return [g.node[i] for i in order]


def normalize(model: onnx.ModelProto, graph_name: str) -> onnx.ModelProto:
    g = model.graph
    if any(n.op_type in ("If", "Loop", "Scan") for n in g.node):
        raise SystemExit("normalize_onnx: sub-graphs (If/Loop/Scan) are not supported")
    ordered = canonical_order(g)
    del g.node[:]
    g.node.extend(ordered)

    keep = {i.name for i in g.input} | {o.name for o in g.output}
    inits = {i.name: i for i in g.initializer}
    rename = {name: name for name in keep}
    rename[""] = ""  # optional inputs
    w_count = 0
    t_count = 0
    init_order = []
    for node in g.node:
        for name in node.input:
            if name in rename:
                continue
            if name in inits:
                rename[name] = f"w{w_count}"
                w_count += 1
                init_order.append(name)
            else:
                raise SystemExit(f"normalize_onnx: input '{name}' is produced by no node, initializer or graph input")
        for name in node.output:
            if name not in rename:
                rename[name] = f"t{t_count}"
                t_count += 1

    new_nodes = []
    for idx, node in enumerate(g.node):
        n = onnx.NodeProto()
        n.CopyFrom(node)
        n.name = f"n{idx}"
        n.doc_string = ""
        del n.input[:]
        n.input.extend(rename[x] for x in node.input)
        del n.output[:]
        n.output.extend(rename[x] for x in node.output)
        attrs = sorted(node.attribute, key=lambda a: a.name)
        del n.attribute[:]
        for a in attrs:
            a2 = n.attribute.add()
            a2.CopyFrom(a)
            a2.doc_string = ""
        new_nodes.append(n)

    new_inits = []
    for old in init_order:
        t = onnx.TensorProto()
        t.CopyFrom(inits[old])
        t.name = rename[old]
        t.doc_string = ""
        new_inits.append(t)

    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(new_inits)  # unused initializers are dropped
    del g.value_info[:]
    # Symbolic dimensions (tf2onnx: `unk__571`, numbered from a global counter) become
    # `d0`, `d1`... in order of appearance.
    dim_names = {}
    for vi in list(g.input) + list(g.output):
        vi.doc_string = ""
        for dim in vi.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = dim_names.setdefault(dim.dim_param, f"d{len(dim_names)}")
    g.name = graph_name
    g.doc_string = ""
    model.producer_name = ""
    model.producer_version = ""
    model.domain = ""
    model.model_version = 0
    model.doc_string = ""
    del model.metadata_props[:]
    onnx.checker.check_model(model)
    return model


def main() -> None:
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    src, dst, graph_name = sys.argv[1:]
    model = normalize(onnx.load(src), graph_name)
    with open(dst, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))


if __name__ == "__main__":
    main()
