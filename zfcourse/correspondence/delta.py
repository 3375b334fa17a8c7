"""The Δ score of §4.3 (Table 1): how consistently masking the same part changes the features of different images.

For images i = 1..N, ε_i = x_i − x̃_i is the change of the layer-l feature vector x_i (length D) when the same part
(say the left eye) is masked. If the network "knows" where the left eye is in every image, blocking it should move
the features the same way every time, so the sign patterns sign(ε_i) agree across images. The paper measures this as

    Δ_l = Σ_{i≠j} H(sign(ε_i), sign(ε_j))                                        (§4.3, literal form)

with H the Hamming distance, and sign ∈ {−1, 0, +1}. Its Table 1 reports numbers of 0.067–0.107 under the header
"Mean Feature Sign Change", which the literal sum cannot be: with N = 5 and D = 13·13·256 = 43,264 layer-5 values it
is an integer in [0, 20·D]. The only reading that gives numbers on that scale is the *mean over pairs of the fraction
of components whose sign differs*, which is what :func:`delta` returns:

    δ(a, b) = (1/D) · #{d : a_d ≠ b_d}                     (normalised Hamming distance, in [0, 1])
    Δ = 1/(N(N−1)) · Σ_{i≠j} δ(sign ε_i, sign ε_j)         (mean over ordered pairs; = mean over unordered pairs)

so Δ = Δ_literal / (D·N·(N−1)). Two reference points make the scale readable: Δ = 0 when every image changes the
same way, and Δ = 2/3 when the signs are independent and uniform on {−1, 0, +1} (two such signs differ with
probability 1 − 3·(1/3)² = 2/3). Rectified features (after ReLU) are mostly 0 both before and after masking, so
most components have sign(ε) = 0 in every image and agree; that is why the paper's values sit far below 2/3.

The computation compares int8 sign vectors: for each image i, one vectorised comparison against all later images
counts the differing components of the pairs (i, j > i) — N − 1 tensor operations, O(N²·D) byte comparisons and
O(N·D) memory. (An earlier version one-hot encoded the signs and used one (N, 3D) @ (3D, N) float64 product; on the
2-core development CPU that was 2–10× slower at the paper's N = 5, see bench/correspondence.md.)
"""
from __future__ import annotations

from collections.abc import Sequence

import torch


def as_eps(eps) -> torch.Tensor:
    """``eps`` as a checked (N, D) float tensor: N ≥ 2 rows of equal length D ≥ 1, no NaNs.

    Accepts an (N, D) tensor/array or a sequence of N 1-D tensors/arrays of the same length.
    Raises ValueError/TypeError naming ``eps`` otherwise.
    """
    if isinstance(eps, Sequence) and not isinstance(eps, (str, bytes)):
        rows = [torch.as_tensor(r) for r in eps]
        bad = [tuple(r.shape) for r in rows if r.dim() != 1]
        if bad:
            raise ValueError(f"eps: expected every row to be a 1-D feature vector, got shapes {bad}")
        lengths = sorted({r.numel() for r in rows})
        if len(lengths) > 1:
            raise ValueError(f"eps: rows have different lengths {lengths}; every image's features must have the same D")
        eps = torch.stack(rows) if rows else torch.empty(0, 0)
    elif not isinstance(eps, torch.Tensor):
        try:
            eps = torch.as_tensor(eps)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"eps: expected an (N, D) tensor, got {type(eps).__name__}") from err
    if eps.dim() != 2:
        raise ValueError(f"eps: expected an (N, D) tensor (one flattened feature change per image), "
                         f"got shape {tuple(eps.shape)}; flatten each image's features first")
    n, d = eps.shape
    if n < 2:
        raise ValueError(f"eps: Δ compares images in pairs, so it needs at least 2 rows (images), got {n}")
    if d < 1:
        raise ValueError("eps: rows are empty (D = 0)")
    if eps.is_floating_point() and torch.isnan(eps).any():
        rows = torch.isnan(eps).any(dim=1).nonzero().flatten().tolist()
        raise ValueError(f"eps: contains NaN in row(s) {rows}; sign(NaN) is undefined")
    return eps


