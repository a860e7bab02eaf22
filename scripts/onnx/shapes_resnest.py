"""The shapes ResNeSt (src/train/shapes-model.ts, buildShapesResNeSt) in PyTorch, with its weights moved to and
from the TF.js layers files, for training it in torch and exporting it to ONNX.

Why torch trains it: TF.js's trainer (src/train/train.ts, wasm, one thread) needs 1.58 s per step for this
network (30-step run, tf.profile: many small kernels around the split attention), 9000 steps about 4 hours;
torch on one thread needs 0.17 s. `npm run train:shapes -- --arch resnest` therefore generates the scenes
and the initial weights in Node as for the ResNets, runs `train` below (same data order, schedule, loss and
penalty as train.ts), then loads the trained weights into the TF.js model, scores it with the project's own
code and saves it; `export` writes the ONNX file from the saved TF.js files.

Layouts: TF.js Conv2D kernels [kh, kw, in / groups, out] <-> torch [out, in / groups, kh, kw]; Dense kernels
[in, out] <-> the 1x1 convolutions / Linear [out, in(, 1, 1)]; BatchNormalization gamma, beta, moving_mean,
moving_variance <-> weight, bias, running_mean, running_var (epsilon 1e-3, TF momentum 0.95 = torch 0.05).

  python3 scripts/onnx/shapes_resnest.py train DATA_DIR MODEL_DIR OUT_WEIGHTS   (config.json in DATA_DIR)
  python3 scripts/onnx/shapes_resnest.py export MODEL_DIR OUT.onnx [CHECK.json]
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ShapesResNeSt(nn.Module):
    """Same function as buildShapesResNeSt; modules named as the TF.js layers."""

    def __init__(self, widths=(16, 32, 64), blocks_per_stage=1, stem_stride=2, radix=2, num_classes=8):
        super().__init__()
        self.radix = radix
        self.m = nn.ModuleDict()
        bn = lambda c: nn.BatchNorm2d(c, eps=1e-3, momentum=0.05)
        self.m['stem_conv'] = nn.Conv2d(3, widths[0], 3, stem_stride, 1, bias=False)
        self.m['stem_bn'] = bn(widths[0])
        self.plan = []
        channels = widths[0]
        for stage, width in enumerate(widths):
            for block in range(blocks_per_stage):
                stride = 2 if stage > 0 and block == 0 else 1
                p = f'stage{stage + 1}_block{block + 1}'
                inter = max(radix * width // 4, 32)
                self.m[f'{p}_conv1'] = nn.Conv2d(channels, width, 1, bias=False)
                self.m[f'{p}_bn1'] = bn(width)
                self.m[f'{p}_splat_conv'] = nn.Conv2d(width, radix * width, 3, 1, 1, groups=radix, bias=False)
                self.m[f'{p}_splat_bn0'] = bn(radix * width)
                self.m[f'{p}_splat_fc1'] = nn.Conv2d(width, inter, 1)
                self.m[f'{p}_splat_bn1'] = bn(inter)
                self.m[f'{p}_splat_fc2'] = nn.Conv2d(inter, radix * width, 1)
                self.m[f'{p}_conv3'] = nn.Conv2d(width, width, 1, bias=False)
                self.m[f'{p}_bn3'] = bn(width)
                projected = stride != 1 or channels != width
                if projected:
                    self.m[f'{p}_proj'] = nn.Conv2d(channels, width, 1, bias=False)
                    self.m[f'{p}_proj_bn'] = bn(width)
                self.plan.append((p, stride, projected, width))
                channels = width
        self.m['predictions'] = nn.Linear(channels, num_classes)

    def forward(self, x, probabilities=False):
        m, r = self.m, self.radix
        x = F.relu(m['stem_bn'](m['stem_conv'](x)))
        for p, stride, projected, width in self.plan:
            y = F.relu(m[f'{p}_bn1'](m[f'{p}_conv1'](x)))
            if stride != 1:
                y = F.avg_pool2d(y, 3, stride, 1)  # avd; pads counted, as ZeroPadding2D + AveragePooling2D
            u = F.relu(m[f'{p}_splat_bn0'](m[f'{p}_splat_conv'](y)))
            splits = torch.split(u, width, dim=1)
            s = F.adaptive_avg_pool2d(sum(splits), 1)
            a = m[f'{p}_splat_fc2'](F.relu(m[f'{p}_splat_bn1'](m[f'{p}_splat_fc1'](s))))
            batch = a.shape[0]
            a = F.softmax(a.view(batch, 1, r, -1).transpose(1, 2), dim=1).reshape(batch, -1, 1, 1)  # rSoftmax, cardinality 1
            y = sum(w * u_r for w, u_r in zip(torch.split(a, width, dim=1), splits))
            y = m[f'{p}_bn3'](m[f'{p}_conv3'](y))
            shortcut = x
            if projected:
                if stride != 1:
                    shortcut = F.avg_pool2d(shortcut, stride, stride, ceil_mode=True, count_include_pad=False)  # avg-down
                shortcut = m[f'{p}_proj_bn'](m[f'{p}_proj'](shortcut))
            x = F.relu(y + shortcut)
        logits = m['predictions'](torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
        return torch.sigmoid(logits) if probabilities else logits


BN_FIELDS = {'gamma': 'weight', 'beta': 'bias', 'moving_mean': 'running_mean', 'moving_variance': 'running_var'}


def _target(model, name):
    """The torch tensor of a TF.js weight name ('layer/field') and the function that maps TF.js -> torch layout."""
    layer, field = name.split('/', 1)
    module = model.m[layer]
    if isinstance(module, nn.BatchNorm2d):
        return getattr(module, BN_FIELDS[field]), lambda a: a
    if field == 'bias':
        return module.bias, lambda a: a
    if isinstance(module, nn.Linear):
        return module.weight, lambda a: a.T
    if module.kernel_size == (1, 1) and layer.endswith(('_fc1', '_fc2')):
        return module.weight, lambda a: a.T[:, :, None, None]
    return module.weight, lambda a: a.transpose(3, 2, 0, 1)


def read_manifest(model_dir):
    with open(os.path.join(model_dir, 'model.json')) as f:
        model_json = json.load(f)
    specs = [w for group in model_json['weightsManifest'] for w in group['weights']]
    return model_json, specs


def load_tfjs(model, model_dir, weights_file=None):
    """Copies the weights of TF.js layers files (or of a weights file in the same order) into `model`."""
    model_json, specs = read_manifest(model_dir)
    if weights_file is None:
        group = model_json['weightsManifest'][0]
        data = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
    else:
        data = open(weights_file, 'rb').read()
    offset = 0
    with torch.no_grad():
        for spec in specs:
            size = int(np.prod(spec['shape'])) if spec['shape'] else 1
            values = np.frombuffer(data, dtype=np.float32, count=size, offset=offset).reshape(spec["shape"]).copy()
            offset += 4 * size
            tensor, layout = _target(model, spec['name'])
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(layout(values))))
    if offset != len(data):
        raise ValueError(f'{len(data) - offset} bytes of weights left over')


def save_tfjs_weights(model, model_dir, out_file):
    """Writes the model's weights in the TF.js manifest's order and layouts (float32, one file)."""
    _, specs = read_manifest(model_dir)
    chunks = []
    for spec in specs:
        tensor, layout = _target(model, spec['name'])
        t = tensor.detach().numpy()
        # Inverse layouts: TF.js = inverse(torch).
        if isinstance(model.m[spec['name'].split('/')[0]], nn.BatchNorm2d) or spec['name'].endswith('/bias'):
            arr = t
        elif spec['name'].startswith('predictions/'):
            arr = t.T
        elif spec['name'].split('/')[0].endswith(('_fc1', '_fc2')):
            arr = t[:, :, 0, 0].T
        else:
            arr = t.transpose(2, 3, 1, 0)
        if list(arr.shape) != list(spec['shape']):
            raise ValueError(f"{spec['name']}: {arr.shape} vs {spec['shape']}")
        chunks.append(np.ascontiguousarray(arr, dtype=np.float32).tobytes())
    with open(out_file, 'wb') as f:
        f.write(b''.join(chunks))


def build(config):
    model = config['model']
    return ShapesResNeSt(tuple(model['widths']), model['blocksPerStage'], model['stemStride'], model['radix'], model['numClasses'])


def learning_rate_at(step, c):
    """train.ts's learningRateAt: linear warm-up, then cosine to finalLearningRateFraction."""
    lr, warm, total, frac = c['learningRate'], c['warmupSteps'], c['maxSteps'], c['finalLearningRateFraction']
    if step < warm:
        return lr * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    floor = lr * frac
    return floor + 0.5 * (lr - floor) * (1 + math.cos(math.pi * progress))


