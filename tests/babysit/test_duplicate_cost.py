"""The copy check's cost on a table: a column (one number a row) is counted by a 1-D sort, the
same counts as the row-wise ``torch.unique(dim=0)`` that images' channels still take."""
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
