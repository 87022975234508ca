"""The cost of two data checks of the pre-flight, cut exactly: a table's column (one number a row) counted
by a 1-D sort in the copy check, and a column of too few values skipped by the missing-value codes."""
import torch

from trainwell.babysit import duplicate_inputs
from trainwell.babysit.duplicate_inputs import _varying, check_duplicate_inputs


def _rowwise_varying(s: torch.Tensor) -> bool:
    """The reference: every slice's contents counted row-wise (``dim=0``), whatever its width."""
    _, counts = torch.unique(s, dim=0, return_counts=True)
    return bool(counts.max() < duplicate_inputs.CONSTANT_ROWS * s.shape[0])


def test_a_columns_verdict_is_the_rowwise_count_for_every_dtype_and_tie_pattern():
    g = torch.Generator().manual_seed(0)
    columns = [torch.randn(400, 1, generator=g),                                  # all distinct
               torch.zeros(400, 1),                                               # constant
               torch.tensor([[0.0], [-0.0]]).repeat(200, 1),                      # signed zeros: one value
               (torch.rand(400, 1, generator=g) < 0.995).float(),                 # nearly constant
               (torch.rand(400, 1, generator=g) < 0.5).float()]                   # two codes
    columns += [(torch.randn(400, 1, generator=g) * 3).round().to(dt)
                for dt in (torch.float16, torch.bfloat16, torch.int8, torch.uint8, torch.int64, torch.float64)]
    verdicts = [_varying(c) for c in columns]
    assert verdicts == [_rowwise_varying(c) for c in columns]
    assert verdicts[:5] == [True, False, False, False, True]      # the reference is not vacuous


def test_a_table_takes_no_rowwise_unique_and_an_image_one_per_channel(monkeypatch):
    rowwise = []
    unique = torch.unique

    def counting(x, *args, **kwargs):
        if kwargs.get("dim") is not None:
            rowwise.append(tuple(x.shape))
        return unique(x, *args, **kwargs)

    monkeypatch.setattr(torch, "unique", counting)
    g = torch.Generator().manual_seed(1)
    table = torch.randn(500, 64, generator=g).round(decimals=1)
    table[:, 5] = table[:, 2]                                       # a repeated column: info
    found = check_duplicate_inputs(table)
    assert rowwise == []
    assert [(f.code, f.severity, f.evidence["copies"]) for f in found] == [("uninformative_inputs", "info", [[2, 5]])]
    images = torch.randn(200, 3, 6, 6, generator=g)
    images[:, 1] = images[:, 0]                                     # two of three channels: a warning
    found = check_duplicate_inputs(images)
    assert rowwise == [(200, 36)] * 3
    assert [(f.severity, f.evidence["copies"]) for f in found] == [("warning", [[0, 1]])]


# ------------------------------------------------------------------ missing-value codes (value_codes)
def _coded(bulk_values: int, *, code: float = -99.0) -> torch.Tensor:
    """One column of 1000 rows: a far code in 50, and ``bulk_values`` integers 0, 1, ... whose two ends
    fill 100 and 150 rows (so the column's 10th and 90th percentiles fall on them and the bulk keeps
    them), the values between them the rest."""
    middle = torch.arange(1, bulk_values - 1).repeat_interleave(700 // (bulk_values - 2) + 1)[:700]
    x = torch.cat([torch.full((50,), code), torch.zeros(100), middle.double(),
                   torch.full((150,), float(bulk_values - 1))])
    return x[torch.randperm(x.numel(), generator=torch.Generator().manual_seed(2))].reshape(-1, 1)


def test_a_code_beside_exactly_min_distinct_bulk_values_is_found_and_beside_fewer_is_not():
    from trainwell.babysit.value_codes import MIN_DISTINCT, find_codes
    found = find_codes(_coded(MIN_DISTINCT))          # MIN_DISTINCT + 1 values in all: read
    assert [(c["column"], c["value"]) for c in found] == [(0, -99.0)]
    assert find_codes(_coded(MIN_DISTINCT - 1)) == []  # MIN_DISTINCT in all: no bulk beside any code


def test_columns_of_few_values_take_no_bulk_quantiles(monkeypatch):
    from trainwell.babysit import value_codes
    calls = []
    quantile = value_codes.sorted_quantiles      # the quantiles find_codes reads off a sorted column

    def counting(*args, **kwargs):
        calls.append(1)
        return quantile(*args, **kwargs)

    monkeypatch.setattr(value_codes, "sorted_quantiles", counting)
    g = torch.Generator().manual_seed(3)
    pixels = torch.randint(0, 17, (1000, 64), generator=g).double()      # 17 levels a column, as digits' pixels
    assert value_codes.find_codes(pixels) == []
    assert calls == []
    value_codes.find_codes(_coded(value_codes.MIN_DISTINCT))
    assert len(calls) > 0                                                  # the counter sees a column that is read
