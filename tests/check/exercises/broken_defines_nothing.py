"""Imports fine but defines none of the modules to check."""

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)


def helper(x):
    return torch.relu(x)
