#!/usr/bin/env python3
"""Trains Burda et al.'s one- or two-stochastic-layer MNIST VAE (ELBO, one sample) in PyTorch and prints the test ELBO
after each epoch: a diagnostic to set beside `ilgpu-vae train --preset burda|burda2 --binarize` at the same epoch.

  /usr/bin/python3 tools/pytorch/train_burda.py --preset burda2 --data /work/shared/mnist --epochs 20
  /usr/bin/python3 tools/pytorch/train_burda.py --preset burda2 --nbip ...       # nbip/IWAE's choices instead

The models are evaluate_in_pytorch.py's MlpVae (burda: 784-200-200-50 tanh) and TwoLayerVae (burda2: x -> 200-200 tanh
-> z1 (100) -> 100-100 tanh -> z2 (50), mirrored; --narrow: 100-100 and 50-50, the
issue text's widths, which the preset had before), under ilgpu-vae's tensor names. By default everything is as ilgpu-vae
does it: PyTorch's default initialisation (weights and biases ~ U(+-1/sqrt(fan-in)), Network.Initialize), Gaussian
heads giving log-variances (sigma = exp(a / 2)), the loss summed over the batch (LossScale 1: the gradient is the
batch sum), Adam lr 1e-3 eps 1e-4, batch 100, every training image binarised afresh each time it is drawn
(Bernoulli of its grey level), the one-layer model's KL analytic and the two-layer model's latent terms sampled.
The flags below switch single choices to what nbip/IWAE (src/iwae2.py, TensorFlow 2/Keras) does; --nbip sets all four:
  --init glorot      Keras' default Dense init: weights ~ U(+-sqrt(6 / (fan-in + fan-out))), biases 0
  --std exp          the heads give log sigma (sigma = exp(a)), not log sigma^2
  --out-bias mean    the output layer's bias starts at the logit of the mean training pixel
  --reduction mean   the loss is averaged over the batch (Adam's eps then weighs 100 times more)

The test ELBO is on MNIST's test set binarised once by seed 2016, bit for bit ilgpu-vae's (ImageSet.Binarized, via
evaluate_in_pytorch.binarize), with one posterior sample per image from a torch generator seeded per epoch (ilgpu-vae's
own noise stream is not reproduced, so the two differ by the Monte Carlo noise of one sample, ~0.1 nat on 10,000 images).
"""
import argparse, math, os, sys, time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_in_pytorch import MlpVae, TwoLayerVae, binarize, find, read_idx  # noqa: E402


class Times2(nn.Module):
    """a -> 2a: a head that gives log sigma feeds the models' log-variance code unchanged (2 log sigma = log sigma^2)."""

    def forward(self, a):
        return 2 * a


def build(preset, std, pixels, narrow=False):
    if preset == "burda":
        model = MlpVae(pixels, [200, 200], 50, "tanh")
        heads = ["logvar"]
    else:
        hidden, hidden2 = ([100, 100], [50, 50]) if narrow else ([200, 200], [100, 100])
        model = TwoLayerVae(pixels, hidden, 100, hidden2, 50, "tanh")
        heads = ["logvar", "logvar2", "prior_logvar"]
    if std == "exp":
        for name in heads:
            setattr(model, name, nn.Sequential(getattr(model, name), Times2()))
    return model


def glorot(model):
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)


def negative_elbo(model, x, generator):
    """Per-image negative one-sample ELBO, (B,): the one-layer model's KL analytic (as ilgpu-vae trains it), the
    two-layer model's log weight with every latent term sampled (TwoLayerVae.log_weights with K = 1)."""
    if isinstance(model, TwoLayerVae):
        return -model.log_weights(x, 1, generator)[0]
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)
    bce = F.binary_cross_entropy_with_logits(model.decode_logits(z), x, reduction="none").sum(-1)
    return bce - 0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=["burda", "burda2"], default="burda2")
    ap.add_argument("--data", default="/work/shared/mnist", help="directory of MNIST's IDX files (gzipped or not)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--adam-eps", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--init", choices=["torch", "glorot"], default="torch")
    ap.add_argument("--std", choices=["exp-half", "exp"], default="exp-half",
                    help="sigma = exp(a / 2) (a = log variance, ours) or exp(a) (a = log sigma, nbip/IWAE)")
    ap.add_argument("--out-bias", choices=["init", "mean"], default="init")
    ap.add_argument("--reduction", choices=["sum", "mean"], default="sum")
    ap.add_argument("--narrow", action="store_true",
                    help="burda2 with hidden widths 100-100 and 50-50 (the issue's text) instead of the authors' 200-200 and 100-100")
    ap.add_argument("--nbip", action="store_true", help="--init glorot --std exp --out-bias mean --reduction mean")
    a = ap.parse_args()
    if a.nbip:
        a.init, a.std, a.out_bias, a.reduction = "glorot", "exp", "mean", "mean"
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    train = read_idx(find(a.data, "train-images-idx3-ubyte"))
    train = train.reshape(len(train), -1).float() / 255  # images x pixels, the size read from the IDX header
    test = binarize(read_idx(find(a.data, "t10k-images-idx3-ubyte"))).reshape(-1, train.shape[1]).float()
    model = build(a.preset, a.std, train.shape[1], a.narrow)
    if a.init == "glorot":
        glorot(model)
    if a.out_bias == "mean":
        p = train.mean(0).clamp(1e-3, 1 - 1e-3)
        with torch.no_grad():
            model.out.bias.copy_(torch.log(p) - torch.log1p(-p))
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr, eps=a.adam_eps)
    noise = torch.Generator().manual_seed(a.seed)
    print(f"# {a.preset}: init {a.init}, std {a.std}, out-bias {a.out_bias}, reduction {a.reduction}, lr {a.lr}, "
          f"adam eps {a.adam_eps}, batch {a.batch}, seed {a.seed}, {sum(p.numel() for p in model.parameters())} parameters")
    print("epoch,train_loss,test_loss,seconds", flush=True)
    for epoch in range(1, a.epochs + 1):
        start, total = time.time(), 0.0
        model.train()
        for idx in torch.randperm(len(train), generator=noise).split(a.batch):
            x = torch.bernoulli(train[idx], generator=noise)
            losses = negative_elbo(model, x, noise)
            loss = losses.sum() if a.reduction == "sum" else losses.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += losses.sum().item()
        model.eval()
        with torch.no_grad():
            fixed = torch.Generator().manual_seed(1000 + epoch)
            test_loss = sum(negative_elbo(model, test[i:i + 1000], fixed).sum().item() for i in range(0, len(test), 1000))
        print(f"{epoch},{total / len(train):.4f},{test_loss / len(test):.4f},{time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()
