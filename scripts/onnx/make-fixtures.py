"""Makes the ONNX test fixtures (e2e/fixtures/onnx/<name>/): small PyTorch models exported to ONNX with
torch's own logits, CAM and Grad-CAM maps at their last block, for src/core/model/onnx/torch-parity.test.ts.

    /usr/bin/python3 scripts/onnx/make-fixtures.py        (Debian's python3-torch, python3-onnx)

Also e2e/fixtures/onnx/bad/: models the studio must refuse with a message naming the cause (an
unsupported operator, opset 19, a vector input, two inputs), external/: weights in model.onnx.data beside
model.onnx, and fp16/: the tiny ResNeXt with float16 weights and float16 arithmetic between a Cast of its input and
a Cast of its logits (what onnxconverter-common's float16 conversion with keep_io_types makes).

Each fixture: model.onnx, metadata.json (preprocessing 'unit': the inputs are already what the model takes),
input.f32 (the input, NHWC float32, as the studio feeds it) and reference.json (logits, the label explained,
and the two maps, ReLU-ed and min-max normalised, row-major [h, w]). Seeds are fixed: the same files every time.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from resnest import small_resnest  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', 'e2e', 'fixtures', 'onnx')


class TinyResNeXt(nn.Module):
    """Two ResNeXt bottlenecks (grouped 3x3 convolutions, cardinality 4), BN folded by the export."""

    def __init__(self, classes=10, groups=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.blocks = nn.Sequential(self._block(16, 32, 1, groups), self._block(32, 64, 2, groups))
        self.fc = nn.Linear(64, classes)

    @staticmethod
    def _block(cin, cout, stride, groups):
        width = cout // 2
        body = nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )
        short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        return Residual(body, short)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Residual(nn.Module):
    def __init__(self, body, short):
        super().__init__()
        self.body, self.short = body, short

    def forward(self, x):
        return F.relu(self.body(x) + self.short(x))


class TinyMobileNet(nn.Module):
    """MobileNet v2/v3 blocks: depthwise convolutions (one with channel multiplier 2), ReLU6 (Clip),
    hard-swish, squeeze-excitation with hard-sigmoid, and an inverted residual."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(16, 32, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.pw = nn.Sequential(nn.Conv2d(32, 24, 1, bias=False), nn.BatchNorm2d(24))
        self.expand = nn.Sequential(nn.Conv2d(24, 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU6(),
                                    nn.Conv2d(48, 48, 3, 1, 1, groups=48, bias=False), nn.BatchNorm2d(48), nn.Hardswish())
        self.se1, self.se2 = nn.Conv2d(48, 12, 1), nn.Conv2d(12, 48, 1)
        self.project = nn.Sequential(nn.Conv2d(48, 24, 1, bias=False), nn.BatchNorm2d(24))
        self.last = nn.Sequential(nn.Conv2d(24, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.Hardswish())
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.pw(self.dw(self.stem(x)))
        y = self.expand(x)
        y = y * F.hardsigmoid(self.se2(F.relu(self.se1(F.adaptive_avg_pool2d(y, 1)))))
        x = x + self.project(y)
        x = self.last(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def randomise(model, seed):
    """Non-trivial BN statistics, so that folding them is checked too."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) * 0.5 + 0.75)
            module.weight.data.copy_(torch.rand(module.num_features, generator=generator) * 0.5 + 0.75)
            module.bias.data.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
    return model.eval()


def normalise(cam):
    cam = np.maximum(cam, 0)
    span = cam.max() - cam.min()
    return (cam - cam.min()) / span if span > 0 else np.zeros_like(cam)


def references(model, x, last):
    """Logits; CAM and Grad-CAM of the top class at `last` (the module whose output the GAP reads)."""
    captured = {}
    handle = last.register_forward_hook(lambda _m, _i, out: captured.__setitem__('a', out))
    x = x.clone().requires_grad_(False)
    logits = model(x)
    handle.remove()
    activations = captured['a']  # [1, K, h, w]
    label = int(logits[0].argmax())
    weights = model.fc.weight[label]  # [K]
    cam = torch.einsum('k,khw->hw', weights, activations[0]).detach().numpy()
    gradients = torch.autograd.grad(logits[0, label], activations)[0][0]  # [K, h, w]
    alpha = gradients.mean(dim=(1, 2))
    gradcam = torch.einsum('k,khw->hw', alpha, activations[0]).detach().numpy()
    return logits.detach().numpy()[0], label, normalise(cam), normalise(gradcam), list(activations.shape[2:])


def export(name, model, size, last, seed, opset):
    directory = os.path.join(ROOT, name)
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(seed)
    x = torch.rand(1, 3, size, size)
    path = os.path.join(directory, 'model.onnx')
    torch.onnx.export(model, x, path, opset_version=opset, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    logits, label, cam, gradcam, hw = references(model, x, last)
    x.numpy().transpose(0, 2, 3, 1).astype(np.float32).tofile(os.path.join(directory, 'input.f32'))
    with open(os.path.join(directory, 'metadata.json'), 'w') as f:
        json.dump({'name': f'{name} (test fixture)', 'preprocessing': 'unit', 'resize': 'squash'}, f)
    with open(os.path.join(directory, 'reference.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'opset': opset, 'size': size, 'label': label, 'mapShape': hw,
                   'logits': [float(v) for v in logits], 'cam': [float(v) for v in cam.ravel()],
                   'gradcam': [float(v) for v in gradcam.ravel()]}, f)
    print(f'{name}: {os.path.getsize(path)} bytes, label {label}, map {hw}')


def conv_classifier(name, inputs, opset, extra_nodes=(), extra_initializers=(), image='input'):
    """A 3x3 convolution (8 channels), ReLU, GlobalAveragePool, Flatten, Gemm to 4 classes, on `image`."""
    rng = np.random.default_rng(7)
    initializers = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), 'conv.weight'),
        numpy_helper.from_array(rng.standard_normal((4, 8)).astype(np.float32), 'fc.weight'),
        numpy_helper.from_array(np.zeros(4, np.float32), 'fc.bias'),
        *extra_initializers,
    ]
    nodes = [
        *extra_nodes,
        helper.make_node('Conv', [image, 'conv.weight'], ['conv'], name='/conv/Conv', pads=[1, 1, 1, 1]),
        helper.make_node('Relu', ['conv'], ['relu'], name='/relu/Relu'),
        helper.make_node('GlobalAveragePool', ['relu'], ['pool'], name='/pool/GlobalAveragePool'),
        helper.make_node('Flatten', ['pool'], ['flat'], name='/Flatten'),
        helper.make_node('Gemm', ['flat', 'fc.weight', 'fc.bias'], ['logits'], name='/fc/Gemm', transB=1),
    ]
    outputs = [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 4])]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)], producer_name='make-fixtures.py')


def image_input(name='input', size=16):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ['batch', 3, size, size])


def bad_models():
    """One .onnx per way a model can be refused (src/core/model/onnx/refusals.test.ts says what each must say)."""
    directory = os.path.join(ROOT, 'bad')
    os.makedirs(directory, exist_ok=True)
    grid = numpy_helper.from_array(np.zeros((1, 16, 16, 2), np.float32), 'stn.grid')
    models = {
        # F.grid_sample (spatial transformer networks): an operator the studio does not implement.
        'unsupported-op': conv_classifier('unsupported-op', [image_input()], 16, image='warped', extra_initializers=[grid],
                                          extra_nodes=[helper.make_node('GridSample', ['input', 'stn.grid'], ['warped'], name='/stn/GridSample')]),
        'opset-19': conv_classifier('opset-19', [image_input()], 19),
        'two-inputs': conv_classifier('two-inputs', [image_input('image'), image_input('mask')], 13, image='masked',
                                      extra_nodes=[helper.make_node('Mul', ['image', 'mask'], ['masked'], name='/Mul')]),
    }
    rng = np.random.default_rng(8)
    vector = helper.make_graph(
        [helper.make_node('Gemm', ['features', 'w'], ['logits'], name='/fc/Gemm', transB=1)], 'vector-input',
        [helper.make_tensor_value_info('features', TensorProto.FLOAT, ['batch', 8])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 4])],
        [numpy_helper.from_array(rng.standard_normal((4, 8)).astype(np.float32), 'w')])
    models['vector-input'] = helper.make_model(vector, opset_imports=[helper.make_opsetid('', 13)])
    for name, model in models.items():
        onnx.checker.check_model(model) if name != 'opset-19' or onnx.defs.onnx_opset_version() >= 19 else None
        onnx.save(model, os.path.join(directory, f'{name}.onnx'))
    # external/: weights in model.onnx.data beside model.onnx (given alone, the studio must ask for the data file).
    external = conv_classifier('external-data', [image_input()], 13)
    os.makedirs(os.path.join(ROOT, 'external'), exist_ok=True)
    onnx.save(external, os.path.join(ROOT, 'external', 'model.onnx'), save_as_external_data=True,
              all_tensors_to_one_file=True, location='model.onnx.data', size_threshold=0)
    with open(os.path.join(ROOT, 'external', 'metadata.json'), 'w') as f:
        json.dump({'name': 'external-data (test fixture)', 'preprocessing': 'unit', 'resize': 'squash'}, f)
    print(f'bad: {sorted(models)}; external')


def float16_model():
    """tiny-resnext with float16 weights: Cast(input -> float16), the graph in float16, Cast(logits -> float32).
    Its reference logits are the float32 model's (torch's): float16 arithmetic moves them by about 1e-3."""
    model = onnx.load(os.path.join(ROOT, 'tiny-resnext', 'model.onnx'))
    graph = model.graph
    for initializer in graph.initializer:
        if initializer.data_type == TensorProto.FLOAT:
            initializer.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(initializer).astype(np.float16), initializer.name))
    for node in graph.node:
        if node.op_type == 'Constant' and node.attribute[0].t.data_type == TensorProto.FLOAT:
            node.attribute[0].t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(node.attribute[0].t).astype(np.float16)))
    del graph.value_info[:]
    image, logits = graph.input[0].name, graph.output[0].name
    for node in graph.node:
        node.input[:] = [f'{image}_fp16' if name == image else name for name in node.input]
        node.output[:] = [f'{logits}_fp16' if name == logits else name for name in node.output]
    graph.node.insert(0, helper.make_node('Cast', [image], [f'{image}_fp16'], name='/input/Cast', to=TensorProto.FLOAT16))
    graph.node.append(helper.make_node('Cast', [f'{logits}_fp16'], [logits], name='/logits/Cast', to=TensorProto.FLOAT))
    onnx.checker.check_model(model)
    directory = os.path.join(ROOT, 'fp16')
    os.makedirs(directory, exist_ok=True)
    onnx.save(model, os.path.join(directory, 'model.onnx'))
    for file in ('metadata.json', 'input.f32', 'reference.json'):
        with open(os.path.join(ROOT, 'tiny-resnext', file), 'rb') as source, open(os.path.join(directory, file), 'wb') as target:
            target.write(source.read())
    print(f'fp16: {os.path.getsize(os.path.join(directory, "model.onnx"))} bytes')


def main():
    with torch.no_grad():
        torch.manual_seed(1)
        resnest = randomise(small_resnest(10), 1)
        torch.manual_seed(2)
        resnext = randomise(TinyResNeXt(), 2)
        torch.manual_seed(3)
        mobilenet = randomise(TinyMobileNet(), 3)
    export('small-resnest', resnest, 64, resnest.layers, 11, 13)
    export('tiny-resnext', resnext, 48, resnext.blocks, 12, 13)
    export('tiny-mobilenet', mobilenet, 48, mobilenet.last, 13, 17)
    bad_models()
    float16_model()


if __name__ == '__main__':
    main()
