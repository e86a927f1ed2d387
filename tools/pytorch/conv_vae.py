#!/usr/bin/env python3
"""Loads an ilgpu-vae convolutional model.safetensors into the same PyTorch module and prints its test loss.

  python3 tools/pytorch/conv_vae.py runs/<run>/model.safetensors --data DIR

The module is built from the checkpoint's metadata alone (channels, dense widths, latent size, classes,
image size; kernel 4, stride 2, padding 1) and loads the weights by name with strict=True, so a name or a
shape that differs fails loudly. Prints the test loss per image with one posterior sample (as
`ilgpu-vae evaluate` reports it, up to the noise) and with z = mu (deterministic).
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_in_pytorch import find, load_safetensors, read_idx  # noqa: E402


class ConvVAE(nn.Module):
    """x (B, 1, H, W) -> Conv2d 4/2/1 + ReLU per channel width -> flatten (+ one-hot) -> Linear + ReLU ->
    mu, logvar -> z (+ one-hot) -> Linear + ReLU ... back to the convolutions' output -> unflatten ->
    ConvTranspose2d 4/2/1 + ReLU ..., the last to the image's C channels without activation -> logits (B, C, H, W)
    (C = image_channels: 1 grey, 3 colour; the input is (B, C, H, W) too).
    With classes > 0 and every_layer, every decoder dense layer reads the one-hot too."""

    def __init__(self, channels=(32, 64), dense=(400,), latent=20, classes=0, height=28, width=28, every_layer=False,
                 image_channels=1):
        super().__init__()
        self.classes, self.every_layer = classes, every_layer
        self.encoder_conv = nn.ModuleList()
        c, h, w = image_channels, height, width
        for out in channels:
            self.encoder_conv.append(nn.Conv2d(c, out, 4, 2, 1))
            c, h, w = out, h // 2, w // 2
        self.shape = (c, h, w)
        features = c * h * w
        self.encoder_dense = nn.ModuleList()
        size = features + classes
        for width_ in dense:
            self.encoder_dense.append(nn.Linear(size, width_))
            size = width_
        self.mu = nn.Linear(size, latent)
        self.logvar = nn.Linear(size, latent)
        self.decoder_dense = nn.ModuleList()
        size = latent
        for i, width_ in enumerate(list(reversed(dense)) + [features]):
            reads_label = classes > 0 and (i == 0 or every_layer)
            self.decoder_dense.append(nn.Linear(size + (classes if reads_label else 0), width_))
            size = width_
        self.decoder_conv = nn.ModuleList()
        widths = list(channels)
        for i in range(len(widths) - 1, -1, -1):
            self.decoder_conv.append(nn.ConvTranspose2d(widths[i], widths[i - 1] if i > 0 else image_channels, 4, 2, 1))

    def encode(self, x, y=None):
        h = x
        for conv in self.encoder_conv:
            h = F.relu(conv(h))
        h = h.flatten(1)
        if self.classes:
            h = torch.cat([h, y], 1)
        for layer in self.encoder_dense:
            h = F.relu(layer(h))
        return self.mu(h), self.logvar(h)

    def decode(self, z, y=None):
        h = z
        for i, layer in enumerate(self.decoder_dense):
            if self.classes and (i == 0 or self.every_layer):
                h = torch.cat([h, y], 1)
            h = F.relu(layer(h))
        h = h.reshape(-1, *self.shape)
        for i, conv in enumerate(self.decoder_conv):
            h = conv(h)
            if i < len(self.decoder_conv) - 1:
                h = F.relu(h)
        return h

    def forward(self, x, y=None, sample=True):
        mu, logvar = self.encode(x, y)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return self.decode(z, y), mu, logvar


def from_metadata(meta):
    if meta.get("architecture") != "conv":
        raise SystemExit("not a convolutional ilgpu-vae checkpoint (use evaluate_in_pytorch.py for the MLP)")
    if (meta.get("conv_kernel"), meta.get("conv_stride"), meta.get("conv_padding")) != ("4", "2", "1"):
        raise SystemExit("only kernel 4, stride 2, padding 1 convolutions are built")
    ints = lambda key: [int(v) for v in meta[key].split(",") if v]
    return ConvVAE(ints("channels"), ints("hidden"), int(meta["latent"]), int(meta.get("classes", "0")),
                   int(meta["image_height"]), int(meta["image_width"]),
                   meta.get("decoder_conditioning") == "every-layer",
                   int(meta.get("image_channels", "1")))  # absent: grey, as ilgpu-vae writes it


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/ilgpu-vae/mnist"))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    tensors, meta = load_safetensors(a.model)
    model = from_metadata(meta)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters loaded by name")
    height, width = int(meta["image_height"]), int(meta["image_width"])
    if meta.get("image_channels", "1") != "1":
        raise SystemExit("a colour model: this check reads grey IDX test images; build the model with from_metadata and feed it (B, C, H, W)")
    x = read_idx(find(a.data, "t10k-images-idx3-ubyte")).reshape(-1, 1, height, width).float() / 255
    y = F.one_hot(read_idx(find(a.data, "t10k-labels-idx1-ubyte")).long(), 10).float()
    classes = model.classes
    torch.manual_seed(a.seed)
    with torch.no_grad():
        for sample in (True, False):
            total = 0.0
            for i in range(0, len(x), 1000):
                xb = x[i:i + 1000]
                logits, mu, logvar = model(xb, y[i:i + 1000, :classes] if classes else None, sample)
                total += (F.binary_cross_entropy_with_logits(logits, xb, reduction="sum")
                          - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()
            print(f"test loss per image ({'one posterior sample' if sample else 'z = mu'}): {total / len(x):.4f}")


if __name__ == "__main__":
    main()
