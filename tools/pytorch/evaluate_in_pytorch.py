#!/usr/bin/env python3
"""Loads an ilgpu-vae model.safetensors into PyTorch and prints its test loss, or its importance-weighted test NLL.

  python3 tools/pytorch/evaluate_in_pytorch.py runs/<run>/model.safetensors --data DIR
  python3 tools/pytorch/evaluate_in_pytorch.py model.safetensors --test-images FILE [--test-labels FILE]
  python3 tools/pytorch/evaluate_in_pytorch.py runs/burda-iwae5/model.safetensors --data DIR --iw-samples 5000

The input size D and the image size H x W come from the checkpoint's metadata (input_size, image_height,
image_width; checkpoints without the image size hold 28 x 28 MNIST images), so any IDX data set the model
was trained on works; the test images must be H x W. A one-hidden-layer ReLU model loads into
pytorch/examples' VAE; deeper or tanh models (hidden "200,200", activation tanh: `train --preset burda`) into
an MLP VAE built from the metadata under our own tensor names; a model of two stochastic layers (metadata
"latent2" and "hidden2": `train --preset burda2`) into TwoLayerVae, by the same names (encoder2.i, mu2, logvar2,
decoder2.i, prior_mu, prior_logvar besides the one-layer model's).

Uses the `safetensors` package when installed (what a PyTorch user would do); otherwise reads the
file with the standard library (the format is 8 bytes of header length, a JSON header, raw data).
Prints the test loss per image with one posterior sample (as `ilgpu-vae evaluate` and
pytorch/examples report it) and with z = mu (deterministic).

--iw-samples K prints instead the importance-weighted estimate of the test NLL, -log (1/K sum_k p(x, z_k) /
q(z_k|x)) with K posterior samples per image averaged over the test images: `ilgpu-vae evaluate --iw-samples K`'s
number (docs/theory.md section 11; Burda et al.'s Table 1 uses K = 5000), up to the Monte Carlo noise of other
samples. A model whose metadata says "binarization": "dynamic" is evaluated, as ilgpu-vae does, on the test set
binarised once by seed 2016 (ImageSet.TestBinarizationSeed), reproduced here bit for bit from the same
SplitMix64 stream; --binarize forces it for any model. --limit N uses the first N test images (their
binarisation is the same as in the whole set: pixel i takes number i of the stream).
"""
import argparse, gzip, hashlib, json, math, os, struct

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


class MlpVae(nn.Module):
    """An unconditional dense VAE of any depth under ilgpu-vae's own names: encoder.i, mu, logvar, decoder.i, out."""

    def __init__(self, inputs, hidden, latent, activation):
        super().__init__()
        self.act = torch.tanh if activation == "tanh" else F.relu
        widths = [inputs] + hidden
        self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.mu = nn.Linear(widths[-1], latent)
        self.logvar = nn.Linear(widths[-1], latent)
        back = [latent] + hidden[::-1]
        self.decoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(back, back[1:]))
        self.out = nn.Linear(back[-1], inputs)

    def encode(self, x):
        for layer in self.encoder:
            x = self.act(layer(x))
        return self.mu(x), self.logvar(x)

    def decode_logits(self, z):
        for layer in self.decoder:
            z = self.act(layer(z))
        return self.out(z)

    def forward(self, x, y=None, sample=True):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return torch.sigmoid(self.decode_logits(z)), mu, logvar

    def log_weights(self, x, n, generator):
        """n log weights per row of x, (n, B): a_k = log p(x|z_k) + log N(z_k; 0, I) - log N(z_k; mu, sigma),
        z_k = mu + sigma eps_k; the log 2 pi terms cancel, leaving a_k = -BCE_k + 1/2 sum_j (logvar_j + eps_j^2 - z_j^2)."""
        mu, logvar = self.encode(x)
        eps = torch.randn((n,) + mu.shape, generator=generator)
        z = mu + torch.exp(0.5 * logvar) * eps                      # (n, B, Z)
        logits = self.decode_logits(z)                              # (n, B, D)
        bce = F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        return -bce + 0.5 * (logvar + eps * eps - z * z).sum(-1)


def log_normal(z, mu, logvar):
    """log N(z; mu, exp(logvar)), summed over the last axis, with its log 2 pi terms."""
    return (-0.5 * math.log(2 * math.pi) - 0.5 * logvar - 0.5 * (z - mu) ** 2 * torch.exp(-logvar)).sum(-1)