def hamming_counts(eps) -> torch.Tensor:
    """(N, N) matrix of raw Hamming distances H(sign ε_i, sign ε_j): the number of the D components whose signs differ.

    Computed on int8 signs in {−1, 0, +1}, one vectorised comparison of image i against images i+1..N−1 at a time
    (§4.3).

    Example:
        >>> hamming_counts(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))
        tensor([[0, 1],
                [1, 0]])
    """
    eps = as_eps(eps)
    n = eps.shape[0]
    signs = torch.sign(eps).to(torch.int8)
    counts = torch.zeros(n, n, dtype=torch.long, device=eps.device)
    for i in range(n - 1):
        h = (signs[i + 1:] != signs[i]).sum(dim=1)                           # H(i, j) for every j > i at once
        counts[i, i + 1:] = h
        counts[i + 1:, i] = h
    return counts


def hamming_matrix(eps) -> torch.Tensor:
    """(N, N) matrix of normalised Hamming distances δ_ij = H(sign ε_i, sign ε_j) / D, each in [0, 1] (§4.3).

    Example:
        >>> hamming_matrix(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))
        tensor([[0.0000, 0.3333],
                [0.3333, 0.0000]], dtype=torch.float64)
    """
    eps = as_eps(eps)
    return hamming_counts(eps).double() / eps.shape[1]


def delta(eps) -> float:
    """Δ of §4.3 on Table 1's "Mean Feature Sign Change" scale: the mean over ordered pairs i ≠ j of the fraction of
    the D components where sign(ε_i) ≠ sign(ε_j), with sign ∈ {−1, 0, +1}:

        Δ = 1/(N(N−1)) · Σ_{i≠j} (1/D) · #{d : sign ε_id ≠ sign ε_jd}  =  delta_literal(eps) / (D·N·(N−1))

    0 when all images change the same way; ≈ 2/3 for independent uniformly random signs. Symmetric in the order of
    the images and unchanged by scaling ``eps`` by a positive factor. See the module docstring for why this
    normalisation (and not the paper's literal sum) matches Table 1's 0.07–0.11.

    Args:
        eps: (N, D) tensor, row i = ε_i = x_i − x̃_i (features of image i minus those of its masked copy, flattened),
            or a sequence of N 1-D tensors of equal length. N ≥ 2, no NaNs.

    Example:
        >>> delta(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))   # 1 of 3 signs differ in the only pair
        0.3333333333333333
    """
    eps = as_eps(eps)
    n = eps.shape[0]
    # The diagonal is 0 (a row never differs from itself), so summing everything sums the i ≠ j terms.
    return float(hamming_matrix(eps).sum() / (n * (n - 1)))


def delta_literal(eps) -> int:
    """The paper's formula read literally (§4.3): Δ_l = Σ_{i≠j} H(sign ε_i, sign ε_j), H the raw Hamming distance.

    Equals ``delta(eps) · D · N · (N − 1)``; an integer in [0, D·N·(N−1)] that grows with D and N, so it cannot be
    compared across layers or with Table 1 — use :func:`delta` for that.

    Example:
        >>> delta_literal(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))   # H = 1, counted for (1, 2) and (2, 1)
        2
    """
    return int(hamming_counts(eps).sum())


def delta_chance(eps) -> float:
    """The Δ that :func:`delta` would give if each image kept *how many* of its components go up, stay, and go down,
    but the components were shuffled independently per image — the "no correspondence" level for these rows (§4.3):

        Δ_chance = 1/(N(N−1)) · Σ_{i≠j} (1 − Σ_{s∈{−1,0,+1}} p_i(s) · p_j(s)),   p_i(s) = #{d : sign ε_id = s} / D

    Not in the paper. It separates the two things a low Δ can mean: changes that are *consistent* across images
    (Δ well below Δ_chance) and changes that are merely *rare* (most signs 0 in every image, so Δ_chance itself is
    low). For independent uniform signs p_i(s) = ⅓ and Δ_chance = 2/3; for equal rows Δ = 0 but Δ_chance need not be.

    Example:
        >>> delta_chance(torch.tensor([[1., 0.], [1., 0.]]))    # p = (0, ½, ½) for both: 1 − ½·½ − ½·½
        0.5
    """
    eps = as_eps(eps)
    n, d = eps.shape
    counts = torch.stack([(torch.sign(eps) == s).sum(dim=1) for s in (-1, 0, 1)], dim=1).double() / d   # (N, 3)
    agree = counts @ counts.T                                                   # Σ_s p_i(s) p_j(s)
    off = ~torch.eye(n, dtype=torch.bool)
    return float((1 - agree)[off].mean())
