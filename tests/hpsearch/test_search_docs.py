"""docs/search.md lists every option of [search] (the table is generated) and the example runs."""
from pathlib import Path

from trainwell.config import read_toml
from trainwell.hpsearch.settings import parse_settings, settings_markdown

ROOT = Path(__file__).parents[2]


def test_docs_table_is_current():
    assert settings_markdown() in (ROOT / "docs" / "search.md").read_text(), \
        "docs/search.md: paste trainwell.hpsearch.settings.settings_markdown() over the old table"


def test_every_option_has_a_default_and_a_source():
    from trainwell.hpsearch.settings import SEARCH_OPTIONS
    missing = [name for name, o in SEARCH_OPTIONS.items() if not o.source.strip()]
    assert not missing, f"options without a source in docs/search.md's table: {missing}"


def test_example_config_is_valid():
    options = read_toml(ROOT / "examples" / "search.toml")
    settings = parse_settings(options.pop("search"), options)
    assert settings.space["lr"].log and [s.trials for s in settings.stages] == [40, 15]
