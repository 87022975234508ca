"""docs/ensembles.md lists every averaging option, ensemble method and method option, and the
distillation options (one registry each; adding one without its docs fails here)."""
from pathlib import Path

from trainwell.ensembles.distill import DISTILL_OPTIONS
from trainwell.ensembles.methods import ENSEMBLE_METHODS
from trainwell.train.average import AVERAGE_OPTIONS

DOCS = (Path(__file__).parents[2] / "docs" / "ensembles.md").read_text()


def test_every_option_and_method_is_documented():
    for method, options in AVERAGE_OPTIONS.items():
        assert f'method = "{method}"' in DOCS
        for name, option in options.items():
            assert f"| `{name}` |" in DOCS, (method, name)
            assert option.source, (method, name)
    for method, record in ENSEMBLE_METHODS.items():
        assert f"| `{method}` |" in DOCS, method
        for name in record.options:
            assert f"| `{method}` | `{name}` |" in DOCS, (method, name)
    for name in DISTILL_OPTIONS:
        assert f"| `{name}` |" in DOCS, name
