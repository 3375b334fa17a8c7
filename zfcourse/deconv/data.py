"""Reading images out of whatever holds them: a tensor, a Dataset, or a DataLoader — always in a fixed order,
so that "image 17" means the same picture when mining top-k activations and when projecting them later."""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, SequentialSampler


def _image_of(item):
    if isinstance(item, dict):
        return item["image"]
    if isinstance(item, (tuple, list)):
        return item[0]
    return item


def batches(data, batch_size: int = 64):
    """Yield (B, 3, H, W) image batches from ``data``: a tensor, a map-style Dataset (items ``image`` or
    ``(image, label, ...)`` or ``{"image": ...}``), or an unshuffled DataLoader / iterable of such batches."""
    if isinstance(data, torch.Tensor):
        yield from data.split(batch_size)
        return
    if isinstance(data, DataLoader):
        sampler = data.batch_sampler.sampler if data.batch_sampler is not None else data.sampler
        if not isinstance(sampler, SequentialSampler):
            raise ValueError("data: the DataLoader shuffles or samples; top-k mining needs a fixed order "
                             "(shuffle=False) so that image indices stay meaningful")
    if isinstance(data, Dataset) and hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        data = DataLoader(data, batch_size=batch_size, shuffle=False)
    for batch in data:
        yield _image_of(batch)


def images_at(data, index: torch.Tensor) -> torch.Tensor:
    """The images ``index`` (N,) of ``data`` (a tensor, a map-style Dataset or a DataLoader over one): (N, 3, H, W)."""
    if isinstance(data, torch.Tensor):
        return data[index.to(data.device)]
    dataset = data.dataset if isinstance(data, DataLoader) else data
    if not hasattr(dataset, "__getitem__"):
        raise TypeError("data: images can only be fetched by index from a tensor, a Dataset or a DataLoader over one")
    return torch.stack([torch.as_tensor(_image_of(dataset[int(i)])) for i in index])
