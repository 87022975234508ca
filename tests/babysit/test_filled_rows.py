"""Rows filled in wholesale (babysit/filled_rows.py): a block of columns with one value each on the
same rows, found only where the probes predict those rows worse."""
import numpy as np
import torch

from trainwell.babysit import filled_rows as fr
from trainwell.babysit.input_content import check_inputs_informative


def customers(n=2400, seed=0, unmatched=0.4, fill=0.0, class_ids=False):
    """Orders of customers: basket size and weekday of the order, and three columns joined from a
    region table (median income, density, distance to a depot) that set most of the target; the
    join leaves ``unmatched`` of the rows without a region, filled with ``fill``."""
    g = np.random.default_rng(seed)
    regions = 60
    income, density, depot = g.normal(size=(3, regions))
    region = g.integers(0, regions, n)
    basket, weekday = g.gamma(3, 1, n), g.integers(0, 7, n)
    y = 1.2 * income[region] + 0.8 * density[region] - 0.6 * depot[region] + 0.2 * basket + g.normal(0, 0.3, n)
    joined = np.column_stack([50 + 10 * income[region], 300 + 80 * density[region], 12 + 4 * depot[region]])
    lost = g.random(n) < unmatched
    joined[lost] = fill
    x = np.column_stack([basket, np.sin(2 * np.pi * weekday / 7), joined]).astype(np.float32)
    x = (x - x.mean(0)) / x.std(0)
    t = torch.tensor(np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))) if class_ids \
        else torch.tensor(((y - y.mean()) / y.std())[:, None], dtype=torch.float32)
    return torch.tensor(x), t, lost


def codes(found):
    return [f.code for f in found]


def test_a_join_that_missed_many_rows_is_found_and_named():
    x, y, lost = customers()
    block = fr.filled_block(x.double())
    assert block["columns"] == [2, 3, 4]
    assert torch.equal(block["rows"], torch.tensor(lost[:x.shape[0]]))
    found = fr.check_filled_rows(x, y, class_ids=False)
    assert codes(found) == ["uninformative_inputs"] and found[0].severity == "warning"
    f = found[0]
    assert f.evidence["columns"] == [2, 3, 4] and abs(f.evidence["filled_share"] - lost.mean()) < 1e-9
    assert f.evidence["filled_unexplained"] >= 1.25 * f.evidence["others_unexplained"]
    assert f.evidence["p"] < f.evidence["p_threshold"]
    assert "[2, 3, 4]" in f.message and f"{lost.mean():.0%}" in f.message
    # the pre-flight's entry point runs it
    assert codes(check_inputs_informative(x, y, class_ids=False)) == ["uninformative_inputs"]


def test_class_ids_and_a_mean_fill_are_found_too():
    x, y, _ = customers(seed=1, unmatched=0.25, fill=-1.0, class_ids=True)
    assert codes(fr.check_filled_rows(x, y, class_ids=True)) == ["uninformative_inputs"]


def test_the_join_matched_every_row_is_quiet():
    x, y, _ = customers(unmatched=0.0)
    assert fr.filled_block(x.double()) is None
    assert fr.check_filled_rows(x, y, class_ids=False) == []


def test_a_structural_zero_block_whose_rows_learn_as_well_is_quiet():
    """Loan amount, rate and term are 0 for applicants without a loan; their target depends on what
    they have, so the block is there but those rows are predicted as well as the others."""
    g = np.random.default_rng(3)
    n = 2400
    age, income = g.uniform(20, 70, n), g.normal(size=n)
    has = g.random(n) < 0.5
    amount, rate, term = np.where(has, g.gamma(4, 5, n), 0), np.where(has, g.uniform(2, 9, n), 0), \
        np.where(has, g.integers(12, 120, n), 0)
    score = 0.04 * age + income + has * (0.03 * amount + 0.2 * rate) + g.normal(0, 0.3, n)
    x = np.column_stack([age, income, amount, rate, term]).astype(np.float32)
    x = torch.tensor((x - x.mean(0)) / x.std(0))
    y = torch.tensor(((score - score.mean()) / score.std())[:, None], dtype=torch.float32)
    block = fr.filled_block(x.double())
    assert block is not None and block["columns"] == [2, 3, 4]
    assert fr.check_filled_rows(x, y, class_ids=False) == []


def test_one_spiked_column_and_flags_filled_together_are_no_block():
    g = np.random.default_rng(4)
    n = 2000
    rows = g.random(n) < 0.5
    spend = np.where(rows, 0.0, g.gamma(2, 10, n))            # zero-inflated: one column alone
    flags = np.column_stack([np.where(rows, 0, g.integers(0, 2, n)) for _ in range(3)])   # binary: codes by design
    x = torch.tensor(np.column_stack([g.normal(size=n), spend, flags]).astype(np.float32))
    assert fr.filled_block(x.double()) is None
    y = torch.tensor(rows.astype(np.int64))
    assert fr.check_filled_rows(x, y, class_ids=True) == []


def test_images_and_small_inputs_are_not_read():
    x = torch.zeros(500, 1, 8, 8)
    assert fr.check_filled_rows(x, torch.zeros(500, dtype=torch.long), class_ids=True) == []
    x, y, _ = customers(n=150)
    assert fr.check_filled_rows(x, y, class_ids=False) == []
