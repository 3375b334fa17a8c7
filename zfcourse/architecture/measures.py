"""Architecture selection (§4.1, Fig. 6): measuring what the paper saw in Krizhevsky et al.'s first two layers.

The paper: "By visualizing the first and second layers of Krizhevsky et al.'s architecture (Fig. 6(b) & (d)), various
problems are apparent. The first layer filters are a mix of extremely high and low frequency information, with little
coverage of the mid frequencies. Additionally, the 2nd layer visualization shows aliasing artifacts caused by the
large stride 4 used in the 1st layer convolutions. To remedy these problems, we (i) reduced the 1st layer filter size
from 11x11 to 7x7 and (ii) made the stride of the convolution 2, rather than 4." Fig. 6's caption adds "dead" features.

The paper judged by eye; this file turns each observation into a number, top to bottom:

1. **Dead filters** (:func:`dead_filters`): maps that never activate on a set of images, or whose filter is tiny
   (RMS below 10 % of the layer's median RMS).
2. **Aliasing** (:func:`aliasing`): a conv with stride s keeps one output per s×s input pixels, so by the sampling
   theorem only frequencies inside the square |f_x|, |f_y| ≤ 1/(2s) cycles/pixel survive unchanged; any filter power
   outside it folds back onto lower frequencies. The share of each filter's power outside that square measures how
   much of what it passes on is aliased.
3. **Radial spectrum** (:func:`radial_spectrum`): each filter's power by spatial frequency |f|, to test "a mix of
   extremely high and low frequency, little mid".
4. **Shift sensitivity** (:func:`shift_sensitivity`): how much a layer-2 response changes when the input moves by
   1–3 pixels — aliasing shows up as responses that depend on where the image falls on the stride grid.

Frequencies throughout are in cycles per input pixel (0.5 is the highest a pixel grid holds), from the 2-D DFT of
each filter zero-padded to n_fft × n_fft (zero-padding samples the same continuous spectrum more finely).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ..features import batches
from ..models import activations, resolve
from ..models.summary import input_size_of
from ..train.clipping import filter_rms


# ----------------------------------------------------------------------------------------------------------------
# Finding layers
# ----------------------------------------------------------------------------------------------------------------

def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d]:
    """``(full_name, module)`` of the model's first ``nn.Conv2d`` (conv1; ``features.0`` in torchvision's AlexNet)."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            return name, m
    raise ValueError("model: has no nn.Conv2d layer")


def nth_relu(model: nn.Module, n: int) -> str:
    """Full name of the n-th ReLU of ``features`` (1-based): ``features.relu2`` for ZFNet, ``features.4`` for
    torchvision's AlexNet — "layer n" of the paper, after its rectification."""
    relus = [f"features.{k}" for k, m in model.features.named_children() if isinstance(m, nn.ReLU)]
    if not 1 <= n <= len(relus):
        raise ValueError(f"n: expected 1..{len(relus)} (the model has {len(relus)} ReLUs in features), got {n}")
    return relus[n - 1]


def _weight_and_stride(weight, stride):
    """A conv weight (C_out, C_in, k, k) and the stride, from an nn.Conv2d or a tensor plus ``stride``."""
    if isinstance(weight, nn.Conv2d):
        stride = weight.stride[0] if stride is None else stride
        weight = weight.weight
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(f"weight: expected an nn.Conv2d or a conv weight (C_out, C_in, k, k), got {shape}")
    if stride is not None and (isinstance(stride, bool) or not isinstance(stride, int) or stride < 1):
        raise ValueError(f"stride: expected a positive integer, got {stride!r}")
    return weight.detach().float().cpu(), stride


# ----------------------------------------------------------------------------------------------------------------
# 1. Dead filters
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class DeadFilters:
    """Which filters of a conv layer are "dead" (Fig. 6b), by two criteria. Tensors are per filter, shape (C,).

    Attributes:
        layer: the conv layer's full name.
        max_activation: max over images and positions of the conv output (before the ReLU); ``None`` without images.
        active_share: share of images on which the map exceeds ``threshold`` somewhere.
        rms: filter RMS, sqrt(mean_i W[j]_i²).
        never_active: max_activation ≤ threshold on every image (the ReLU output is all zeros).
        weak: rms < rms_fraction · median_j rms_j.
        images: how many images were seen.
    """
    layer: str
    max_activation: torch.Tensor | None
    active_share: torch.Tensor | None
    rms: torch.Tensor
    never_active: torch.Tensor
    weak: torch.Tensor
    images: int
    threshold: float
    rms_fraction: float

    @property
    def dead(self) -> torch.Tensor:
        """never_active OR weak, (C,) bool."""
        return self.never_active | self.weak

    @property
    def count(self) -> int:
        return int(self.dead.sum())

    def indices(self) -> list[int]:
        return torch.nonzero(self.dead).flatten().tolist()


