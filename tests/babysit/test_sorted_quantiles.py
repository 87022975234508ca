"""``value_codes.sorted_quantiles`` reads ``torch.quantile``'s values off a sorted column: the same
floats bit for bit (find_codes' decisions rest on them), on columns of codes, ties, grids and scales."""
import pytest
import torch

from trainwell.babysit import value_codes as vc

QS = ([vc.TAIL, 0.5, 1 - vc.TAIL], [vc.CENTRAL, 1 - vc.CENTRAL])


def _columns():
    g = torch.Generator().manual_seed(0)
    for n in (1, 2, 3, 100, 999, 1000, 2000):
        yield torch.randn(n, generator=g, dtype=torch.float64) * 1e3
        yield torch.randint(-999, 10000, (n,), generator=g).double()                  # integers with ties
        yield (torch.rand(n, generator=g, dtype=torch.float64) * 0.04 + 47.36).half().double()  # a float16 grid
        yield torch.cat([torch.full((n // 10,), -999.0, dtype=torch.float64),
                         torch.randn(n - n // 10, generator=g, dtype=torch.float64)])  # a code beside readings


@pytest.mark.parametrize("q", QS)
def test_sorted_quantiles_equal_torch_quantile_bit_for_bit(q):
    for column in _columns():
        v, _ = torch.sort(column)
        assert torch.equal(vc.sorted_quantiles(v, q), torch.quantile(v, torch.tensor(q, dtype=v.dtype)))


def test_find_codes_reports_what_torch_quantile_reports(monkeypatch):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2000, 4, generator=g, dtype=torch.float64)
    x[:160, 0] = -999.0
    x[:300, 2] = 9999.0
    found = vc.find_codes(x)
    monkeypatch.setattr(vc, "sorted_quantiles", lambda v, q: torch.quantile(v, torch.tensor(q, dtype=v.dtype)))
    assert found == vc.find_codes(x) and [c["column"] for c in found] == [0, 2]
