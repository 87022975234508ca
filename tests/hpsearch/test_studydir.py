"""The study directory's search.toml: what --resume reads back."""
from trainwell.hpsearch.stages import parse_stages
from trainwell.hpsearch.studydir import SEARCH_FILE, read_search_file, write_search_file


def test_a_stage_without_epochs_is_written_and_reads_back_the_same(tmp_path):
    stages = [{"trials": 4, "epochs": 2}, {"trials": 2, "epochs": None}]
    write_search_file({"lr": 0.1, "seed": None}, {"stages": stages, "pruner": None}, tmp_path / SEARCH_FILE)
    options, table = read_search_file(tmp_path)
    assert options == {"lr": 0.1}
    assert table["stages"] == [{"trials": 4, "epochs": 2}, {"trials": 2}]
    assert parse_stages(table["stages"], None, 10) == parse_stages(stages, None, 10)
