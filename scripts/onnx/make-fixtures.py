"""Makes the ONNX test fixtures (e2e/fixtures/onnx/<name>/): small PyTorch models exported to ONNX with
torch's own logits, CAM and Grad-CAM maps at their last block, for src/core/model/onnx/torch-parity.test.ts.

    /usr/bin/python3 scripts/onnx/make-fixtures.py        (Debian's python3-torch, python3-onnx)

Each fixture: model.onnx, metadata.json (preprocessing 'unit': the inputs are already what the model takes),
input.f32 (the input, NHWC float32, as the studio feeds it) and reference.json (logits, the label explained,
and the two maps, ReLU-ed and min-max normalised, row-major [h, w]). Seeds are fixed: the same files every time.
"""
import json
import os
import sys

import numpy as np
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


def main():
    with torch.no_grad():
        resnest = randomise(small_resnest(10), 1)
        resnext = randomise(TinyResNeXt(), 2)
        mobilenet = randomise(TinyMobileNet(), 3)
    export('small-resnest', resnest, 64, resnest.layers, 11, 13)
    export('tiny-resnext', resnext, 48, resnext.blocks, 12, 13)
    export('tiny-mobilenet', mobilenet, 48, mobilenet.last, 13, 17)


if __name__ == '__main__':
    main()
