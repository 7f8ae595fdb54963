"""INT8 post-training quantisation written with the `onnx` package (there is no onnxruntime for
Python here): QDQ format, per-channel symmetric 7-bit weights (int8 in [-63, 63]), uint8 activations
calibrated on held-out audio, int32 biases; the log-mel front end and the final softmax stay in float.

Why 7 bits: onnxruntime runs these convolutions as uint8 x int8. On x86 CPUs without VNNI (AVX2, and
AVX-512 before VNNI) its kernel adds pairs of products in int16 (VPMADDUBSW), which saturates when
both weights of a pair are large: 2 x 255 x 127 > 32767. Outputs then differ from those of a VNNI
CPU or an ARM one (Pi 4, Jetson), which add exactly: the same audio scored 0.682 on one machine and
0.665 on another (issue 21). With |weight| <= 63, 2 x 255 x 63 < 32767, so every CPU computes the same
integers. This is onnxruntime's documented "reduce range" for U8S8 on AVX2.

  quantize.py prepare FP32.onnx WORKDIR     # calibration graph + held-out audio (a streaming graph:
                                            # FP32.json beside it names its caches)
  node calibrate.mjs WORKDIR                # activation ranges, run in onnxruntime-node
  quantize.py build FP32.onnx WORKDIR OUT.int8.onnx
  quantize.py ranges INT8.onnx WORKDIR      # instead of prepare + calibrate: the activation ranges of
                                            # an existing QDQ model (re-quantising a shipped model)
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from common import WORK

# Largest |weight| of the quantised weights: 7 bits (see the module doc).
WEIGHT_MAX = 63


def network_nodes(g):
    """Nodes after the front end and normalisation, up to (not including) the output conv."""
    nodes = list(g.node)
    start = next(i for i, n in enumerate(nodes) if n.op_type == 'Mul' and not n.name.startswith('/frontend'))
    convs = [i for i, n in enumerate(nodes) if n.op_type == 'Conv']
    last_conv = convs[-1]
    return nodes, start, last_conv


def float_activations(g):
    """Activation tensors of the network body: produced by compute ops from the normalised features
    (not shape arithmetic, and not the streaming graph's frame-index path from `start`/`end`)."""
    nodes, start, last_conv = network_nodes(g)
    inits = {i.name for i in g.initializer}
    compute_ops = {'Conv', 'Relu', 'Add', 'Pad', 'Mul', 'Concat'}
    active = set(nodes[start].output)
    names = []
    for n in nodes[start:last_conv]:
        if n.op_type == 'Shape' or not any(i in active for i in n.input):
            continue
        active.update(n.output)
        if n.op_type in compute_ops:
            names.extend(o for o in n.output if o not in inits)
    return [nodes[start].output[0]] + names


def prepare(fp32, workdir):
    os.makedirs(workdir, exist_ok=True)
    m = onnx.load(fp32)
    names = float_activations(m.graph)
    for n in names:
        m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, None))
    onnx.save(m, os.path.join(workdir, 'calib.onnx'))
    json.dump(names, open(os.path.join(workdir, 'calib_tensors.json'), 'w'))
    # A streaming graph is calibrated as it runs: in chunks, its caches fed back (calibrate.mjs).
    spec = fp32[:-len('.onnx')] + '.json'
    stream_spec = os.path.join(workdir, 'stream.json')
    if os.path.exists(spec):
        with open(spec) as src, open(stream_spec, 'w') as dst:
            dst.write(src.read())
    elif os.path.exists(stream_spec):
        os.remove(stream_spec)
    # Held-out audio: the held-out TTS voice and held-out real speakers (never trained on).
    from augment import load_wav
    paths = []
    for split in ('val_tts', 'val_real'):
        idx = json.load(open(os.path.join(WORK, 'feats', split + '.json')))
        paths += [u['path'] for u in idx[:24]]
    audio = [load_wav(p) for p in paths]
    np.concatenate(audio).astype('<f4').tofile(os.path.join(workdir, 'calib_audio.f32'))
    json.dump([len(a) for a in audio], open(os.path.join(workdir, 'calib_lengths.json'), 'w'))
    print(f'calibration: {len(names)} tensors, {len(audio)} utterances')


