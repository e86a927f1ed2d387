#!/usr/bin/env python3
"""Checks an ilgpu-vae model of any decoder likelihood against torch.distributions, on the model's own weights.

  ilgpu-vae score --model M --data DIR --posterior-mean --out ours.csv
  /usr/bin/python3 tools/pytorch/likelihood_agreement.py M --data DIR --scores ours.csv

For every test image, the negative ELBO with z = mu (deterministic, the pixels as p / 255): -log p(x|z) under
torch.distributions.Bernoulli(logits=...), ContinuousBernoulli(probs=sigmoid(logits) clamped to [2^-23, 1 - 2^-23]) or
Normal(mean, exp(logvar / 2)) (the
"likelihood" metadata chooses; "out_logvar" or "sigma" gives the Gaussian's scale), plus the closed-form KL, in
float64 with the float32 weights. Prints the mean of both implementations and the worst relative difference per
image. A dense unconditional model (MlpVae of evaluate_in_pytorch.py) only.
"""
import argparse, csv, math, os, sys

import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, ContinuousBernoulli, Normal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate_in_pytorch import MlpVae, find, load_safetensors, read_idx  # noqa: E402


def negative_elbo(model, x, likelihood, logvar_out):
    mu, logvar = model.encode(x)
    out = model.decode_logits(mu)
    if likelihood == "continuous-bernoulli":
        # lambda = sigmoid(logits) clamped as PyTorch's clamp_probs clamps float32 probabilities ([eps, 1 - eps],
        # eps = 2^-23), the clamp ilgpu-vae applies, here in float64. PyTorch's logits
        # parameterisation clamps nothing: its density grows without bound as logits -> -inf at x = 0 (and is
        # infinite in float32 from logits ~ 16.6, where sigmoid rounds to 1).
        eps = torch.finfo(torch.float32).eps
        probs = torch.sigmoid(out).clamp(eps, 1 - eps)
        log_p = ContinuousBernoulli(probs=probs, validate_args=False).log_prob(x)
    elif likelihood == "gaussian":
        log_p = Normal(out, torch.exp(0.5 * logvar_out).expand_as(out)).log_prob(x)
    else:
        # Bernoulli's log_prob is -BCE on logits, for grey levels as for binary values.
        log_p = Bernoulli(logits=out, validate_args=False).log_prob(x)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)
    return -log_p.sum(-1) + kl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--data", required=True)
    ap.add_argument("--scores", required=True, help="ilgpu-vae score --posterior-mean's CSV")
    a = ap.parse_args()
    tensors, meta = load_safetensors(a.model)
    if meta.get("architecture") == "conv" or int(meta.get("classes", "0")):
        raise SystemExit("a dense unconditional model only")
    likelihood = meta.get("likelihood", "bernoulli-logits")
    inputs, latent = int(meta["input_size"]), int(meta["latent"])
    hidden = [int(h) for h in meta["hidden"].split(",")]
    logvar_out = tensors.pop("out_logvar", None)
    if "sigma" in meta:
        logvar_out = torch.full((inputs,), 2 * math.log(float(meta["sigma"])))
    model = MlpVae(inputs, hidden, latent, meta.get("activation", "relu"))
    model.load_state_dict(tensors)
    model = model.double().eval()
    x = read_idx(find(a.data, "t10k-images-idx3-ubyte")).reshape(-1, inputs).double() / 255
    with torch.no_grad():
        theirs = torch.cat([negative_elbo(model, x[i:i + 1000], likelihood,
                                          None if logvar_out is None else logvar_out.double())
                            for i in range(0, len(x), 1000)])
    with open(a.scores) as f:
        ours = torch.tensor([float(r["neg_elbo"]) for r in csv.DictReader(f)], dtype=torch.float64)
    relative = ((ours - theirs).abs() / theirs.abs().clamp(min=1)).max().item()
    print(f"{likelihood}: {len(x)} test images, negative ELBO at z = mu: ilgpu-vae {ours.mean():.6f}, "
          f"PyTorch (torch.distributions, float64) {theirs.mean():.6f}; relative difference of the means "
          f"{abs(ours.mean() - theirs.mean()) / abs(theirs.mean()):.2e}, worst per image {relative:.2e}")


if __name__ == "__main__":
    main()