class TwoLayerVae(MlpVae):
    """Burda et al.'s (2016) two stochastic layers (`train --preset burda2`) under ilgpu-vae's names: q(z1|x) is
    encoder.i, mu, logvar and p(x|z1) decoder.i, out, as in MlpVae; q(z2|z1) encoder2.i, mu2, logvar2; p(z1|z2)
    decoder2.i, prior_mu, prior_logvar; p(z2) = N(0, I). The metadata's hidden2 and latent2 give the second layer's sizes."""

    def __init__(self, inputs, hidden, latent, hidden2, latent2, activation):
        super().__init__(inputs, hidden, latent, activation)
        up = [latent] + hidden2
        self.encoder2 = nn.ModuleList(nn.Linear(a, b) for a, b in zip(up, up[1:]))
        self.mu2 = nn.Linear(up[-1], latent2)
        self.logvar2 = nn.Linear(up[-1], latent2)
        down = [latent2] + hidden2[::-1]
        self.decoder2 = nn.ModuleList(nn.Linear(a, b) for a, b in zip(down, down[1:]))
        self.prior_mu = nn.Linear(down[-1], latent)
        self.prior_logvar = nn.Linear(down[-1], latent)

    def _mlp(self, layers, x):
        for layer in layers:
            x = self.act(layer(x))
        return x

    def log_weights(self, x, n, generator):
        """n log weights per row of x, (n, B): log p(x|z1) + log p(z1|z2) + log N(z2; 0, I) - log q(z1|x) - log q(z2|z1)
        with z1 ~ q(z1|x) and z2 ~ q(z2|z1), one z2 per z1."""
        mu1, logvar1 = self.encode(x)
        z1 = mu1 + torch.exp(0.5 * logvar1) * torch.randn((n,) + mu1.shape, generator=generator)   # (n, B, Z1)
        u = self._mlp(self.encoder2, z1)
        mu2, logvar2 = self.mu2(u), self.logvar2(u)
        z2 = mu2 + torch.exp(0.5 * logvar2) * torch.randn(mu2.shape, generator=generator)        # (n, B, Z2)
        v = self._mlp(self.decoder2, z2)
        prior_mu, prior_logvar = self.prior_mu(v), self.prior_logvar(v)
        logits = self.decode_logits(z1)                                                            # (n, B, D)
        bce = F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        zero = torch.zeros_like(z2)
        return (-bce + log_normal(z1, prior_mu, prior_logvar) + log_normal(z2, zero, zero)
                - log_normal(z1, mu1, logvar1) - log_normal(z2, mu2, logvar2))


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


TEST_BINARIZATION_SEED = 2016  # ImageSet.TestBinarizationSeed
# SHA-256 of MNIST's 10,000 test images binarised so (bytes 0/255, as ImageSet.Binarized writes them); the test
# Binarized_MnistTestSet_IsTheOnePyTorchReproduces checks ilgpu-vae's against the same digest.
BINARIZED_MNIST_TEST_SHA256 = "621335a7d3be5d827218fe313e90beb1cf23d6ece845ef9e4f8236610ee949f9"
MASK = (1 << 64) - 1


def _mix(z):
    """RandomKernels.Mix, the SplitMix64 finaliser, on uint64 numpy arrays (or Python ints)."""
    import numpy as np
    if isinstance(z, int):
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & MASK
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & MASK
        return z ^ (z >> 31)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def binarize(images, seed=TEST_BINARIZATION_SEED):
    """ImageSet.Binarized: pixel i of the set (row-major over all images) is 1 when the stream's uniform number i,
    a 24-bit count times 2^-24, is below float32(byte) * float32(1/255), else 0. Returns a uint8 tensor of 0/1."""
    import numpy as np
    key = _mix((_mix(seed ^ 0x2545F4914F6CDD1D) + 0x9E3779B97F4A7C15 * 1) & MASK)  # StreamKey(seed, 0)
    pixels = images.reshape(-1).numpy()
    out = np.empty(pixels.shape, dtype=np.uint8)
    with np.errstate(over="ignore"):
        for start in range(0, len(pixels), 1 << 20):  # in chunks: uint64 temporaries of 8 MB
            i = np.arange(start, min(start + (1 << 20), len(pixels)), dtype=np.uint64)
            u = (_mix(np.uint64(key) ^ (i * np.uint64(0x9FB21C651E98DF25) + np.uint64(0xC2B2AE3D27D4EB4F))) >> np.uint64(40))
            uniform = u.astype(np.float32) * np.float32(1 / 16777216)
            out[start:start + len(i)] = uniform < pixels[start:start + len(i)].astype(np.float32) * np.float32(1 / 255)
    return torch.from_numpy(out).reshape(images.shape)


