"""Exports the project's ResNet50 (the Keras ImageNet weights of models/resnet50-imagenet, rebuilt in PyTorch by
../shared/bench/keras_resnet50_torch.py) to ONNX, as a PyTorch user would export their own model:

    /usr/bin/python3 scripts/onnx/export-resnet50.py [MODEL_DIR] [OUT_DIR]
    (default: models/resnet50-imagenet -> models/resnet50-imagenet-onnx)

Writes OUT_DIR/model.onnx (opset 13, dynamic batch; F.pad, x.mean((2, 3)) and the stride-in-1x1 blocks as
torch exports them), metadata.json (Keras "caffe" preprocessing, the same labels) and labels.json. The ONNX
path and the TF.js path of the studio must give the same maps (src/core/model/onnx/resnet50-parity.test.ts).
"""
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
sys.path.insert(0, os.path.join(ROOT, '..', 'shared', 'bench'))
from keras_resnet50_torch import build  # noqa: E402

source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'models', 'resnet50-imagenet')
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, 'models', 'resnet50-imagenet-onnx')
os.makedirs(out, exist_ok=True)
model = build(source)
torch.onnx.export(model, torch.randn(1, 3, 224, 224), os.path.join(out, 'model.onnx'), opset_version=13,
                  input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
shutil.copyfile(os.path.join(source, 'labels.json'), os.path.join(out, 'labels.json'))
with open(os.path.join(out, 'metadata.json'), 'w') as f:
    json.dump({'name': 'ResNet50 (ImageNet, Keras weights via PyTorch -> ONNX)', 'preprocessing': 'caffe', 'resize': 'squash', 'labels': 'labels.json'}, f, indent=2)
print(json.dumps({'out': out, 'bytes': os.path.getsize(os.path.join(out, 'model.onnx'))}))
