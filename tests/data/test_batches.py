import torch

from trainwell.data.batches import Batches


def _data(n=10):
    return torch.arange(n, dtype=torch.float32).view(n, 1), torch.arange(n)


def test_an_epoch_is_a_seeded_shuffle_without_replacement():
    X, y = _data(10)
    b = Batches(X, y, batch_size=3, seed=1)
    seen = torch.cat([yb for _, yb in b])
    assert len(b) == 4 and sorted(seen.tolist()) == list(range(10))
    again = torch.cat([yb for _, yb in Batches(X, y, batch_size=3, seed=1)])
    other = torch.cat([yb for _, yb in Batches(X, y, batch_size=3, seed=2)])
    assert torch.equal(seen, again) and not torch.equal(seen, other)
    second_epoch = torch.cat([yb for _, yb in b])
    assert not torch.equal(seen, second_epoch)  # reshuffled


def test_inputs_and_labels_stay_paired():
    X, y = _data(10)
    for xb, yb in Batches(X, y, batch_size=4, seed=0):
        assert torch.equal(xb.view(-1).long(), yb)


def test_no_shuffle_keeps_the_order_and_full_batch_is_one_batch():
    X, y = _data(7)
    assert torch.equal(torch.cat([yb for _, yb in Batches(X, y, batch_size=3, shuffle=False)]), y)
    full = list(Batches(X, y, batch_size=100))
    assert len(full) == 1 and full[0][1].shape[0] == 7


def test_replacement_and_drop_last():
    X, y = _data(10)
    b = Batches(X, y, batch_size=4, replacement=True, drop_last=True, seed=0)
    batches = [yb for _, yb in b]
    assert len(batches) == 2 and all(len(t) == 4 for t in batches)
    draws = torch.cat([torch.cat([yb for _, yb in Batches(X, y, batch_size=10, replacement=True, seed=s)])
                       for s in range(20)])
    assert len(torch.unique(draws)) == 10
    assert any(len(torch.unique(yb)) < 10 for _, yb in Batches(X, y, batch_size=10, replacement=True, seed=3))


def test_state_dict_resumes_mid_epoch_exactly():
    X, y = _data(20)
    a = Batches(X, y, batch_size=3, seed=5)
    it = iter(a)
    [next(it) for _ in range(3)]
    saved = a.state_dict()
    rest = [yb for _, yb in it] + [yb for _, yb in a]
    b = Batches(X, y, batch_size=3, seed=99)
    b.load_state_dict(saved)
    replay = [yb for _, yb in b] + [yb for _, yb in b]
    assert len(rest) == len(replay) and all(torch.equal(p, q) for p, q in zip(rest, replay))


def test_ranks_shards_concatenate_to_the_one_process_batch_of_world_times_b():
    from trainwell.data.batches import global_steps, shard_indices
    for n, b, world in [(100, 8, 2), (101, 8, 2), (17, 3, 3), (10, 4, 1), (7, 5, 2)]:
        X, y = _data(n)
        one = Batches(X, y, batch_size=b * world, seed=4)
        ranks = [Batches(X, y, batch_size=b, seed=4, rank=r, world=world) for r in range(world)]
        assert all(len(r) == global_steps(n, batch_size=b, world=world) for r in ranks)
        assert len(one) - len(ranks[0]) in (0, 1)  # 1: a last batch under `world` examples
        shards = [[yb for _, yb in r] for r in ranks]
        whole = [yb for _, yb in one]
        for step in range(len(ranks[0])):
            sizes = {len(s[step]) for s in shards}
            assert len(sizes) == 1  # equal per-rank batches, also the last one
            joined = torch.cat([s[step] for s in shards])
            assert torch.equal(joined, whole[step][:len(joined)])
            assert len(whole[step]) - len(joined) < world  # at most world - 1 skipped
        order = torch.arange(n)
        assert torch.equal(shard_indices(order, 0, batch_size=b, rank=world - 1, world=world),
                           order[(world - 1) * min(b, n // world):world * min(b, n // world)])


def test_the_last_partial_global_batch_is_split_evenly_or_dropped():
    from trainwell.data.batches import global_steps
    assert global_steps(101, batch_size=8, world=2) == 7          # 96 + 5 -> 2 each, 1 skipped
    assert global_steps(101, batch_size=8, world=2, drop_last=True) == 6
    assert global_steps(97, batch_size=8, world=2) == 6           # 96 + 1 -> too few for 2 ranks
    assert global_steps(10, batch_size=3) == 4                    # world 1: ceil as before
    X, y = _data(101)
    last = list(Batches(X, y, batch_size=8, shuffle=False, rank=1, world=2))[-1][1]
    assert last.tolist() == [98, 99]
    import pytest
    with pytest.raises(ValueError, match="rank 2"):
        Batches(X, y, batch_size=8, rank=2, world=2)