def importance_weighted_nll(model, x, samples, seed, images_per_batch=100, samples_per_chunk=500):
    """Mean over the rows of x of -log (1/K sum_k exp(a_k)), a_k the model's log weights (MlpVae.log_weights,
    TwoLayerVae.log_weights)."""
    generator = torch.Generator().manual_seed(seed)
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x), images_per_batch):
            batch = x[i:i + images_per_batch]
            log_weights = []
            for k in range(0, samples, samples_per_chunk):
                log_weights.append(model.log_weights(batch, min(samples_per_chunk, samples - k), generator))
            a = torch.cat(log_weights)                                  # (K, B)
            total += (math.log(samples) - torch.logsumexp(a.double(), 0)).sum().item()
    return total / len(x)


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
    ap.add_argument("--iw-samples", type=int, default=0,
                    help="K: print the importance-weighted test NLL with K posterior samples per image instead")
    ap.add_argument("--binarize", action="store_true",
                    help="evaluate on the test set binarised by seed 2016 (the default for models trained with --binarize)")
    ap.add_argument("--limit", type=int, help="use the first N test images")
    a = ap.parse_args()
    tensors, meta = load_safetensors(a.model)
    classes = int(meta.get("classes", "0"))
    inputs = int(meta.get("input_size", "784"))
    height, width = int(meta.get("image_height", "28")), int(meta.get("image_width", "28"))
    hidden = [int(h) for h in meta.get("hidden", "400").split(",")]
    activation = meta.get("activation", "relu")
    if meta.get("architecture") == "conv":
        raise SystemExit("a convolutional model: see tools/pytorch/conv_vae.py")
    if meta.get("image_channels", "1") != "1":
        raise SystemExit("a colour model (image_channels 3, inputs C x H x W): this script reads grey IDX test images")
    two_layers = "latent2" in meta
    if two_layers:
        hidden2 = [int(h) for h in meta.get("hidden2", "").split(",") if h]
        model = TwoLayerVae(inputs, hidden, int(meta["latent"]), hidden2, int(meta["latent2"]), activation)
        state = tensors
    elif len(hidden) == 1 and activation == "relu" and not a.iw_samples:
        names = {"encoder.0": "fc1", "mu": "fc21", "logvar": "fc22", "decoder.0": "fc3", "out": "fc4"}
        state = {f"{names[k.rsplit('.', 1)[0]]}.{k.rsplit('.', 1)[1]}": v for k, v in tensors.items()}
        model = VAE(inputs, hidden[0], int(meta.get("latent", "20")), classes)
    elif classes:
        raise SystemExit("a conditional model loads into pytorch/examples' VAE only with one ReLU hidden layer, "
                         "and has no importance-weighted estimate here")
    else:
        state = tensors
        model = MlpVae(inputs, hidden, int(meta.get("latent", "20")), activation)
    model.load_state_dict(state)
    model.eval()
    images = read_idx(a.test_images or find(a.data, "t10k-images-idx3-ubyte"))
    if tuple(images.shape[1:]) != (height, width):
        raise SystemExit(f"test images are {images.shape[1]}x{images.shape[2]}, the model takes {height}x{width}")
    binary = a.binarize or meta.get("binarization") == "dynamic"
    checked = ""
    if binary:
        images = binarize(images)
        if hashlib.sha256((images.numpy() * 255).tobytes()).hexdigest() == BINARIZED_MNIST_TEST_SHA256:
            checked = ", the MNIST test set ilgpu-vae binarises (SHA-256 equal)"
    if a.limit:
        images = images[:a.limit]
    x = images.reshape(-1, inputs).float() / (1 if binary else 255)
    where = f"{len(x)} test images{f' binarised by seed {TEST_BINARIZATION_SEED}{checked}' if binary else ''}"
    if a.iw_samples:
        nll = importance_weighted_nll(model, x, a.iw_samples, a.seed)
        print(f"test NLL {nll:.4f} nats ({a.iw_samples} importance samples per image, {where})")
        return
    if two_layers:
        # No KL is analytic with two stochastic layers: the one-sample ELBO is the estimate with K = 1.
        loss = importance_weighted_nll(model, x, 1, a.seed)
        print(f"test loss per image (one posterior sample of z1 and z2, the KL terms sampled, {where}): {loss:.4f}")
        return
    y = None
    if classes:
        labels = read_idx(a.test_labels or find(a.data, "t10k-labels-idx1-ubyte"))
        y = F.one_hot((labels[:a.limit] if a.limit else labels).long(), classes).float()
    torch.manual_seed(a.seed)
    with torch.no_grad():
        for sample in (True, False):
            total = 0.0
            for i in range(0, len(x), 1000):
                recon, mu, logvar = model(x[i:i + 1000], y[i:i + 1000] if classes else None, sample)
                total += (F.binary_cross_entropy(recon, x[i:i + 1000], reduction="sum")
                          - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()
            print(f"test loss per image ({'one posterior sample' if sample else 'z = mu'}, {where}): {total / len(x):.4f}")


if __name__ == "__main__":
    main()
