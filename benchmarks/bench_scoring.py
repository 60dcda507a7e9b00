"""Scoring benchmark: a CIFAR-sized CNN's forward pass over 1,000 images on the CPU, as the grader scores.

Compares one plain pass per 1,024 images (what ``dlgrade.train.predict`` did before) with ``predict``
as it is: batches of at most ``CPU_BATCH_VALUES`` input values, as they come (a student's network)
and channels-last (``channels_last=True``: a grader-rebuilt network that never calls ``view``). On
the profile's one thread, from the same weights and images; prints seconds (best of ``--repeat``),
the ratios, the largest difference between the logits and whether every predicted class is the same.

Then the floor: the floating-point operations of one forward pass (torch's own counter), the rate the
fastest of the three reaches, and the rate of a large single-precision matrix product on the same
thread (the most a CPU core sustains with torch's kernels). ``--networks`` lists what one submission
has the grader score, as ``images x passes`` of the reference CNN and MLP; the least time its scoring
can take on this core follows from those rates.

Command (from the repository root)::

    .venv/bin/python benchmarks/bench_scoring.py
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlgrade.train import evaluation, predict


def reference_cnn() -> nn.Module:
    """The cifar exercise's reference design: three conv-ReLU-pool blocks of 32, 64 and 128 channels."""
    blocks = []
    for c_in, c_out in ((3, 32), (32, 64), (64, 128)):
        blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))


def reference_mlp() -> nn.Module:
    """The cifar exercise's reference MLP: 3,072-512-256-10."""
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def flops_per_image(model: nn.Module) -> float:
    """Floating-point operations of ``model`` on one 3x32x32 image, as torch's flop counter counts them."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    return float(counter.get_total_flops())


def matmul_rate(repeat: int, n: int = 1024) -> float:
    """FLOP/s of an ``n x n`` single-precision matrix product on the current threads (best of ``repeat``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    seconds, _ = best_of(max(repeat, 5), lambda: a @ b)
    return 2 * n ** 3 / seconds


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
    parser.add_argument("--networks", default="2000,2000", metavar="CNN,MLP",
                        help="images the grader scores per submission with the CNN and with the MLP "
                             "(cifar's quick profile: 1,000 test images, clean and shifted, for each)")
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

    cnn_flops, mlp_flops = flops_per_image(model), flops_per_image(reference_mlp())
    achieved = cnn_flops * args.images / seconds
    peak = matmul_rate(args.repeat)
    cnn_images, mlp_images = (int(v) for v in args.networks.split(","))
    work = cnn_images * cnn_flops + mlp_images * mlp_flops
    print(f"floor, {torch.get_num_threads()} thread(s):")
    print(f"  reference CNN: {cnn_flops / 1e6:.1f} MFLOP per image; the fastest pass above runs at "
          f"{achieved / 1e9:.1f} GFLOP/s")
    print(f"  reference MLP: {mlp_flops / 1e6:.1f} MFLOP per image")
    print(f"  1024x1024 matrix product: {peak / 1e9:.1f} GFLOP/s (the fastest pass is at {achieved / peak:.0%} of it)")
    print(f"  one submission's scoring ({cnn_images:,} CNN + {mlp_images:,} MLP images, {work / 1e9:.1f} GFLOP): "
          f"{work / achieved:.2f} s at the pass's rate, {work / peak:.2f} s at the matrix product's")

if __name__ == "__main__":
    main()
