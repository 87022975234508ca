"""A run given a source name records that source in its options (config.json, config.toml), so
what is rebuilt from them (a resume, `trainwell landscape` and the other geometry commands)
loads the data the run trained on."""
import json

import pytest

import trainwell
from trainwell.geometry.runs import open_run
from trainwell.train.parts import data_table

QUICK = dict(epochs=1, progress=False, babysit="off", report=False)


@pytest.mark.parametrize("name, table, recorded", [
    ("iris", {"source": "digits"}, {"source": "iris"}),                   # the default table
    ("iris", {"source": "iris", "test_size": 0.3}, {"source": "iris", "test_size": 0.3}),
    ("iris", {"test_size": 0.3}, {"source": "iris", "test_size": 0.3}),  # a table naming no source
    ("iris", {"source": "wine", "test_size": 0.3}, {"source": "iris"}),   # another source's options
])
def test_data_table_is_the_named_source_with_its_own_options(name, table, recorded):
    assert data_table(name, table) == recorded


def test_a_run_on_a_named_source_records_it_and_reopens_on_it(tmp_path):
    run_dir = tmp_path / "iris"
    run = trainwell.fit({"type": "mlp", "widths": [8]}, "iris", run_dir=str(run_dir), **QUICK)
    assert run.config["data"] == {"source": "iris"}
    assert json.loads((run_dir / "config.json").read_text())["data"] == {"source": "iris"}
    assert 'source = "iris"' in (run_dir / "config.toml").read_text()
    reopened = open_run(run_dir)          # geometry's rebuild from the saved options
    assert tuple(reopened.train[0].shape[1:]) == (4,)
    assert len(reopened.test[1]) == len(run.splits.test[1])


def test_a_table_of_another_source_is_left_out_with_a_warning():
    with pytest.warns(UserWarning, match=r"data.source = 'wine' is not used: the data argument names the "
                                         r"source 'iris' \(the table's options, for 'wine', are left out\)"):
        run = trainwell.fit({"type": "mlp", "widths": [8]}, "iris", data={"source": "wine", "test_size": 0.3},
                            **QUICK)
    assert run.config["data"] == {"source": "iris"} and run.sample_shape == (4,)
