"""The training loop's collate: the same batches as torch's default_collate, built without torch's thread pool."""
import torch
from torch.utils.data import DataLoader, TensorDataset, default_collate

from zfcourse.data import WorldDataset
from zfcourse.train.collate import stack_collate


def test_stack_collate_equals_default_collate():
    items = WorldDataset("train", size=42, progress=False)
    batch = [items[i] for i in range(6)]
    for a, b in zip(stack_collate(batch), default_collate(batch)):
        assert torch.equal(a, b) and a.dtype == b.dtype
    data = TensorDataset(torch.randn(10, 3, 8, 8), torch.arange(10))
    for (xa, ya), (xb, yb) in zip(DataLoader(data, 4, collate_fn=stack_collate), DataLoader(data, 4)):
        assert torch.equal(xa, xb) and torch.equal(ya, yb) and ya.dtype == yb.dtype


def test_other_items_go_to_default_collate():
    floats = [(torch.zeros(2), 0.5), (torch.ones(2), 1.5)]  # regression targets are not class labels
    assert stack_collate(floats)[1].dtype == torch.float64
    dicts = [{"x": torch.zeros(2)}, {"x": torch.ones(2)}]
    assert stack_collate(dicts)["x"].shape == (2, 2)
