#!/usr/bin/python3
"""Anomaly detection on scikit-learn's bundled breast-cancer data (569 x 30; Debian's python3-sklearn ships it as a
CSV in sklearn/datasets/data): train on benign rows only, score held-out benign and all malignant rows, AUROC of
"malignant" for the ilgpu-vae Gaussian VAE (the built CLI), IsolationForest and a PCA reconstruction error, on the
same splits, over several seeds.

    /usr/bin/python3 tools/anomaly/breast_cancer.py [--cli PATH] [--seeds 5] [--epochs 300] [--out DIR]

Per seed s: the benign rows are shuffled with s; 70 % train, the rest plus every malignant row are the test rows.
It writes DIR/s/train.csv (30 feature columns) and DIR/s/test.csv (the same plus 'label', 1 = malignant), trains
`ilgpu-vae train --data train.csv` (columns standardised by the training rows, Gaussian decoder), scores with
`ilgpu-vae score --data test.csv` (the importance-weighted -log p(x), K = --iw-samples), and prints a Markdown table
of mean and standard deviation over the seeds.
"""
import argparse
import csv
import os
import subprocess
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_csv(path, x, names, labels=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(names) + (["label"] if labels is not None else []))
        for i, row in enumerate(x):
            w.writerow([repr(float(v)) for v in row] + ([int(labels[i])] if labels is not None else []))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", default=os.path.join(ROOT, "tools/IlgpuVae.Cli/bin/Release/net10.0/ilgpu-vae"))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--hidden", default="64")
    p.add_argument("--latent", default="4")
    p.add_argument("--iw-samples", default="50")
    p.add_argument("--pca-components", type=int, default=5)
    p.add_argument("--out", default="/tmp/breast-cancer-anomaly")
    a = p.parse_args()

    data = load_breast_cancer()
    x, y = data.data.astype(np.float64), data.target  # target 1 = benign, 0 = malignant
    names = [n.replace(" ", "_") for n in data.feature_names]
    benign, malignant = np.where(y == 1)[0], np.where(y == 0)[0]
    vae_name = f"ilgpu-vae (Gaussian VAE {a.hidden}-{a.latent}, {'-log p(x), K = ' + a.iw_samples if a.iw_samples != '0' else 'negative ELBO'})"
    results = {vae_name: [], "IsolationForest": [], f"PCA ({a.pca_components} components) reconstruction error": []}
    for seed in range(1, a.seeds + 1):
        rng = np.random.RandomState(seed)
        order = rng.permutation(benign)
        cut = int(round(0.7 * len(order)))
        train, test = order[:cut], np.concatenate([order[cut:], malignant])
        truth = (y[test] == 0).astype(int)  # 1 = anomaly (malignant)
        d = os.path.join(a.out, str(seed))
        os.makedirs(d, exist_ok=True)
        write_csv(os.path.join(d, "train.csv"), x[train], names)
        write_csv(os.path.join(d, "test.csv"), x[test], names, truth)

        run = os.path.join(d, "run")
        subprocess.run([a.cli, "train", "--data", os.path.join(d, "train.csv"), "--test-fraction", "0.1",
                        "--hidden", a.hidden, "--latent", a.latent, "--epochs", str(a.epochs), "--batch", "32",
                        "--seed", str(seed), "--out", run, "--overwrite", "--device", "cpu"],
                       check=True, stdout=subprocess.DEVNULL)
        scores = os.path.join(d, "scores.csv")
        subprocess.run([a.cli, "score", "--model", os.path.join(run, "model.safetensors"), "--data", os.path.join(d, "test.csv"),
                        "--label-column", "label", "--iw-samples", a.iw_samples, "--seed", str(seed), "--out", scores,
                        "--device", "cpu"], check=True, stderr=subprocess.DEVNULL)
        with open(scores) as f:
            rows = list(csv.DictReader(f))
        assert [int(r["label"]) for r in rows] == list(truth), "scores are not in input order"
        # neg_log_likelihood with --iw-samples K > 0, neg_elbo with 0.
        vae = np.array([float(r.get("neg_log_likelihood") or r["neg_elbo"]) for r in rows])
        results[vae_name].append(roc_auc_score(truth, vae))

        forest = IsolationForest(random_state=seed).fit(x[train])
        results["IsolationForest"].append(roc_auc_score(truth, -forest.score_samples(x[test])))

        scaler = StandardScaler().fit(x[train])
        pca = PCA(n_components=a.pca_components, random_state=seed).fit(scaler.transform(x[train]))
        z = scaler.transform(x[test])
        error = ((z - pca.inverse_transform(pca.transform(z))) ** 2).sum(axis=1)
        results[f"PCA ({a.pca_components} components) reconstruction error"].append(roc_auc_score(truth, error))
        print(f"seed {seed}: " + ", ".join(f"{k.split(' ')[0]} {v[-1]:.4f}" for k, v in results.items()), file=sys.stderr)

    print(f"| method | AUROC, mean ± std over {a.seeds} splits | per split |")
    print("|---|---|---|")
    for k, v in results.items():
        print(f"| {k} | {np.mean(v):.4f} ± {np.std(v):.4f} | {' '.join(f'{s:.3f}' for s in v)} |")
    print(f"\n{len(benign)} benign, {len(malignant)} malignant rows; train: 70 % of the benign rows "
          f"({int(round(0.7 * len(benign)))}); test: the other benign rows and all malignant ones.")


if __name__ == "__main__":
    main()
