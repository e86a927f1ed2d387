#!/usr/bin/env python3
"""Loads an ilgpu-vae model.safetensors into pytorch/examples' VAE and prints its test loss.

  python3 tools/pytorch/evaluate_in_pytorch.py runs/<run>/model.safetensors --data DIR
  python3 tools/pytorch/evaluate_in_pytorch.py model.safetensors --test-images FILE [--test-labels FILE]

The input size D and the image size H x W come from the checkpoint's metadata (input_size, image_height,
image_width; checkpoints without the image size hold 28 x 28 MNIST images), so any IDX data set the model
was trained on works; the test images must be H x W.

Uses the `safetensors` package when installed (what a PyTorch user would do); otherwise reads the
file with the standard library (the format is 8 bytes of header length, a JSON header, raw data).
Prints the test loss per image with one posterior sample (as `ilgpu-vae evaluate` and
pytorch/examples report it) and with z = mu (deterministic).
"""
import argparse, gzip, json, os, struct

import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    """pytorch/examples vae/main.py, with optional one-hot conditioning of the first layers."""

    def __init__(self, inputs=784, hidden=400, latent=20, classes=0):
        super().__init__()
        self.classes = classes
        self.fc1 = nn.Linear(inputs + classes, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent + classes, hidden)
        self.fc4 = nn.Linear(hidden, inputs)

    def forward(self, x, y=None, sample=True):
        if self.classes:
            x = torch.cat([x, y], 1)
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        if self.classes:
            z = torch.cat([z, y], 1)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def load_safetensors(path):
    try:
        from safetensors.torch import load_file
        return load_file(path), _metadata(path)
    except ImportError:
        pass
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        begin, end = info["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(info["shape"])
    return tensors, header.get("__metadata__", {})


def _metadata(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {})


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def find(directory, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    raise FileNotFoundError(os.path.join(directory, stem))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/ilgpu-vae/mnist"),
                    help="directory of IDX files named like MNIST's (e.g. ~/.cache/ilgpu-vae/fashion-mnist)")
    ap.add_argument("--test-images", help="IDX file of test images, for files not named like MNIST's")
    ap.add_argument("--test-labels", help="IDX file of their labels (a conditional model needs them)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    tensors, meta = load_safetensors(a.model)
    if meta.get("hidden", "400").count(","):
        raise SystemExit("only one hidden layer maps onto pytorch/examples' VAE")
    names = {"encoder.0": "fc1", "mu": "fc21", "logvar": "fc22", "decoder.0": "fc3", "out": "fc4"}
    state = {f"{names[k.rsplit('.', 1)[0]]}.{k.rsplit('.', 1)[1]}": v for k, v in tensors.items()}
    classes = int(meta.get("classes", "0"))
    inputs = int(meta.get("input_size", "784"))
    height, width = int(meta.get("image_height", "28")), int(meta.get("image_width", "28"))
    model = VAE(inputs, int(meta.get("hidden", "400")), int(meta.get("latent", "20")), classes)
    model.load_state_dict(state)
    model.eval()
    images = read_idx(a.test_images or find(a.data, "t10k-images-idx3-ubyte"))
    if tuple(images.shape[1:]) != (height, width):
        raise SystemExit(f"test images are {images.shape[1]}x{images.shape[2]}, the model takes {height}x{width}")
    x = images.reshape(-1, inputs).float() / 255
    y = None
    if classes:
        y = F.one_hot(read_idx(a.test_labels or find(a.data, "t10k-labels-idx1-ubyte")).long(), classes).float()
    torch.manual_seed(a.seed)
    with torch.no_grad():
        for sample in (True, False):
            total = 0.0
            for i in range(0, len(x), 1000):
                recon, mu, logvar = model(x[i:i + 1000], y[i:i + 1000] if classes else None, sample)
                total += (F.binary_cross_entropy(recon, x[i:i + 1000], reduction="sum")
                          - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()
            print(f"test loss per image ({'one posterior sample' if sample else 'z = mu'}): {total / len(x):.4f}")


if __name__ == "__main__":
    main()
