"""The in-memory batch path: tensors live on the training device, batches are index slices.

An epoch is a permutation drawn from a seeded ``torch.Generator`` (sampling without
replacement), or ``N`` indices drawn with replacement, or the given order when
``shuffle=False``. No per-sample Python, no DataLoader workers, no collation: one
``index_select`` per batch (airbench's recipe).

Under data-parallel training (docs/distributed.md) every rank draws the SAME seeded order and
takes its shard of each global step by ``shard_indices``: the one index rule, shared with the
streaming source, so ``world`` ranks with batch ``B`` see per step exactly the examples one
process sees with batch ``world * B``.
"""
from __future__ import annotations

import torch


def shard_indices(order: torch.Tensor, step: int, *, batch_size: int, rank: int = 0,
                  world: int = 1) -> torch.Tensor:
    """Rank ``rank``'s indices of global step ``step`` of the epoch order ``order``.

    Global step ``s`` covers positions ``[s*B*world, (s+1)*B*world)`` of the order and rank ``r``
    takes ``[s*B*world + r*B, s*B*world + (r+1)*B)``. The last, partial global batch of ``m``
    positions is split evenly: every rank takes ``m // world`` of them and the last ``m % world``
    positions are skipped (at most ``world - 1`` per epoch; none when ``world == 1``). Equal
    per-rank sizes keep the mean of the ranks' mean losses (what DDP's gradient average computes)
    equal to the mean loss over the global batch.
    """
    start = step * batch_size * world
    per_rank = min(batch_size, (order.shape[0] - start) // world)
    lo = start + rank * per_rank
    return order[lo:lo + per_rank]


def draw_order(n: int, generator: torch.Generator, *, shuffle: bool, replacement: bool) -> torch.Tensor:
    """An epoch's order on the CPU: the given order, ``n`` indices drawn with replacement, or a
    seeded permutation (``Batches`` and ``data.streaming.StreamBatches`` both draw with it)."""
    if not shuffle:
        return torch.arange(n)
    if replacement:
        return torch.randint(n, (n,), generator=generator)
    return torch.randperm(n, generator=generator)


def global_steps(n: int, *, batch_size: int, world: int = 1, drop_last: bool = False) -> int:
    """Steps per epoch under ``shard_indices``: a last partial global batch counts unless
    ``drop_last`` or it holds fewer than ``world`` positions (no rank would get an example)."""
    full, rest = divmod(n, batch_size * world)
    return full + (1 if rest >= world and not drop_last else 0)


class Batches:
    """Seeded, resumable mini-batches over in-memory tensors ``X, y``.

    ``state_dict()`` holds the generator state, the current epoch's order and the position
    inside it, so a run resumed mid-epoch sees exactly the batches it would have seen.
    A ``batch_size`` at least the number of samples gives full-batch gradient descent.
    ``rank``/``world`` select this process's shard of every global step (``shard_indices``);
    ``batch_size`` is then the per-rank batch.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, *, batch_size: int, shuffle: bool = True,
                 replacement: bool = False, drop_last: bool = False, seed: int = 0,
                 rank: int = 0, world: int = 1):
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is outside 0..{world - 1} (world size {world})")
        self.X, self.y = X, y
        self.n = X.shape[0]
        self.rank, self.world = rank, world
        self.batch_size = max(1, min(batch_size, self.n // world))
        self.shuffle, self.replacement, self.drop_last = shuffle, replacement, drop_last
        self.generator = torch.Generator().manual_seed(seed)
        self.order: torch.Tensor | None = None   # this epoch's indices, on X's device
        self.position = 0                        # index of the next batch in this epoch

    def __len__(self) -> int:
        return global_steps(self.n, batch_size=self.batch_size, world=self.world,
                            drop_last=self.drop_last)

    def new_epoch(self) -> None:
        """Draw the next epoch's order (on the CPU generator, then one copy to the device)."""
        order = draw_order(self.n, self.generator, shuffle=self.shuffle, replacement=self.replacement)
        self.order = order.to(self.X.device)
        self.position = 0

    def __iter__(self):
        """Yield the remaining batches of the current epoch (starting one if none is open)."""
        if self.order is None or self.position >= len(self):
            self.new_epoch()
        while self.position < len(self):
            idx = shard_indices(self.order, self.position, batch_size=self.batch_size,
                                rank=self.rank, world=self.world)
            self.position += 1
            yield self.X.index_select(0, idx), self.y.index_select(0, idx)
        self.order = None

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(),
                "order": self.order.cpu() if self.order is not None else None,
                "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        order = state["order"]
        self.order = order.to(self.X.device) if order is not None else None
        self.position = int(state["position"])