def _batches(images, batch_size):
    """Yield input-space image batches from a (N, 3, H, W) tensor or an iterable of tensors / (images, labels)
    (:func:`zfcourse.features.batches`, the course's one batching helper), each checked to be (B, 3, S, S)."""
    if isinstance(images, torch.Tensor) and (images.dim() != 4 or images.shape[1] != 3):
        raise ValueError(f"images: expected a (N, 3, S, S) input-space batch, got {tuple(images.shape)}")
    for x in batches(images, batch_size):
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
            raise ValueError("images: expected batches of (B, 3, S, S) input-space tensors (or (images, labels))")
        yield x


@torch.no_grad()
def dead_filters(model: nn.Module, images=None, layer: str | int | None = None, threshold: float = 0.0,
                 rms_fraction: float = 0.1, batch_size: int = 64, progress: bool = True) -> DeadFilters:
    """Dead filters of a conv layer (§4.1, Fig. 6): maps that never activate, or filters far weaker than the rest.

    Filter j of the layer is *never active* when its conv output a_j(x; u, v) ≤ threshold at every position (u, v) of
    every image x (so its ReLU output is identically 0 and it passes nothing on), and *weak* when

        rms_j = sqrt( (1/n) Σ_i W[j]_i² )  <  rms_fraction · median_k rms_k      (default 10 % of the median).

    Args:
        model: a torchvision-style convnet.
        images: input-space images — a (N, 3, S, S) tensor or an iterable of batches (a DataLoader of
            (images, labels) works); ``None`` checks the RMS criterion only.
        layer: a conv layer (default the first conv), any name :func:`zfcourse.models.resolve` accepts.
        threshold: activation level a map must exceed to count as active.
        rms_fraction: the weak-filter cut as a fraction of the median RMS.

    Example:
        >>> from zfcourse.models import course_model
        >>> model = course_model()
        >>> with torch.no_grad():
        ...     model.features.conv1.weight[2] = 0
        >>> size = model.input_size
        >>> dead_filters(model, torch.randn(4, 3, size, size) * 50, "conv1", progress=False).indices()
        [2]
    """
    name, conv = first_conv(model) if layer is None else resolve(model, layer)
    if not isinstance(conv, nn.Conv2d):
        raise ValueError(f"layer: {name} is a {type(conv).__name__}, expected a conv layer (nn.Conv2d)")
    if not 0 < rms_fraction < 1:
        raise ValueError(f"rms_fraction: expected a fraction in (0, 1), got {rms_fraction}")
    rms = filter_rms(conv.weight).cpu()
    weak = rms < rms_fraction * rms.median()
    peak = active = None
    seen = 0
    if images is not None:
        peak = torch.full((conv.out_channels,), -float("inf"))
        active = torch.zeros(conv.out_channels)
        device = next(model.parameters()).device
        for x in tqdm(_batches(images, batch_size), desc=f"{name} activity", disable=not progress, leave=False):
            a = activations(model, x.to(device), [name])[name].float().cpu()  # (B, C, H, W) before the ReLU
            per_image = a.flatten(2).amax(2)  # (B, C)
            peak = torch.maximum(peak, per_image.amax(0))
            active += (per_image > threshold).float().sum(0)
            seen += len(x)
        if seen == 0:
            raise ValueError("images: no images were given")
        active /= seen
    never = (peak <= threshold) if peak is not None else torch.zeros_like(weak)
    return DeadFilters(name, peak, active, rms, never, weak, seen, float(threshold), float(rms_fraction))


# ----------------------------------------------------------------------------------------------------------------
# 2. Spectra and aliasing
# ----------------------------------------------------------------------------------------------------------------

