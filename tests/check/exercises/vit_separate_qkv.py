"""A correct ViT in another style: separate q/k/v Linears, unfold + Linear patches, a hand-written
LayerNorm, other attribute and keyword names (d_model, n_heads, ...)."""

import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(d))
        self.beta = nn.Parameter(torch.zeros(d))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, keepdim=True, unbiased=False)
        return self.gamma * (x - mean) / torch.sqrt(var + self.eps) + self.beta


class PatchEmbedding(nn.Module):
    def __init__(self, image_size, patch, channels, d_model):
        super().__init__()
        self.patch = patch
        self.to_tokens = nn.Linear(channels * patch * patch, d_model)

    def forward(self, img):
        patches = F.unfold(img, kernel_size=self.patch, stride=self.patch)  # (B, C*P*P, N)
        return self.to_tokens(patches.transpose(1, 2))


class Mlp(nn.Module):
    def __init__(self, d_model, mlp_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_model, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, d_model))

    def forward(self, x):
        return self.net(x)


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.h = n_heads
        self.out = nn.Linear(d_model, d_model)  # registered first on purpose
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)

    def split(self, t):
        B, N, C = t.shape
        return t.view(B, N, self.h, C // self.h).transpose(1, 2)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        w = torch.softmax(q @ k.transpose(-1, -2) / (C // self.h) ** 0.5, dim=-1)
        return self.out((w @ v).transpose(1, 2).reshape(B, N, C))


class TransformerBlock(nn.Module):
    def __init__(self, d_model, n_heads, mlp_dim):
        super().__init__()
        self.ln_a = LayerNorm(d_model)
        self.ln_b = LayerNorm(d_model)
        self.msa = MultiHeadAttention(d_model, n_heads)
        self.ffn = Mlp(d_model, mlp_dim)

    def forward(self, x):
        x = self.msa(self.ln_a(x)) + x
        return self.ffn(self.ln_b(x)) + x


class ViT(nn.Module):
    def __init__(self, image_size, patch, channels, n_classes, d_model, n_layers, n_heads, mlp_dim):
        super().__init__()
        n = (image_size // patch) ** 2
        self.embed = PatchEmbedding(image_size, patch, channels, d_model)
        self.positions = nn.Parameter(torch.randn(1, n + 1, d_model) * 0.02)
        self.class_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.ln_final = LayerNorm(d_model)  # registered before the layers on purpose
        self.layers = nn.Sequential(*[TransformerBlock(d_model, n_heads, mlp_dim) for _ in range(n_layers)])
        self.classifier = nn.Linear(d_model, n_classes)

    def forward(self, img):
        x = self.embed(img)
        x = torch.cat([self.class_token.expand(len(x), -1, -1), x], 1) + self.positions
        return self.classifier(self.ln_final(self.layers(x))[:, 0])
