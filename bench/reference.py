"""The material's FashionMNIST training loop, kept for comparison only. Do not copy it.

This is the loop of the source material (lesson 03, sections 3 and 6): a
``DataLoader`` over the torchvision dataset decodes and converts every image with
``ToTensor()`` every epoch; every batch syncs with the host (``loss.item()`` and the
``.item()`` inside the material's ``accuracy_fn``); accuracy is averaged over
batches (source defect batch-mean-accuracy). Those costs and that metric are kept on purpose: they are
what the course's fast path is measured against. The only change from the material
is ``train_loss += loss.item()`` instead of ``train_loss += loss``, which kept every
batch's autograd graph alive (source defect loss-keeps-graphs).

So that the benchmark can also report an exact accuracy for this loop, ``test_step``
recovers each batch's correct count from its percentage (plain Python arithmetic,
no extra work on tensors).
"""

from __future__ import annotations

import torch
from torch import nn


def material_accuracy_fn(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """The material's accuracy: percentage correct in one batch (one host sync per call)."""
    correct = torch.eq(y_true, y_pred).sum().item()
    return (correct / len(y_pred)) * 100


def train_step(
    model: nn.Module,
    data_loader: torch.utils.data.DataLoader,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> dict[str, float]:
    """The material's ``train_step``: means over batches, two host syncs per batch."""
    train_loss, train_acc = 0.0, 0.0
    model.train()
    for X, y in data_loader:
        X, y = X.to(device), y.to(device)
        # 1. Forward pass
        y_pred = model(X)
        # 2. Loss and accuracy, per batch
        loss = loss_fn(y_pred, y)
        train_loss += loss.item()
        train_acc += material_accuracy_fn(y_true=y, y_pred=y_pred.argmax(dim=1))
        # 3. Zero grad
        optimizer.zero_grad()
        # 4. Backward
        loss.backward()
        # 5. Step
        optimizer.step()
    train_loss /= len(data_loader)
    train_acc /= len(data_loader)
    return {"loss": train_loss, "acc_batch_mean": train_acc}


def test_step(
    model: nn.Module,
    data_loader: torch.utils.data.DataLoader,
    loss_fn: nn.Module,
    device: torch.device,
) -> dict[str, float]:
    """The material's ``test_step`` (batch means), plus the exact accuracy recovered from them."""
    test_loss, test_acc = torch.zeros(()), 0.0
    correct, samples = 0, 0
    model.eval()
    with torch.inference_mode():
        for X, y in data_loader:
            X, y = X.to(device), y.to(device)
            test_pred = model(X)
            test_loss += loss_fn(test_pred, y)
            batch_acc = material_accuracy_fn(y_true=y, y_pred=test_pred.argmax(dim=1))
            test_acc += batch_acc
            correct += round(batch_acc * len(y) / 100)  # the batch's correct count, exactly
            samples += len(y)
        test_loss /= len(data_loader)
        test_acc /= len(data_loader)
    return {"loss": float(test_loss), "acc_batch_mean": test_acc, "acc": correct * 100 / samples}  # as the helpers do