def filter_power(weight, n_fft: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Power spectrum of each filter, summed over its input channels (§4.1):

        P_j(f_y, f_x) = Σ_c |DFT_{n_fft}(W[j, c])(f_y, f_x)|²,   f = k / n_fft cycles/pixel, k = −n_fft/2 … n_fft/2 − 1,

    the filter zero-padded to n_fft × n_fft (default max(64, 4k)). By Parseval Σ_f P_j(f) = n_fft² · Σ_i W[j]_i²:
    the spectrum redistributes the filter's energy over frequencies. Returns
    ``(freqs (n_fft,), power (C, n_fft, n_fft))`` in ``torch.fft.fftfreq`` order (unshifted).
    """
    w, _ = _weight_and_stride(weight, None)
    k = max(w.shape[-2:])
    n_fft = max(64, 4 * k) if n_fft is None else n_fft
    if isinstance(n_fft, bool) or not isinstance(n_fft, int) or n_fft < k:
        raise ValueError(f"n_fft: expected an integer at least the filter size ({k}), got {n_fft!r}")
    spectrum = torch.fft.fft2(w, s=(n_fft, n_fft))
    return torch.fft.fftfreq(n_fft), spectrum.abs().pow(2).sum(1)


def aliasing(weight, stride: int | None = None, n_fft: int | None = None) -> torch.Tensor:
    """Share of each filter's power above the Nyquist frequency of its stride (§4.1: "aliasing artifacts caused by
    the large stride 4 used in the 1st layer convolutions").

    Sampling the filter's output every s pixels keeps, without folding, exactly the frequencies with
    |f_x| ≤ 1/(2s) and |f_y| ≤ 1/(2s) cycles/pixel; the rest aliases. With P_j from :func:`filter_power`,

        alias_j = Σ_{max(|f_x|, |f_y|) > 1/(2s)} P_j(f)  /  Σ_f P_j(f)        (0 = none, 1 = all of it).

    Args:
        weight: an ``nn.Conv2d`` (its stride is used) or a weight tensor (C_out, C_in, k, k) with ``stride``.
        stride: s; overrides the conv's own.
        n_fft: DFT size (default max(64, 4k)).

    Returns:
        (C_out,) shares in [0, 1]; an all-zero filter gets 0.

    Example (white-noise filters spread their power evenly; stride 4 keeps about 1/16 of it unfolded):
        >>> w = torch.randn(200, 3, 11, 11, generator=torch.Generator().manual_seed(0))
        >>> round(float(aliasing(w, stride=4).mean()), 2)
        0.93
    """
    w, stride = _weight_and_stride(weight, stride)
    if stride is None:
        raise ValueError("stride: a weight tensor needs its stride (or pass the nn.Conv2d itself)")
    f, power = filter_power(w, n_fft)
    nyquist = 1 / (2 * stride)
    outside = torch.maximum(f.abs()[:, None], f.abs()[None, :]) > nyquist + 1e-9
    total = power.flatten(1).sum(1)
    return torch.where(total > 0, (power * outside).flatten(1).sum(1) / total.clamp_min(1e-30), torch.zeros_like(total))


@dataclass
class RadialSpectrum:
    """Each filter's power by radial frequency |f| = sqrt(f_x² + f_y²) (§4.1). See :func:`radial_spectrum`.

    Attributes:
        edges: (B + 1,) bin edges in cycles/pixel, 0 … √½ (the corner of the DFT square).
        power: (C, B) each filter's share of its power per bin (rows sum to 1; 0 for an all-zero filter).
        centroid: (C,) mean frequency Σ_f |f| P_j(f) / Σ_f P_j(f).
        peak: (C,) centre of the bin holding most of the filter's power.
    """
    edges: torch.Tensor
    power: torch.Tensor
    centroid: torch.Tensor
    peak: torch.Tensor

    @property
    def centres(self) -> torch.Tensor:
        return (self.edges[1:] + self.edges[:-1]) / 2

    def bands(self, low: float = 1 / 6, high: float = 1 / 3, by: str = "centroid") -> dict:
        """Share of filters whose ``by`` frequency ("centroid" or "peak") is low (< ``low``), mid, or high
        (≥ ``high``) — the paper's "mix of extremely high and low frequency ... little coverage of the mid"."""
        if by not in ("centroid", "peak"):
            raise ValueError(f"by: expected 'centroid' or 'peak', got {by!r}")
        if not 0 < low < high:
            raise ValueError(f"low, high: expected 0 < low < high, got {low}, {high}")
        v = getattr(self, by)
        n = max(len(v), 1)
        return {"low": float((v < low).sum()) / n, "mid": float(((v >= low) & (v < high)).sum()) / n,
                "high": float((v >= high).sum()) / n}


def radial_spectrum(weight, n_fft: int | None = None, bins: int = 12) -> RadialSpectrum:
    """Radial power spectrum of each filter (§4.1: "a mix of extremely high and low frequency information, with
    little coverage of the mid frequencies").

    With P_j from :func:`filter_power`, bin b collects R_j(b) = Σ_{|f| ∈ bin b} P_j(f) / Σ_f P_j(f) over ``bins``
    equal bins of |f| from 0 to √½ cycles/pixel; the centroid is Σ_f |f| P_j(f) / Σ_f P_j(f).

    Args:
        weight: an ``nn.Conv2d`` or a weight tensor (C_out, C_in, k, k).
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins: expected a positive integer, got {bins!r}")
    f, power = filter_power(weight, n_fft)
    radius = torch.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    edges = torch.linspace(0, 0.5 ** 0.5 + 1e-6, bins + 1)
    which = (torch.bucketize(radius.flatten(), edges, right=True) - 1).clamp(0, bins - 1)
    flat = power.flatten(1)
    total = flat.sum(1, keepdim=True)
    safe = total.clamp_min(1e-30)
    share = torch.zeros(len(flat), bins).index_add_(1, which, flat) / safe
    share = torch.where(total > 0, share, torch.zeros_like(share))
    centroid = torch.where(total[:, 0] > 0, (flat * radius.flatten()).sum(1) / safe[:, 0], torch.zeros(len(flat)))
    centres = (edges[1:] + edges[:-1]) / 2
    return RadialSpectrum(edges, share, centroid, centres[share.argmax(1)])


# ----------------------------------------------------------------------------------------------------------------
# 3. Layer-2 response under small shifts
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class ShiftSensitivity:
    """How a layer's response moves when the input shifts by a few pixels (§4.1). See :func:`shift_sensitivity`.

    Attributes:
        layer: the layer's full name; shifts: (K,) the shifts δ in pixels; directions: the axes used.
        change: (N, K) per image, mean over directions of ‖φ(x_δ) − φ(x_0)‖ / ‖φ(x_0)‖ (maps compared unit by unit).
        pooled_change: (N, K) the same for each map's spatial mean, m_c = mean_{u,v} φ_c(u, v): a shift-equivariant
            layer leaves m unchanged (up to borders), so this isolates what depends on the stride grid's phase.
    """
    layer: str
    shifts: torch.Tensor
    directions: tuple
    change: torch.Tensor
    pooled_change: torch.Tensor

    def mean(self, pooled: bool = False) -> torch.Tensor:
        """(K,) mean over images."""
        return (self.pooled_change if pooled else self.change).mean(0)


@torch.no_grad()
def shift_sensitivity(model: nn.Module, images: torch.Tensor, layer: str | int | None = None, shifts=(1, 2, 3),
                      directions=("x", "y"), progress: bool = True) -> ShiftSensitivity:
    """Response change of a layer (default layer 2, after its ReLU) when the input moves by δ = 1, 2, 3 pixels (§4.1).

    Each image is larger than the model's input S; the reference window x_0 is the S × S crop at offset o (centred,
    leaving room for the largest shift) and x_δ the crop at o + δ along x (columns) or y (rows). For each δ,

        change(δ) = ‖φ(x_δ) − φ(x_0)‖ / ‖φ(x_0)‖,      pooled(δ) = ‖m(x_δ) − m(x_0)‖ / ‖m(x_0)‖,

    m the vector of per-map spatial means, each averaged over ``directions``. Unit-by-unit change mixes the
    legitimate displacement of the maps with aliasing; the pooled change is zero for a shift-equivariant layer away
    from borders and grows when a stride larger than the signal's bandwidth allows makes the response depend on the
    input's phase relative to the sampling grid (the artifacts of Fig. 6d).

    Args:
        model: a torchvision-style convnet taking S × S input (``model.input_size``, else 224).
        images: (N, 3, H, W) input space with H, W ≥ S + max(shifts) (crop from renders larger than the input).
        layer: default the second ReLU of ``features`` (relu2 / features.4).
        shifts: positive integer pixel shifts.
        directions: any of ``"x"``, ``"y"``.
    """
    size = input_size_of(model)
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images: expected a (N, 3, H, W) input-space batch, got {shape}")
    shifts = [int(s) for s in shifts]
    if not shifts or any(s < 1 for s in shifts):
        raise ValueError(f"shifts: expected positive integer pixel shifts, got {shifts}")
    directions = tuple(directions)
    if not directions or any(d not in ("x", "y") for d in directions):
        raise ValueError(f"directions: expected some of 'x', 'y', got {directions}")
    h, w = images.shape[-2:]
    need = size + max(shifts)
    if h < need or w < need:
        raise ValueError(f"images: {h}×{w} is too small for {max(shifts)}-pixel shifts of a {size}-pixel input "
                         f"(needs at least {need}×{need}); pass renders larger than the model's input")
    name = nth_relu(model, 2) if layer is None else resolve(model, layer)[0]
    oy, ox = (h - need) // 2, (w - need) // 2
    windows = [(oy, ox)] + [(oy + s, ox) if d == "y" else (oy, ox + s) for s in shifts for d in directions]
    device = next(model.parameters()).device
    change, pooled = [], []
    for x in tqdm(images, desc=f"{name} under shifts", disable=not progress, leave=False):
        crops = torch.stack([x[:, y:y + size, z:z + size] for y, z in windows])
        a = activations(model, crops.to(device), [name])[name].float().cpu()
        full = a.flatten(1)
        mean = a.flatten(2).mean(2) if a.dim() == 4 else full  # per-map spatial means (C,) per window
        def rel(v):
            return ((v[1:] - v[0]).norm(dim=1) / v[0].norm().clamp_min(1e-12)).view(len(shifts), len(directions))
        change.append(rel(full).mean(1))
        pooled.append(rel(mean).mean(1))
    return ShiftSensitivity(name, torch.tensor(shifts), directions, torch.stack(change), torch.stack(pooled))