def qparams(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max(hi - lo, 1e-8) / 255.0
    zp = int(round(-lo / scale))
    return np.float32(scale), np.uint8(min(255, max(0, zp)))


def build(fp32, workdir, out):
    m = onnx.load(fp32)
    g = m.graph
    ranges = json.load(open(os.path.join(workdir, 'calib_ranges.json')))
    inits = {i.name: i for i in g.initializer}
    nodes, start, last_conv = network_nodes(g)
    new_inits, new_nodes = [], []
    act_scale = {}
    # 1. Activations: X -> QuantizeLinear -> DequantizeLinear -> consumers.
    rename = {}
    for name, (lo, hi) in ranges.items():
        s, zp = qparams(lo, hi)
        act_scale[name] = float(s)
        sn, zn = name + '_scale', name + '_zp'
        new_inits += [numpy_helper.from_array(np.array(s, np.float32), sn), numpy_helper.from_array(np.array(zp, np.uint8), zn)]
        new_nodes.append((name, [helper.make_node('QuantizeLinear', [name, sn, zn], [name + '_q'], name=name + '_Q'),
                                 helper.make_node('DequantizeLinear', [name + '_q', sn, zn], [name + '_dq'], name=name + '_DQ')]))
        rename[name] = name + '_dq'
    for n in g.node:
        for i, inp in enumerate(n.input):
            if inp in rename and not n.name.endswith('_Q'):
                n.input[i] = rename[inp]
    # 2. Conv weights (per-channel int8) and biases (int32) in the network, the output conv included.
    for idx in range(start, last_conv + 1):
        n = nodes[idx]
        if n.op_type != 'Conv':
            continue
        w_name = n.input[1]
        w = numpy_helper.to_array(inits[w_name]).astype(np.float32)
        w_scale = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(1), 1e-8) / WEIGHT_MAX
        wq = np.clip(np.round(w / w_scale[:, None, None]), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)
        base = w_name.replace('.', '_')
        new_inits += [numpy_helper.from_array(wq, base + '_int8'), numpy_helper.from_array(w_scale.astype(np.float32), base + '_wscale'),
                      numpy_helper.from_array(np.zeros(w.shape[0], np.int8), base + '_wzp')]
        dq_nodes = [helper.make_node('DequantizeLinear', [base + '_int8', base + '_wscale', base + '_wzp'], [base + '_deq'],
                                     name=base + '_wDQ', axis=0)]
        n.input[1] = base + '_deq'
        x_in = n.input[0].replace('_dq', '')
        if len(n.input) > 2 and x_in in act_scale:
            b_name = n.input[2]
            b = numpy_helper.to_array(inits[b_name]).astype(np.float32)
            b_scale = (act_scale[x_in] * w_scale).astype(np.float32)
            bq = np.round(b / b_scale).astype(np.int32)
            bb = b_name.replace('.', '_')
            new_inits += [numpy_helper.from_array(bq, bb + '_int32'), numpy_helper.from_array(b_scale, bb + '_bscale'),
                          numpy_helper.from_array(np.zeros(len(b), np.int32), bb + '_bzp')]
            dq_nodes.append(helper.make_node('DequantizeLinear', [bb + '_int32', bb + '_bscale', bb + '_bzp'], [bb + '_deq'],
                                             name=bb + '_bDQ', axis=0))
            n.input[2] = bb + '_deq'
        new_nodes.append((None, dq_nodes))
    # Insert Q/DQ nodes right after their producers (keeps the graph topologically sorted).
    ordered = []
    pending = {name: qd for name, qd in new_nodes if name}
    weight_dq = [q for name, qd in new_nodes if name is None for q in qd]
    ordered.extend(weight_dq)
    for n in g.node:
        ordered.append(n)
        for o in n.output:
            if o in pending:
                ordered.extend(pending.pop(o))
    del g.node[:]
    g.node.extend(ordered)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    onnx.checker.check_model(m)
    onnx.save(m, out)
    print(f'wrote {out}: {os.path.getsize(out)} bytes ({os.path.getsize(fp32)} fp32)')


def ranges_of(int8, workdir):
    """calib_ranges.json from the activation Q/DQ pairs of a model `build` wrote: qparams() of
    (-zp x scale, (255 - zp) x scale) gives back the same scale and zero point."""
    os.makedirs(workdir, exist_ok=True)
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(int8).graph.initializer}
    ranges = {}
    for name, s in inits.items():
        if name.endswith('_scale') and name[:-len('_scale')] + '_zp' in inits:
            base, zp = name[:-len('_scale')], float(inits[name[:-len('_scale')] + '_zp'])
            ranges[base] = [-zp * float(s), (255 - zp) * float(s)]
    json.dump(ranges, open(os.path.join(workdir, 'calib_ranges.json'), 'w'))
    print(f'{len(ranges)} activation ranges from {int8}')


if __name__ == '__main__':
    if sys.argv[1] == 'prepare':
        prepare(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'ranges':
        ranges_of(sys.argv[2], sys.argv[3])
    else:
        build(sys.argv[2], sys.argv[3], sys.argv[4])
