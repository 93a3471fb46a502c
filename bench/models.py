"""The three FashionMNIST models of lesson 03, as the material defines them.

Kept here so the benchmark does not depend on a notebook. ``FashionMNISTModelV1``
keeps the material's ReLU after its output layer (source defect relu-on-logits): the benchmark
measures the material's models as they are.
"""

from __future__ import annotations

import torch
from torch import nn


class FashionMNISTModelV0(nn.Module):
    """Linear baseline: Flatten -> Linear(784, 10) -> Linear(10, 10)."""

    def __init__(self, input_shape: int = 784, hidden_units: int = 10, output_shape: int = 10) -> None:
        super().__init__()
        self.layer_stack = nn.Sequential(
            nn.Flatten(),  # [N, 1, 28, 28] -> [N, 784]
            nn.Linear(input_shape, hidden_units),
            nn.Linear(hidden_units, output_shape),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_stack(x)


class FashionMNISTModelV1(nn.Module):
    """Flatten -> Linear -> ReLU -> Linear -> ReLU (the last ReLU is the material's source defect relu-on-logits)."""

    def __init__(self, input_shape: int = 784, hidden_units: int = 10, output_shape: int = 10) -> None:
        super().__init__()
        self.layer_stack = nn.Sequential(
            nn.Flatten(),
            nn.Linear(input_shape, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, output_shape),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_stack(x)


class FashionMNISTModelV2(nn.Module):
    """TinyVGG: two blocks of Conv-ReLU-Conv-ReLU-MaxPool, then Flatten -> Linear."""

    def __init__(self, input_shape: int = 1, hidden_units: int = 10, output_shape: int = 10) -> None:
        super().__init__()
        self.conv_block_1 = nn.Sequential(
            nn.Conv2d(input_shape, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),  # [N, h, 28, 28] -> [N, h, 14, 14]
        )
        self.conv_block_2 = nn.Sequential(
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # [N, h, 14, 14] -> [N, h, 7, 7]
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(hidden_units * 7 * 7, output_shape),  # 490 -> 10
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.conv_block_2(self.conv_block_1(x)))


# name -> (class, keyword arguments), in the order the lesson builds them
MODELS: dict[str, tuple[type[nn.Module], dict[str, int]]] = {
    "FashionMNISTModelV0": (FashionMNISTModelV0, {"input_shape": 784, "hidden_units": 10, "output_shape": 10}),
    "FashionMNISTModelV1": (FashionMNISTModelV1, {"input_shape": 784, "hidden_units": 10, "output_shape": 10}),
    "FashionMNISTModelV2": (FashionMNISTModelV2, {"input_shape": 1, "hidden_units": 10, "output_shape": 10}),
}
CONV_MODELS = {"FashionMNISTModelV2"}