def log(line):
    print(json.dumps(line), flush=True)


def train(data_dir, model_dir, out_file):
    """train.ts's loop in torch: Adam (0.9, 0.999, 1e-7), BCE on the logits, L2 penalty weightDecay / 2 on every
    kernel (convolutions, the attention's dense layers, the head), batch statistics, the epoch order given by
    Node (order.i32: one permutation per epoch)."""
    torch.set_num_threads(int(os.environ.get('SHAPES_TORCH_THREADS', '1')))
    torch.manual_seed(0)
    with open(os.path.join(data_dir, 'config.json')) as f:
        c = json.load(f)
    size, count = c['model']['inputSize'], c['trainScenes']
    images = np.fromfile(os.path.join(data_dir, 'train.u8'), dtype=np.uint8).reshape(count, size, size, 3)
    labels = np.fromfile(os.path.join(data_dir, 'train.labels.f32'), dtype=np.float32).reshape(count, -1)
    orders = np.fromfile(os.path.join(data_dir, 'order.i32'), dtype=np.int32).reshape(-1, count)
    model = build(c)
    load_tfjs(model, model_dir)
    model.train()
    decayed = [p for n, p in model.named_parameters() if n.endswith('weight') and p.dim() > 1]
    optimizer = torch.optim.Adam(model.parameters(), lr=c['learningRate'], betas=(0.9, 0.999), eps=1e-7)
    batch, per_epoch = c['batchSize'], count // c['batchSize']
    started, loss_sum, loss_count = time.time(), 0.0, 0
    for step in range(c['maxSteps']):
        epoch, within = divmod(step, per_epoch)
        index = orders[epoch % len(orders), within * batch:(within + 1) * batch]
        x = torch.from_numpy(images[index]).permute(0, 3, 1, 2).float() / 255
        y = torch.from_numpy(labels[index])
        for group in optimizer.param_groups:
            group['lr'] = learning_rate_at(step, c)
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        if c['weightDecay'] > 0:
            loss = loss + c['weightDecay'] / 2 * sum((p * p).sum() for p in decayed)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum, loss_count = loss_sum + loss.item(), loss_count + 1
        if (step + 1) % c['logEvery'] == 0:
            log({'event': 'step', 'step': step + 1, 'epoch': epoch, 'loss': round(loss_sum / loss_count, 4),
                 'lr': learning_rate_at(step, c), 'seconds': round(time.time() - started, 1)})
            loss_sum, loss_count = 0.0, 0
    seconds = time.time() - started
    save_tfjs_weights(model, model_dir, out_file)
    log({'event': 'trained', 'steps': c['maxSteps'], 'seconds': round(seconds, 1),
         'meanStepMs': round(1000 * seconds / max(1, c['maxSteps']), 1), 'threads': torch.get_num_threads(), 'torch': torch.__version__})


