"""Exports the model families the studio must run, as torchvision (and the ResNeSt reference code, rebuilt in
resnest.py) build them, with random weights, to ONNX, the way a PyTorch user does:

    /usr/bin/python3 scripts/onnx/export-zoo.py OUT_DIR [ARCH ...]     (npm run check:onnx-zoo runs it)
    /usr/bin/python3 scripts/onnx/export-zoo.py --time ARCH ...          (torch's forward times now, as JSON)

For each architecture, OUT_DIR/<arch>/: model.onnx (opset 13, dynamic batch), metadata.json (preprocessing
'unit': input.f32 is what the model takes), input.f32 (one 224x224 input, NHWC float32, as the studio feeds
it) and reference.json (torch's logits for it, torch's forward time on 2 threads, the operators of the
graph). Weights are seeded, batch-norm statistics randomised (so that folding them is checked); a model
already exported is kept.
"""
import collections
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from resnest import resnest50  # noqa: E402

ARCHITECTURES = {
    'resnet18': lambda: torchvision.models.resnet18(),
    'resnext50_32x4d': lambda: torchvision.models.resnext50_32x4d(),
    'wide_resnet50_2': lambda: torchvision.models.wide_resnet50_2(),
    'vgg11': lambda: torchvision.models.vgg11(),
    'densenet121': lambda: torchvision.models.densenet121(),
    'mobilenet_v2': lambda: torchvision.models.mobilenet_v2(),
    'mobilenet_v3_small': lambda: torchvision.models.mobilenet_v3_small(),
    'efficientnet_b0': lambda: torchvision.models.efficientnet_b0(),
    'resnest50': lambda: resnest50(),
}


def randomise(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.num_features, generator=generator) * 0.5 + 0.75)
                module.weight.data.copy_(torch.rand(module.num_features, generator=generator) * 0.5 + 0.75)
                module.bias.data.copy_(torch.randn(module.num_features, generator=generator) * 0.1)
    return model.eval()


def median_ms(run, repeat=3):
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


def export(out, arch):
    directory = os.path.join(out, arch)
    if os.path.exists(os.path.join(directory, 'reference.json')):
        print(f'{arch}: kept')
        return
    os.makedirs(directory, exist_ok=True)
    model = build(arch)
    x = torch.rand(1, 3, 224, 224)
    path = os.path.join(directory, 'model.onnx')
    torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    with torch.no_grad():
        logits = model(x)[0].numpy()
        forward_ms = median_ms(lambda: model(x))
    x.numpy().transpose(0, 2, 3, 1).astype(np.float32).tofile(os.path.join(directory, 'input.f32'))
    ops = collections.Counter(node.op_type for node in onnx.load(path, load_external_data=False).graph.node)
    with open(os.path.join(directory, 'metadata.json'), 'w') as f:
        json.dump({'name': f'{arch} (torchvision, random weights)', 'preprocessing': 'unit', 'resize': 'squash'}, f)
    with open(os.path.join(directory, 'reference.json'), 'w') as f:
        json.dump({'arch': arch, 'torch': torch.__version__, 'torchvision': torchvision.__version__, 'opset': 13,
                   'threads': torch.get_num_threads(), 'torchForwardMs': forward_ms, 'ops': dict(sorted(ops.items())),
                   'parameters': sum(p.numel() for p in model.parameters()), 'logits': [float(v) for v in logits]}, f)
    print(f'{arch}: {os.path.getsize(path) / 2 ** 20:.0f} MiB, torch forward {forward_ms:.0f} ms')


def build(arch):
    seed = 100 + list(ARCHITECTURES).index(arch)
    torch.manual_seed(seed)
    return randomise(ARCHITECTURES[arch](), seed)


def main():
    torch.set_num_threads(2)
    if sys.argv[1] == '--time':
        # Forward, and the input gradient of 3 labels (saliency: one batched backward pass, as
        # ../shared/bench/torch_baseline.py times it), of each architecture (random weights).
        times, gradients = {}, {}
        for arch in sys.argv[2:]:
            model, x = build(arch), torch.rand(1, 3, 224, 224)
            with torch.no_grad():
                times[arch] = median_ms(lambda: model(x))
                labels = torch.argsort(-model(x)[0])[:3]

            def input_gradient():
                xi = x.repeat(3, 1, 1, 1).requires_grad_(True)
                model(xi)[torch.arange(3), labels].sum().backward()
            gradients[arch] = median_ms(input_gradient)
        print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'forwardMs': times,
                          'inputGradient3LabelsMs': gradients}))
        return
    out = sys.argv[1]
    archs = sys.argv[2:] or list(ARCHITECTURES)
    for arch in archs:
        if arch not in ARCHITECTURES:
            raise SystemExit(f'unknown architecture {arch}: one of {", ".join(ARCHITECTURES)}')
        export(out, arch)


if __name__ == '__main__':
    main()
