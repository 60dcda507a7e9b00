"""Scoring benchmark: a CIFAR-sized CNN's forward pass over 1,000 images on the CPU, as the grader scores.

Compares one plain pass per 1,024 images (what ``dlgrade.train.predict`` did before) with ``predict``
as it is: batches of at most ``CPU_BATCH_VALUES`` input values, as they come (a student's network)
and channels-last (``channels_last=True``: a grader-rebuilt network that never calls ``view``). On
the profile's one thread, from the same weights and images; prints seconds (best of ``--repeat``),
the ratios, the largest difference between the logits and whether every predicted class is the same.

Command (from the repository root)::

    .venv/bin/python benchmarks/bench_scoring.py
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from dlgrade.train import evaluation, predict


def reference_cnn() -> nn.Module:
    """The cifar exercise's reference design: three conv-ReLU-pool blocks of 32, 64 and 128 channels."""
    blocks = []
    for c_in, c_out in ((3, 32), (32, 64), (64, 128)):
        blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))


def best_of(repeat: int, fn) -> tuple[float, torch.Tensor]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the profiles use 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = reference_cnn().eval()
    X = torch.rand(args.images, 3, 32, 32)

    def plain():
        with torch.no_grad():
            return torch.cat([model(X[i:i + 1024]) for i in range(0, len(X), 1024)])

    def capped():
        return predict(model, X, device="cpu")

    def fastest():
        return predict(model, X, device="cpu", channels_last=True)

    for fn in (plain, capped, fastest):
        fn()                                              # first calls: kernels chosen, memory allocated
    before, old = best_of(args.repeat, plain)
    rows = evaluation.CPU_BATCH_VALUES // X[0].numel()
    print(f"{args.images} images 3x32x32, reference CNN, {torch.get_num_threads()} thread(s), "
          f"torch {torch.__version__}")
    print(f"  one pass per 1,024 images:                {before:6.3f} s")
    for label, fn in ((f"predict, {rows} per batch", capped), (f"predict, {rows} per batch, channels-last", fastest)):
        seconds, new = best_of(args.repeat, fn)
        print(f"  {label + ':':<41} {seconds:6.3f} s   {before / seconds:.2f}x faster; largest logit difference "
              f"{float((old - new).abs().max()):.1e}, same classes: {bool(torch.equal(old.argmax(1), new.argmax(1)))}")

if __name__ == "__main__":
    main()