def export(model_dir, out_file, check_file=None):
    """ONNX (opset 13, dynamic batch) of the saved TF.js model; with CHECK.json ({input: [N, S, S, 3], probabilities}),
    the largest difference of torch's probabilities to TF.js's is printed and must be under 1e-4."""
    with open(os.path.join(model_dir, 'metadata.json')) as f:
        metadata = json.load(f)
    model = build({'model': metadata['training']['config']['model']})
    load_tfjs(model, model_dir)
    model.eval()

    class Probabilities(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x, probabilities=True)

    wrapped = Probabilities(model).eval()
    size = metadata['training']['config']['model']['inputSize']
    torch.onnx.export(wrapped, torch.rand(1, 3, size, size), out_file, opset_version=13, input_names=['input'],
                      output_names=['probabilities'], dynamic_axes={'input': {0: 'batch'}, 'probabilities': {0: 'batch'}})
    result = {'event': 'exported', 'file': out_file, 'bytes': os.path.getsize(out_file)}
    if check_file is not None:
        with open(check_file) as f:
            check = json.load(f)
        x = torch.tensor(check['input'], dtype=torch.float32).permute(0, 3, 1, 2)
        with torch.no_grad():
            ours = wrapped(x).numpy()
        diff = float(np.abs(ours - np.array(check['probabilities'], dtype=np.float32)).max())
        result['maxDifferenceToTfjs'] = diff
        if diff > 1e-4:
            log(result)
            raise SystemExit(f'torch and TF.js differ by {diff}')
    log(result)


if __name__ == '__main__':
    command, *rest = sys.argv[1:]
    {'train': train, 'export': export}[command](*rest)
