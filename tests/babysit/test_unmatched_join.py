"""A join that left most rows unmatched and told the others nothing (babysit/unmatched_join.py)."""
import numpy as np
import torch

from trainwell.babysit import unmatched_join as uj
from trainwell.babysit.input_content import check_inputs_informative


def deliveries(n=1800, seed=0, unmatched=0.6, wrong=True, class_ids=True):
    """Parcel deliveries: parcel weight, a weekday flag, and three columns joined from a depot table
    (queue length, staff on shift, distance) that set most of the delay. The join leaves
    ``unmatched`` of the rows without a depot, filled with the joined columns' mean; ``wrong``: the
    rows it does match get another depot's row (a key read another way)."""
    g = np.random.default_rng(seed)
    depots = 80
    queue, staff, distance = g.normal(size=(3, depots))
    depot = g.integers(0, depots, n)
    weight, weekend = g.gamma(2, 1, n), (g.random(n) < 2 / 7).astype(float)
    delay = 1.3 * queue[depot] - 0.9 * staff[depot] + 0.7 * distance[depot] + 0.2 * weight + g.normal(0, 0.3, n)
    looked_up = g.integers(0, depots, n) if wrong else depot
    joined = np.column_stack([20 + 6 * queue[looked_up], 9 + 2 * staff[looked_up], 15 + 5 * distance[looked_up]])
    lost = g.random(n) < unmatched
    joined[lost] = joined[~lost].mean(0)                         # fillna(df.mean())
    x = np.column_stack([weight, weekend, joined])
    x = (x - x.mean(0)) / x.std(0)
    t = torch.tensor(np.digitize(delay, np.quantile(delay, [1 / 3, 2 / 3]))) if class_ids \
        else torch.tensor(((delay - delay.mean()) / delay.std())[:, None], dtype=torch.float32)
    return torch.tensor(x, dtype=torch.float32), t, lost


def codes(found):
    return [f.code for f in found]


def test_a_join_that_missed_most_rows_and_matched_the_rest_wrongly_is_found():
    for class_ids in (True, False):
        x, y, lost = deliveries(class_ids=class_ids)
        found = uj.check_unmatched_join(x, y, class_ids=class_ids)
        assert codes(found) == ["uninformative_inputs"] and found[0].severity == "warning", class_ids
        e = found[0].evidence
        assert e["columns"] == [2, 3, 4] and e["filled_share"] >= uj.MAJORITY and e["unmatched_join"]
        assert e["matched_rows"] == int((~torch.tensor(lost)).sum())
        assert "month first" in found[0].message
        # the pre-flight's content checks reach it: the filled rows learn no worse than the wrongly matched ones
        assert codes(check_inputs_informative(x, y, class_ids=class_ids)) == ["uninformative_inputs"]


def test_a_join_whose_matched_rows_are_right_is_quiet():
    # the same share unmatched, the matched rows given their own depot: the columns tell them much
    x, y, _ = deliveries(wrong=False)
    block = uj.filled_rows.filled_block(x.double())
    gains = uj.block_gain(x.double(), y, block, class_ids=True)
    assert max(r["with"] - r["without"] for r in gains) >= 0.1
    assert uj.check_unmatched_join(x, y, class_ids=True) == []


def test_a_join_that_missed_under_half_the_rows_is_left_to_filled_rows():
    x, y, _ = deliveries(unmatched=0.3)
    assert 0.2 < uj.filled_rows.filled_block(x.double())["share"] < uj.MAJORITY
    assert uj.check_unmatched_join(x, y, class_ids=True) == []


def test_a_table_without_a_filled_block_or_too_few_matched_rows_is_not_read():
    x, y, _ = deliveries(unmatched=0.0)
    assert uj.check_unmatched_join(x, y, class_ids=True) == []
    x, y, _ = deliveries(n=600, unmatched=0.7)                  # ~180 matched rows < first_layer.MIN_ROWS
    block = uj.filled_rows.filled_block(x.double())
    assert block is not None and uj.block_gain(x.double(), y, block, class_ids=True) is None
    assert uj.check_unmatched_join(x, y, class_ids=True) == []
    assert uj.check_unmatched_join(x[:, :, None], y, class_ids=True) == []      # not a table
