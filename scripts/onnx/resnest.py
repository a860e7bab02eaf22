"""ResNeSt (Zhang et al., "ResNeSt: Split-Attention Networks", CVPRW 2022) in PyTorch, as the authors'
reference code builds it (github.com/zhanghang1989/ResNeSt, resnest/torch/models/splat.py and resnet.py):
split attention with `radix` splits and `cardinality` groups (one grouped convolution, a radix softmax through
reshape/transpose), the deep stem, average-down shortcuts (ceil-mode average pooling with
count_include_pad=False) and avd (a 3x3 average pool for the stride). Written here from the paper and the
reference's structure so that test fixtures and the ONNX zoo check can build it without its weights.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class RSoftmax(nn.Module):
    """Softmax over the radix splits per cardinal group (sigmoid when radix is 1)."""

    def __init__(self, radix, cardinality):
        super().__init__()
        self.radix, self.cardinality = radix, cardinality

    def forward(self, x):
        batch = x.size(0)
        if self.radix > 1:
            x = x.view(batch, self.cardinality, self.radix, -1).transpose(1, 2)
            x = F.softmax(x, dim=1)
            return x.reshape(batch, -1)
        return torch.sigmoid(x)


class SplAtConv2d(nn.Module):
    """Split-attention convolution: one grouped conv (groups = cardinality * radix) -> splits -> attention."""

    def __init__(self, cin, channels, kernel_size, stride=1, padding=0, groups=1, radix=2, reduction_factor=4):
        super().__init__()
        inter = max(cin * radix // reduction_factor, 32)
        self.radix, self.cardinality, self.channels = radix, groups, channels
        self.conv = nn.Conv2d(cin, channels * radix, kernel_size, stride, padding, groups=groups * radix, bias=False)
        self.bn0 = nn.BatchNorm2d(channels * radix)
        self.fc1 = nn.Conv2d(channels, inter, 1, groups=groups)
        self.bn1 = nn.BatchNorm2d(inter)
        self.fc2 = nn.Conv2d(inter, channels * radix, 1, groups=groups)
        self.rsoftmax = RSoftmax(radix, groups)

    def forward(self, x):
        x = F.relu(self.bn0(self.conv(x)))
        batch, rchannel = x.shape[:2]
        if self.radix > 1:
            splits = torch.split(x, rchannel // self.radix, dim=1)
            gap = sum(splits)
        else:
            gap = x
        gap = F.adaptive_avg_pool2d(gap, 1)
        gap = F.relu(self.bn1(self.fc1(gap)))
        atten = self.rsoftmax(self.fc2(gap)).view(batch, -1, 1, 1)
        if self.radix > 1:
            attens = torch.split(atten, rchannel // self.radix, dim=1)
            return sum(a * s for a, s in zip(attens, splits))
        return atten * x


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None, radix=2, cardinality=1, bottleneck_width=64, avd=True):
        super().__init__()
        width = int(planes * (bottleneck_width / 64.0)) * cardinality
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.avd = avd and stride > 1
        self.avd_layer = nn.AvgPool2d(3, stride, padding=1) if self.avd else None
        self.conv2 = SplAtConv2d(width, width, 3, 1 if self.avd else stride, 1, groups=cardinality, radix=radix)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        if self.avd:
            out = self.avd_layer(out)
        out = self.conv2(out)
        out = self.bn3(self.conv3(out))
        residual = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + residual)


class ResNeSt(nn.Module):
    def __init__(self, layers=(3, 4, 6, 3), radix=2, cardinality=1, bottleneck_width=64, stem_width=32, num_classes=1000, base=64, avg_down=True):
        super().__init__()
        self.inplanes = stem_width * 2
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem_width, 3, 2, 1, bias=False), nn.BatchNorm2d(stem_width), nn.ReLU(),
            nn.Conv2d(stem_width, stem_width, 3, 1, 1, bias=False), nn.BatchNorm2d(stem_width), nn.ReLU(),
            nn.Conv2d(stem_width, stem_width * 2, 3, 1, 1, bias=False), nn.BatchNorm2d(stem_width * 2), nn.ReLU(),
        )
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        kw = dict(radix=radix, cardinality=cardinality, bottleneck_width=bottleneck_width)
        stages = []
        for i, blocks in enumerate(layers):
            stages.append(self._make_layer(base * 2 ** i, blocks, 1 if i == 0 else 2, avg_down, kw))
        self.layers = nn.Sequential(*stages)
        self.fc = nn.Linear(self.inplanes, num_classes)

    def _make_layer(self, planes, blocks, stride, avg_down, kw):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            down = []
            if avg_down:
                down.append(nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False) if stride != 1 else nn.AvgPool2d(1, 1, ceil_mode=True, count_include_pad=False))
                down.append(nn.Conv2d(self.inplanes, planes * 4, 1, 1, bias=False))
            else:
                down.append(nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False))
            down.append(nn.BatchNorm2d(planes * 4))
            downsample = nn.Sequential(*down)
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, **kw)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes, 1, None, **kw) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.stem(x))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def resnest50(**kw):
    return ResNeSt((3, 4, 6, 3), radix=2, cardinality=1, bottleneck_width=64, stem_width=32, **kw)


def small_resnest(num_classes=10):
    """A small ResNeSt for fixtures: radix 2, cardinality 2, avg-down, avd, two stages."""
    return ResNeSt((1, 1), radix=2, cardinality=2, bottleneck_width=32, stem_width=8, num_classes=num_classes, base=16)
