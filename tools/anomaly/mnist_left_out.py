#!/usr/bin/python3
"""MNIST left-out digit: train the CLI's 784-400-20 VAE on every digit but d, score the whole test set with
`ilgpu-vae score`, and report the AUROC of "is a d" (scikit-learn's roc_auc_score).

    ILGPU_VAE_DATA=/work/shared/mnist /usr/bin/python3 tools/anomaly/mnist_left_out.py --digits 0 1 7 --seeds 1 2 \
        --likelihood gaussian --epochs 2
"""
import argparse
import csv
import gzip
import os
import subprocess
import sys

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return data[:4 + 4 * dims], np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_idx(path, magic, array):
    with open(path, "wb") as f:
        f.write(magic[:4])
        for n in array.shape:
            f.write(int(n).to_bytes(4, "big"))
        f.write(array.tobytes())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", default=os.path.join(ROOT, "tools/IlgpuVae.Cli/bin/Release/net10.0/ilgpu-vae"))
    p.add_argument("--mnist", default=os.environ.get("ILGPU_VAE_DATA", "/work/shared/mnist"))
    p.add_argument("--digits", type=int, nargs="+", default=[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1])
    p.add_argument("--likelihood", default="gaussian")
    p.add_argument("--epochs", default="2")
    p.add_argument("--out", default="/tmp/mnist-left-out")
    a = p.parse_args()

    def find(name):
        for n in (name, name + ".gz"):
            if os.path.exists(os.path.join(a.mnist, n)):
                return os.path.join(a.mnist, n)
        raise SystemExit(f"no {name} in {a.mnist}")

    image_magic, images = read_idx(find("train-images-idx3-ubyte"))
    label_magic, labels = read_idx(find("train-labels-idx1-ubyte"))
    _, test_labels = read_idx(find("t10k-labels-idx1-ubyte"))
    print("| digit left out | seed | likelihood | epochs | AUROC |\n|---|---|---|---|---|")
    for digit in a.digits:
        d = os.path.join(a.out, f"no{digit}")
        os.makedirs(d, exist_ok=True)
        keep = labels != digit
        write_idx(os.path.join(d, "train-images-idx3-ubyte"), image_magic, images[keep])
        write_idx(os.path.join(d, "train-labels-idx1-ubyte"), label_magic, labels[keep])
        for seed in a.seeds:
            run = os.path.join(d, f"{a.likelihood}-s{seed}")
            # Unlabelled: the VAE reads no labels, and training labels without d beside test labels with it are refused.
            subprocess.run([a.cli, "train", "--likelihood", a.likelihood, "--train-images", os.path.join(d, "train-images-idx3-ubyte"),
                            "--test-images", find("t10k-images-idx3-ubyte"), "--epochs", a.epochs, "--seed", str(seed),
                            "--out", run, "--overwrite", "--device", "cpu"], check=True, stdout=subprocess.DEVNULL)
            scores = run + ".csv"
            subprocess.run([a.cli, "score", "--model", os.path.join(run, "model.safetensors"), "--data", a.mnist,
                            "--seed", str(seed), "--out", scores, "--device", "cpu"], check=True, stderr=subprocess.DEVNULL)
            with open(scores) as f:
                rows = list(csv.DictReader(f))
            truth = (test_labels == digit).astype(int)
            assert [int(r["label"]) for r in rows] == list(test_labels)
            auroc = roc_auc_score(truth, [float(r["neg_elbo"]) for r in rows])
            print(f"| {digit} | {seed} | {a.likelihood} | {a.epochs} | {auroc:.4f} |", flush=True)


if __name__ == "__main__":
    main()
