"""The installed stack works together (a CPU-only torch wheel breaks torchvision's operators)."""
import torch


def test_torchvision_imports_and_its_operators_run():
    """Do torch and torchvision come from matching builds, so that torchvision's C++ ops load?"""
    import torchvision
    from torchvision.ops import nms

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2], torchvision.__version__
