#!/usr/bin/env python3
"""Load an ilgpu-vae CVAE checkpoint into the README's PyTorch CVAE and score it on the MNIST test set.

  python3 docs/cvae/load_in_pytorch.py runs/<cvae-run>/model.safetensors /path/to/mnist

Prints the test KL (deterministic: it depends only on the encoder, so it must match ilgpu-vae's to
rounding) and the test loss with one posterior sample per image (it matches to sampling noise, about
0.05 nats). Needs only torch: the safetensors file is read by hand.
"""
import gzip, json, os, struct, sys

import torch
import torch.nn.functional as F
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", {})
    body = data[8 + size:]
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        start, end = info["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32).reshape(info["shape"])
    return tensors, metadata


def read_idx(directory, stem):
    for name, opener in ((stem, open), (stem + ".gz", gzip.open)):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            ndim = data[3]
            dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
            return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)
    raise FileNotFoundError(os.path.join(directory, stem))


class CVAE(nn.Module):             # README.md, "Using the weights from PyTorch"
    def __init__(self, hidden=400, latent=10, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(784 + classes, hidden)
        self.fc21, self.fc22 = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent + classes, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def encode(self, x, onehot):
        h = F.relu(self.fc1(torch.cat([x, onehot], 1)))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z, onehot):
        return self.fc4(F.relu(self.fc3(torch.cat([z, onehot], 1))))


def main():
    tensors, metadata = read_safetensors(sys.argv[1])
    assert metadata["model"] == "cvae" and metadata.get("decoder_conditioning", "first-layer") == "first-layer", metadata
    hidden, latent, classes = int(metadata["hidden"]), int(metadata["latent"]), int(metadata["classes"])
    names = {"encoder.0": "fc1", "mu": "fc21", "logvar": "fc22", "decoder.0": "fc3", "out": "fc4"}
    state = {f"{names[k.rsplit('.', 1)[0]]}.{k.rsplit('.', 1)[1]}": v for k, v in tensors.items()}
    model = CVAE(hidden, latent, classes)
    model.load_state_dict(state)

    x = read_idx(sys.argv[2], "t10k-images-idx3-ubyte").reshape(-1, 784).float() / 255
    onehot = F.one_hot(read_idx(sys.argv[2], "t10k-labels-idx1-ubyte").long(), classes).float()
    torch.manual_seed(1)
    with torch.no_grad():
        mu, logvar = model.encode(x, onehot)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = F.binary_cross_entropy_with_logits(model.decode_logits(z, onehot), x, reduction="sum") / len(x)
    print(f"pytorch {torch.__version__}: test loss {recon + kl:.4f} (reconstruction {recon:.4f} + KL {kl:.4f}) per image")


if __name__ == "__main__":
    main()
