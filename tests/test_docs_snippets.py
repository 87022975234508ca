"""Every TOML snippet in docs/*.md is a config trainwell accepts as written: its options pass the
config's checks, a [model] table builds on the bundled image sizes it is meant for, a [search] and
an [ensemble] table pass their own checks. A block that shows alternatives separates them with a
line `# or`; each alternative is checked on its own."""
import re
import tomllib
from pathlib import Path

import pytest
import torch

from trainwell.config import check_file_options, make_config
from trainwell.ensembles.methods import DEFAULT_MEMBERS, ensemble_options
from trainwell.hpsearch.settings import parse_settings
from trainwell.nn.models import build_model

DOCS = Path(__file__).parents[1] / "docs"
# the bundled sources' image shapes (docs/data.md): digits with images = true, mnist, cifar10
IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]
FLAT_SHAPE = (64,)        # digits as 64-vectors, the default source


def snippets():
    for page in sorted(DOCS.glob("*.md")):
        for i, block in enumerate(re.findall(r"```toml\n(.*?)```", page.read_text(), flags=re.S)):
            for j, part in enumerate(re.split(r"^# or\n", block, flags=re.M)):
                yield pytest.param(part, id=f"{page.name}#{i}.{j}")


SNIPPETS = list(snippets())


def test_the_docs_have_toml_snippets():
    assert len(SNIPPETS) >= 20, "the docs' TOML examples were not found (changed fence?)"


@pytest.mark.parametrize("text", SNIPPETS)
def test_docs_toml_snippet_is_a_valid_config(text):
    options = check_file_options(tomllib.loads(text), "snippet")
    search = options.pop("search", None)
    ensemble = options.pop("ensemble", None)
    config = make_config(options)
    if search is not None:
        search = dict(search)
        search.setdefault("space", {"lr": {"low": 1e-3, "high": 1.0}})   # a fragment adds to a space
        parse_settings(search, {**options, "model": options.get("model", {"type": "mlp"})})
    if ensemble is not None:
        ensemble = dict(ensemble)
        ensemble_options(ensemble.pop("method", "average"), ensemble.pop("members", DEFAULT_MEMBERS),
                         ensemble)
    if "model" in options:
        kind = config.model.get("type", "auto")
        shapes = IMAGE_SHAPES if kind in ("cnn", "resnet") else [FLAT_SHAPE]
        for shape in shapes:
            model = build_model(dict(config.model), shape, 10)
            assert model(torch.zeros(2, *shape)).shape == (2, 10)
