"""Models for the RegLens PyTorch examples: ordinary torch.nn.Module subclasses, nothing
RegLens-specific. mnist-resnet.reglens.json trains ResidualCNN through model.pytorch."""
from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """conv -> BN -> ReLU -> conv -> BN, plus the input (He et al. 2016's basic block)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(y)))


class ResidualCNN(nn.Module):
    """A small ResNet-style classifier for 28x28 digits: a strided stem, one residual block,
    global pooling, a hidden Linear layer (fc1) and the classifier (fc)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.block = ResidualBlock(width)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc1 = nn.Linear(width * 4, hidden)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.block(self.stem(x))).flatten(1)
        return self.fc(torch.relu(self.fc1(h)))


class ResidualMLP(nn.Module):
    """An MLP with one residual block, for flat inputs (moons, CSV, modular one-hots)."""

    def __init__(self, input_size: int, num_classes: int, hidden: int = 128) -> None:
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden)
        self.res = nn.Linear(hidden, hidden)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc1(x))
        h = torch.relu(h + self.res(h))
        return self.fc(h)
