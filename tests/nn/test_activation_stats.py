import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "examples" / "activation_stats.py"
_spec = importlib.util.spec_from_file_location("activation_stats", _PATH)
activation_stats = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(activation_stats)


@pytest.fixture(scope="module")
def stats():
    return activation_stats.activation_statistics(seed=0)


def test_the_notes_five_setups_reproduce(stats):
    # notes 004 tables; bounds cover the spread over seeds (measured 0..3, see docs/init.md)
    small = stats["tanh_small"]["std"]
    assert small[0] == pytest.approx(0.213, abs=0.01) and small[-1] < 1e-5  # collapses to 0
    assert all(b < 0.3 * a for a, b in zip(small, small[1:]))
    assert all(abs(s - 0.982) < 0.01 for s in stats["tanh_unit"]["std"])     # saturated at ±1
    sat = (stats["tanh_unit"]["activations"][-1].abs() > 0.99).float().mean().item()
    assert sat > 0.8
    xav = stats["tanh_xavier"]["std"]
    assert xav[0] == pytest.approx(0.628, abs=0.02) and xav[-1] == pytest.approx(0.228, abs=0.02)
    relu_x = stats["relu_xavier"]
    assert relu_x["std"][0] == pytest.approx(0.582, abs=0.02)
    assert 0.012 < relu_x["std"][-1] < 0.045 and 0.008 < relu_x["mean"][-1] < 0.03
    he = stats["relu_he"]["std"]
    assert all(0.6 < s < 1.05 for s in he)                                    # stays ≈ 0.8
    assert all(abs(m) < 0.01 for m in stats["tanh_xavier"]["mean"])


def test_outputs_are_written(tmp_path):
    stats = activation_stats.activation_statistics(layers=10, width=50, batch=100)
    paths = activation_stats.write_outputs(stats, tmp_path)
    assert {p.name for p in paths} >= {"activation_stats.csv", "means_stds.png",
                                       "histograms_relu_he.png"}
    assert all(p.stat().st_size > 1000 for p in paths if p.suffix == ".png")
    rows = (tmp_path / "activation_stats.csv").read_text().splitlines()
    assert len(rows) == 1 + 5 * 10
    assert "hidden layer 10 had mean" in activation_stats.format_table(stats)
    assert rows[0].split(",") == ["setup", "layer", "mean", "std", "notes_std"]
    assert rows[10].split(",")[-1] == "0" and rows[1].split(",")[-1] == "0.213081"   # tanh_small
    assert rows[2].split(",")[-1] == ""                # the notes give layers 1 and 10 only


def test_table_prints_the_notes_column(stats):
    table = activation_stats.format_table(stats).splitlines()
    header = table.index("std compared with notes 004 (10 layers of 500 units, 1000 samples)")
    assert table[header + 1].split() == ["setup", "layer", "ours", "notes"]
    rows = {(r.split()[0], int(r.split()[1])): r.split()[2:] for r in table[header + 2:]}
    assert len(rows) == 10
    for (name, layer), (ours, notes) in rows.items():
        first, tenth = activation_stats.NOTES_STD[name]
        assert float(notes) == pytest.approx(first if layer == 1 else tenth, abs=1e-6)
        assert float(ours) == pytest.approx(stats[name]["std"][layer - 1], abs=1e-6)
    assert rows[("tanh_xavier", 10)] == [f"{stats['tanh_xavier']['std'][9]:.6f}", "0.228008"]
