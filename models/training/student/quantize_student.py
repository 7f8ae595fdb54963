"""INT8 student: QDQ format (as models/training/quantize.py writes for the phone model), built with the
`onnx` package. Per-channel symmetric 7-bit weights (int8 in [-63, 63]: on x86 CPUs without VNNI
onnxruntime's uint8 x int8 kernel saturates beyond 7 bits, so the scores would depend on the CPU; see
models/training/quantize.py), uint8 activations, int32 biases; the final Gemm's
output stays float. models/training/quantize.py itself does not apply (it looks for the phone
model's front end and calibrates on its audio through onnxruntime); here the activation ranges come
from the torch student on training windows: the exported graph is the torch network with BatchNorm
folded, so its Relu outputs are the torch ReLUs' outputs, in the same order.

  quantize_student.py STUDENT.pt STUDENT.onnx DATA OUT.int8.onnx [--windows 4000]
  quantize_student.py --ranges-from OLD.int8.onnx - STUDENT.onnx - OUT.int8.onnx
      (re-quantise the weights of a shipped student with the activation ranges it already has)
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from train_student import DEFAULT_INIT, Data, Student  # noqa: E402
from quantize import WEIGHT_MAX, qparams  # noqa: E402  (the phone model's weight range and uint8 activation parameters)


def ranges(ckpt, data_dir, n_windows):
    """(lo, hi) of the network input and of every ReLU output, in order, on training windows."""
    model = Student()
    model.load_state_dict(torch.load(ckpt))
    model.eval()
    data = Data(data_dir, DEFAULT_INIT)
    rng = np.random.default_rng(7)
    clip, k = data.runs(rng, n_windows // 16)
    x, _, _ = data.windows(clip, k)
    acts = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: acts.append(o.detach())) for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    q = lambda t: float(torch.quantile(t.flatten()[::max(1, t.numel() // 2_000_000)], 0.9999))  # noqa: E731
    return (float(x.min()), float(x.max())), [(0.0, q(a)) for a in acts]


def build(fp32, out, input_range, relu_ranges):
    m = onnx.load(fp32)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    # torch's exporter shares equal folded constants through Identity nodes: read through them.
    alias = {n.output[0]: n.input[0] for n in g.node if n.op_type == 'Identity' and n.input[0] in inits}
    for o, i in alias.items():
        inits[o] = inits[i]
    nodes = [n for n in g.node if not (n.op_type == 'Identity' and n.output[0] in alias)]
    relus = [n for n in nodes if n.op_type == 'Relu']
    assert len(relus) == len(relu_ranges), (len(relus), len(relu_ranges))
    reshape = next(n for n in nodes if n.op_type == 'Reshape')
    act = {reshape.output[0]: input_range}
    for n, r in zip(relus, relu_ranges):
        act[n.output[0]] = r
    new_nodes, new_inits = [], []
    qdq_name = {}
    for n in nodes:
        if n.op_type in ('Conv', 'Gemm'):
            x, w = n.input[0], n.input[1]
            # the activation feeding this op, through a Flatten if there is one
            src = x
            prod = next((p for p in nodes if x in p.output), None)
            if prod is not None and prod.op_type == 'Flatten':
                src = prod.input[0]
            s, zp = qparams(*act[src])
            if x not in qdq_name:
                sn, zn = f'{x}_scale', f'{x}_zp'
                new_inits += [numpy_helper.from_array(np.array(s, np.float32), sn), numpy_helper.from_array(np.array(zp, np.uint8), zn)]
                new_nodes += [helper.make_node('QuantizeLinear', [x, sn, zn], [f'{x}_q']), helper.make_node('DequantizeLinear', [f'{x}_q', sn, zn], [f'{x}_dq'])]
                qdq_name[x] = (f'{x}_dq', s)
            xdq, xs = qdq_name[x]
            W = numpy_helper.to_array(inits[w]).astype(np.float32)
            axis = 0
            red = tuple(range(1, W.ndim))  # per output channel (Conv [out, ...], Gemm transB [out, in])
            ws = np.maximum(np.abs(W).max(axis=red), 1e-8) / WEIGHT_MAX
            wq = np.clip(np.round(W / ws.reshape((-1,) + (1,) * (W.ndim - 1))), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)
            new_inits += [numpy_helper.from_array(wq, f'{w}_q'), numpy_helper.from_array(ws.astype(np.float32), f'{w}_scale'),
                          numpy_helper.from_array(np.zeros(len(ws), np.int8), f'{w}_zp')]
            new_nodes.append(helper.make_node('DequantizeLinear', [f'{w}_q', f'{w}_scale', f'{w}_zp'], [f'{w}_dq'], axis=axis))
            inputs = [xdq, f'{w}_dq']
            if len(n.input) > 2:
                b = numpy_helper.to_array(inits[n.input[2]]).astype(np.float32)
                bs = (xs * ws).astype(np.float32)
                bq = np.round(b / bs).astype(np.int32)
                bn = n.input[2]
                new_inits += [numpy_helper.from_array(bq, f'{bn}_q'), numpy_helper.from_array(bs, f'{bn}_scale'), numpy_helper.from_array(np.zeros(len(bs), np.int32), f'{bn}_zp')]
                new_nodes.append(helper.make_node('DequantizeLinear', [f'{bn}_q', f'{bn}_scale', f'{bn}_zp'], [f'{bn}_dq'], axis=0))
                inputs.append(f'{bn}_dq')
            n2 = helper.make_node(n.op_type, inputs, list(n.output), name=n.name)
            n2.attribute.extend(n.attribute)
            new_nodes.append(n2)
        else:
            new_nodes.append(n)
    used = {i for n in new_nodes for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    onnx.checker.check_model(m)
    onnx.save(m, out)
    print(f'wrote {out}: {sum(1 for n in new_nodes if n.op_type == "QuantizeLinear")} activations quantised, {os.path.getsize(out)} bytes')


def ranges_from(int8, fp32):
    """The (input, ReLU) ranges `build` was given for `int8`, read back from its activation scales and
    zero points: qparams() of (-zp x scale, (255 - zp) x scale) gives the same parameters again."""
    q = {i.name: numpy_helper.to_array(i) for i in onnx.load(int8).graph.initializer}
    g = onnx.load(fp32).graph
    inits = {i.name for i in g.initializer}
    alias = {n.output[0] for n in g.node if n.op_type == 'Identity' and n.input[0] in inits}
    nodes = [n for n in g.node if not (n.op_type == 'Identity' and n.output[0] in alias)]
    act = {}
    for n in nodes:
        if n.op_type in ('Conv', 'Gemm'):
            x = n.input[0]
            prod = next((p for p in nodes if x in p.output), None)
            src = prod.input[0] if prod is not None and prod.op_type == 'Flatten' else x
            s, zp = float(q[f'{x}_scale']), float(q[f'{x}_zp'])
            act[src] = (-zp * s, (255 - zp) * s)
    reshape = next(n for n in nodes if n.op_type == 'Reshape')
    return act[reshape.output[0]], [act.get(n.output[0], (0.0, 1.0)) for n in nodes if n.op_type == 'Relu']


def main():
    if sys.argv[1] == '--ranges-from':
        old, _, fp32, _, out = sys.argv[2:7]
        build(fp32, out, *ranges_from(old, fp32))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument('ckpt')
    ap.add_argument('fp32')
    ap.add_argument('data')
    ap.add_argument('out')
    ap.add_argument('--windows', type=int, default=4000)
    a = ap.parse_args()
    torch.set_num_threads(1)
    inp, rel = ranges(a.ckpt, a.data, a.windows)
    print('input range', inp, 'relu maxima', [round(r[1], 2) for r in rel])
    build(a.fp32, a.out, inp, rel)


if __name__ == '__main__':
    main()
