"""``module_use``: part of a called module that never reaches the output (``partly_used_module``)
and one module instance registered as several layers (``shared_module``), against the models that
look alike and are fine (a module never called, weight tying, a layer called in a loop, a gate
initialized at zero, inputs that are zero)."""
import copy

import torch
import torch.nn.functional as F
from torch import nn

import trainwell
from trainwell.babysit import interventions
from trainwell.babysit.module_use import (PARTLY_USED, SHARED, SILENT, check_module_use, check_shared_modules,
                                          unshare)


def _sequences(n=64, steps=12, features=3, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, steps, features, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return X, y


class Recurrent(nn.Module):
    """An LSTM or GRU and a linear head, read as ``read`` says."""

    def __init__(self, *, kind=nn.LSTM, layers=1, bidirectional=False, read="top", hidden=8):
        super().__init__()
        self.rnn = kind(3, hidden, num_layers=layers, bidirectional=bidirectional, batch_first=True)
        self.read = read
        self.head = nn.Linear(2 * hidden if read == "both" else hidden, 3)

    def forward(self, x):
        out, state = self.rnn(x)
        h = state[0] if isinstance(state, tuple) else state        # (layers x directions, N, hidden)
        reads = {"top": lambda: h[-1], "first": lambda: h[0], "both": lambda: torch.cat([h[-2], h[-1]], 1),
                 "first step": lambda: out[:, 0], "last step": lambda: out[:, -1]}
        return self.head(reads[self.read]())


def _found(net, X, y, loss=F.cross_entropy):
    torch.manual_seed(0)
    return check_module_use(net, X, y, loss)


def test_a_stacked_lstm_read_at_its_first_layer_leaves_the_top_layer_untrained():
    X, y = _sequences()
    torch.manual_seed(0)
    found = _found(Recurrent(layers=2, read="first"), X, y)
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "warning")]
    assert found[0].evidence["modules"] == {"rnn": ["weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]}
    assert found[0].evidence["kinds"] == {"rnn": "layer"} and found[0].where == "rnn"
    assert found[0].evidence["parameters"] == 2 * (4 * 8 * 8) + 2 * 4 * 8


def test_a_recurrent_module_read_at_its_first_step_never_uses_its_recurrence():
    X, y = _sequences()
    torch.manual_seed(0)
    found = _found(Recurrent(kind=nn.GRU, read="first step"), X, y)
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "warning")]
    assert found[0].evidence["modules"] == {"rnn": ["weight_hh_l0"]} and found[0].evidence["kinds"]["rnn"] == "one step"


class WholeTrace(nn.Module):
    """A GRU over a trace given as one step of 16 features (``(N, 1, 16)``, ``input_size=16``), its state read."""

    def __init__(self, layers=1, read=-1):
        super().__init__()
        self.rnn, self.read, self.head = nn.GRU(16, 8, num_layers=layers, batch_first=True), read, nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.rnn(x.unsqueeze(1))[1][self.read])


def test_a_recurrent_module_given_one_step_sequences_leaves_its_recurrence_idle_by_design():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(64, 16, generator=g), torch.randint(0, 3, (64,), generator=g)
    torch.manual_seed(0)
    assert _found(WholeTrace(), X, y) == []         # weight_hh multiplies the zero initial state: nothing to carry
    torch.manual_seed(0)
    found = _found(WholeTrace(layers=2, read=0), X, y)   # a stacked layer read below its top: still found
    assert found[0].evidence["modules"] == {"rnn": ["weight_ih_l1", "bias_ih_l1", "bias_hh_l1"]}


def test_one_direction_of_a_bidirectional_module_is_info():
    """``h_n[-1]`` of a bidirectional LSTM is the reverse direction: the forward one never trains, but
    the output still reads the whole sequence (as a unidirectional LSTM would)."""
    X, y = _sequences()
    torch.manual_seed(0)
    found = _found(Recurrent(bidirectional=True, read="top"), X, y)
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "info")]
    assert found[0].evidence["kinds"] == {"rnn": "direction"}
    assert set(found[0].evidence["modules"]["rnn"]) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}


def test_modules_read_in_full_are_quiet():
    X, y = _sequences()
    for net in (Recurrent(), Recurrent(layers=2), Recurrent(layers=2, bidirectional=True, read="both"),
                Recurrent(kind=nn.GRU, bidirectional=True, read="both"), Recurrent(kind=nn.GRU, read="last step")):
        torch.manual_seed(0)
        assert _found(net, X, y) == [], net


class Gated(nn.Module):
    """A residual branch scaled by a gate of its own module: ``alpha`` starts at 0 (ReZero), so at
    initialization the branch's weight gets an exactly zero gradient; ``spare``: a tensor never used."""

    def __init__(self, width=6, *, spare=False):
        super().__init__()
        self.w = nn.Parameter(torch.randn(width, width) / width ** 0.5)
        self.alpha = nn.Parameter(torch.zeros(()))
        self.spare = nn.Parameter(torch.randn(width)) if spare else None

    def forward(self, x):
        return x + self.alpha * torch.tanh(x @ self.w)


def _mlp_data(n=64, width=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, width, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_a_gate_initialized_at_zero_opens_when_the_parameters_move():
    X, y = _mlp_data()
    torch.manual_seed(0)
    assert _found(nn.Sequential(Gated(), nn.Linear(6, 3)), X, y) == []


def test_a_tensor_of_its_own_module_that_the_forward_never_reads_is_a_warning():
    X, y = _mlp_data()
    torch.manual_seed(0)
    found = _found(nn.Sequential(Gated(spare=True), nn.Linear(6, 3)), X, y)
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "warning")]
    assert found[0].evidence["modules"] == {"0": ["spare"]} and found[0].evidence["kinds"] == {"0": "part"}


def test_zero_inputs_and_a_bias_before_batch_norm_are_quiet():
    """A weight's gradient is ``x^T delta``: zero rows give it an exactly zero gradient that is no
    fault of the model (the inputs are moved at the second point); a bias before batch norm has a
    gradient of ~0 in training mode, but moves the eval-mode output."""
    X, y = _mlp_data()
    torch.manual_seed(0)
    assert _found(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)), torch.zeros_like(X), y) == []
    torch.manual_seed(0)
    assert _found(nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)), X, y) == []


class Heads(nn.Module):
    """A body and a head; ``dropped``: an extra layer computed, then the head reads the body's output
    (the next line reads an earlier variable); ``spare``: a layer built and never called."""

    def __init__(self, *, dropped=False, spare=False):
        super().__init__()
        self.body, self.extra, self.head = nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 3)
        self.dropped, self.spare = dropped, nn.Linear(8, 8) if spare else None

    def forward(self, x):
        h = torch.relu(self.body(x))
        z = torch.relu(self.extra(h))
        return self.head(h if self.dropped else z)


def test_a_module_never_called_is_quiet_and_a_result_dropped_is_info():
    X, y = _mlp_data()
    torch.manual_seed(0)
    assert _found(Heads(spare=True), X, y) == []
    torch.manual_seed(0)
    found = _found(Heads(dropped=True), X, y)
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "info")]
    assert found[0].evidence["kinds"] == {"extra": "whole"}


def test_a_loss_that_reaches_nothing_is_left_to_the_cut_gradient_check():
    X, y = _mlp_data()

    def numpy_loss(out, target):
        return torch.tensor(float(out.detach().numpy().mean()), requires_grad=True)
    torch.manual_seed(0)
    assert _found(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)), X, y, numpy_loss) == []


def test_the_check_leaves_the_model_and_the_random_state_as_they_were():
    X, y = _sequences()
    torch.manual_seed(0)
    net = Recurrent(layers=2, read="first")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    state = torch.get_rng_state()
    assert check_module_use(net, X, y, F.cross_entropy)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert torch.equal(state, torch.get_rng_state()) and net.training
    assert SILENT < 1e-3        # far below the graph cut's CHANGED: an output that moves at all is not idle


# ------------------------------------------------------------------------------ shared_module
def _stack(shared: bool, depth=3, width=8):
    torch.manual_seed(0)
    blocks = [nn.Linear(width, width), nn.ReLU()] * depth if shared else \
        [m for _ in range(depth) for m in (nn.Linear(width, width), nn.ReLU())]
    return nn.Sequential(nn.Linear(6, width), nn.ReLU(), *blocks, nn.Linear(width, 3))


def test_one_layer_repeated_by_list_multiplication_is_found_and_its_copies_are_not():
    X, _ = _mlp_data()
    found = check_shared_modules(_stack(True), X)
    assert [(f.code, f.severity) for f in found] == [(SHARED, "warning")]
    assert found[0].evidence["modules"] == [["2", "4", "6"]] and found[0].evidence["calls"] == [3]
    assert found[0].evidence["parameters"] == 8 * 8 + 8
    assert check_shared_modules(_stack(False), X) == []


class Tied(nn.Module):
    """An embedding whose matrix is the output layer's (weight tying)."""

    def __init__(self, vocab=20, width=8):
        super().__init__()
        self.embed, self.out = nn.Embedding(vocab, width), nn.Linear(width, vocab, bias=False)
        self.out.weight = self.embed.weight

    def forward(self, ids):
        return self.out(self.embed(ids).mean(1))


class Looped(nn.Module):
    """One layer registered once and called three times (sharing written on purpose), beside an
    alias of the body registered twice and called once."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.layer = nn.Linear(8, 8)
        self.net = nn.Sequential(self.body, nn.ReLU())         # the same body under a second name
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = self.net(x)
        for _ in range(3):
            h = torch.relu(self.layer(h))
        return self.head(h)


def test_tying_a_loop_and_an_alias_are_quiet():
    X, _ = _mlp_data()
    assert check_shared_modules(Tied(), torch.randint(0, 20, (16, 5))) == []
    assert check_shared_modules(Looped(), X) == []
    relus = nn.Sequential(nn.Linear(6, 8), *[nn.ReLU()] * 3, nn.Linear(8, 3))      # no parameters to share
    assert check_shared_modules(relus, X) == []


def test_unshare_gives_each_place_its_own_copy_with_the_same_weights():
    X, _ = _mlp_data()
    net = _stack(True)
    copies = copy.deepcopy(net)
    unshare(copies)
    count = sum(p.numel() for p in net.parameters())
    assert sum(p.numel() for p in copies.parameters()) == count + 2 * (8 * 8 + 8)
    assert copies[2] is not copies[4] and torch.equal(copies[2].weight, copies[4].weight)
    assert torch.allclose(net(X), copies(X)) and check_shared_modules(copies, X) == []


def test_the_experiment_tries_copies_only_for_a_repeated_layer():
    X, _ = _mlp_data()
    names = [a[0].name for a in interventions.candidate_arms(_stack(True), lr=1e-3, weight_decay=0.0, options={},
                                                              x=X[:8])]
    assert interventions.COPIES_ARM in names
    names = [a[0].name for a in interventions.candidate_arms(_stack(False), lr=1e-3, weight_decay=0.0, options={},
                                                              x=X[:8])]
    assert interventions.COPIES_ARM not in names


def test_the_doctor_grades_a_repeated_layer_by_its_copies():
    """A repeated layer is a warning only where a copy per layer trains better in the experiment;
    either way the finding says which it is and the copies arm ran."""
    g = torch.Generator().manual_seed(2)
    X = torch.randn(400, 6, generator=g)
    y = (torch.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] > 0).long()
    d = trainwell.doctor(_stack(True), (X[:300], y[:300]), (X[300:], y[300:]), optimizer="adam", lr=3e-3,
                         epochs=3, probe=False, wall_s=None)
    found = [f for f in d.findings if f.code == SHARED]
    assert found and found[0].severity in ("warning", "info")
    assert "harm" in found[0].evidence          # graded: the copies arm ran beside the setup and its repeat


def test_a_layer_behind_dead_relus_is_left_to_the_init_checks():
    """A large negative bias kills every ReLU of the first layer: the next layer's weight gets a zero
    gradient (its inputs are zero) while its bias does not; that is the dead units' finding, not a part
    of the module the forward skips."""
    X, y = _mlp_data()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        net[0].bias.fill_(-50.0)
    assert _found(net, X, y) == []


def test_a_recurrent_module_given_batch_first_data_without_batch_first_mixes_the_rows():
    """``nn.LSTM`` / ``nn.GRU`` / ``nn.MultiheadAttention`` read (L, N, ...) unless ``batch_first=True``:
    given (N, L, ...) they run along the batch, so an output row reads the rows before it. No check of
    this module's: the model's output rows depend on other rows, ``batch_dependence`` (an error)."""
    from trainwell.babysit.model_checks import check_batch_dependence

    class Attend(nn.Module):
        def __init__(self, batch_first):
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=batch_first)
            self.head = nn.Linear(4, 3)

        def forward(self, x):
            out, _ = self.attn(x, x, x)
            return self.head(out.mean(1))
    X = torch.randn(64, 10, 4, generator=torch.Generator().manual_seed(3))
    for batch_first in (True, False):
        torch.manual_seed(0)
        rnn = Recurrent(read="last step")
        rnn.rnn.batch_first = batch_first
        for net in (rnn, Attend(batch_first)):
            codes = [(f.code, f.severity) for f in check_batch_dependence(net, X[..., :3] if net is rnn else X)]
            assert codes == ([] if batch_first else [("batch_dependence", "error")]), (net, batch_first)


def test_the_shared_module_check_leaves_the_random_state_and_the_mode_as_they_were():
    X, _ = _mlp_data()
    net = _stack(True)
    net.train()
    state = torch.get_rng_state()
    assert check_shared_modules(net, X)
    assert torch.equal(state, torch.get_rng_state()) and net.training


class WideAndDeep(nn.Module):
    """A wide (linear) part and a deep tower; ``drop`` returns the wide part alone, the tower computed."""

    def __init__(self, drop: bool):
        super().__init__()
        self.drop = drop
        self.wide = nn.Linear(6, 3)
        self.deep = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        deep = self.deep(x)
        return self.wide(x) if self.drop else self.wide(x) + deep


def test_a_dropped_module_is_a_warning_where_the_model_cannot_memorize():
    """A whole module's result dropped is info while the rest reads every input; where the same
    pre-flight finds the model unable to memorize a few rows (``cannot_overfit_small_subset``) the
    parameters that never reach the output are the capacity it lacks: a warning, ranked first."""
    from trainwell.babysit.findings import Diagnosis, make
    from trainwell.babysit.module_use import can_memorize
    torch.manual_seed(0)
    X = torch.randn(128, 6)
    y = (X[:, 0] * X[:, 1] > 0).long() + (X[:, 2] > 1).long()      # not linear in the inputs
    found = check_module_use(WideAndDeep(drop=True), X, y, F.cross_entropy)
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "info")]
    assert "cannot_memorize" not in found[0].evidence
    assert check_module_use(WideAndDeep(drop=False), X, y, F.cross_entropy) == []
    assert can_memorize([])                                           # nothing says capacity is missing
    symptom = make("cannot_overfit_small_subset", "the model cannot memorize 20 training examples")
    assert not can_memorize([symptom])
    weighed = check_module_use(WideAndDeep(drop=True), X, y, F.cross_entropy, memorizes=False)
    assert [(f.code, f.severity) for f in weighed] == [(PARTLY_USED, "warning")] and weighed[0].evidence["cannot_memorize"]
    assert "info:" not in weighed[0].message and "cannot memorize" in weighed[0].message
    assert weighed[0].evidence["modules"] == found[0].evidence["modules"]
    assert [f.code for f in Diagnosis(weighed + [symptom]).ranked()][0] == PARTLY_USED
    symptom.severity = "info"                                          # a symptom graded away is no evidence
    assert can_memorize([symptom])


class Tokens(nn.Module):
    """Token and position embeddings, a linear head on their mean; ``add``: the positions added to
    the tokens (else computed and dropped, the sum lost in a refactor)."""

    def __init__(self, *, add=True, vocab=10, length=6, d=8):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, d), nn.Embedding(length, d)
        self.head = nn.Linear(d, 3)
        self.add = add

    def forward(self, x):
        ids = x.long()
        h = self.tokens(ids)
        positions = self.positions(torch.arange(ids.shape[1]))
        return self.head(torch.tanh(h + positions if self.add else h).mean(1))


def test_position_embeddings_computed_and_dropped_are_a_warning():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randint(2, 8, (64, 6), generator=g).float(), torch.randint(0, 3, (64,), generator=g)
    found = _found(Tokens(add=False), X, y)
    # the module reads nothing of the rows (torch.arange): its own parameters are all it adds
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "warning")]
    assert found[0].evidence["kinds"] == {"positions": "own"} and found[0].where == "positions"
    assert _found(Tokens(add=True), X, y) == []


def test_reads_rows_tells_a_batch_from_a_constant():
    from trainwell.babysit.module_use import reads_rows
    assert reads_rows((torch.arange(6),), 64) is False
    assert reads_rows((torch.arange(6).expand(64, 6),), 64) is False    # the same for every row
    assert reads_rows((torch.randn(6, 64, 4),), 64) is True            # sequence-first: rows on axis 1
    assert reads_rows((torch.randn(64, 4),), 64) is True


class MapCNN(nn.Module):
    """Conv, pool, conv, a linear head of 8 features read as ``read`` says: ``"sliced"`` the flattened
    map cut to the head's width (``x.flatten(1)[:, :8]``: 8 values of channel 0), ``"max"`` the global
    max of each channel (one position of each channel per row), ``"dropout"`` the channels' means
    through a dropout."""

    def __init__(self, read="sliced"):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 8, 3, padding=1)
        self.head, self.read = nn.Linear(8, 3), read
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = F.relu(self.conv2(F.max_pool2d(F.relu(self.conv1(x)), 2)))
        reads = {"sliced": lambda: x.flatten(1)[:, :8], "max": lambda: x.flatten(2).amax(2),
                 "dropout": lambda: self.drop(x.mean((2, 3)))}
        return self.head(reads[self.read]())


def _images(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_a_map_cut_to_the_heads_width_leaves_most_of_the_last_convolution_unread():
    X, y = _images()
    torch.manual_seed(0)
    found = _found(MapCNN("sliced"), X, y)
    assert [(f.code, f.severity) for f in found] == [(PARTLY_USED, "warning")]
    assert found[0].evidence["kinds"] == {"conv2": "units"} and found[0].where == "conv2"
    assert found[0].evidence["modules"] == {"conv2": list(range(1, 8))}     # channel 0 is read, 1..7 never
    assert found[0].evidence["parameters"] == 7 * (4 * 3 * 3 + 1)


def test_a_transposed_convolution_counts_the_parameters_of_its_unread_channels():
    """A transposed convolution keeps its output channels on its weight's axis 1 (``in, out, k, k``):
    8 of 16 channels cut are 8 x (4 x 3 x 3 + 1) parameters, not 8 rows of axis 0."""
    class Upsampled(nn.Module):
        def __init__(self):
            super().__init__()
            self.up, self.head = nn.ConvTranspose2d(4, 16, 3), nn.Linear(8, 3)

        def forward(self, x):
            return self.head(F.relu(self.up(x))[:, :8].mean((2, 3)))

    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(64, 4, 4, 4, generator=g), torch.randint(0, 3, (64,), generator=g)
    torch.manual_seed(0)
    found = _found(Upsampled(), X, y)
    assert found[0].evidence["modules"] == {"up": list(range(8, 16))}
    assert found[0].evidence["parameters"] == 8 * (4 * 3 * 3 + 1)


def test_a_hidden_layer_read_at_part_of_its_features_is_found():
    class Cut(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = nn.Linear(6, 16), nn.Linear(4, 3)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x))[:, :4])

    X, y = _mlp_data()
    torch.manual_seed(0)
    found = _found(Cut(), X, y)
    assert found[0].evidence["modules"] == {"hidden": list(range(4, 16))}


class Padded(nn.Module):
    """A linear layer on every step, the mean over the steps before the padding (the last 4 of 12
    steps are padding in every row of the batch), a head."""

    def __init__(self):
        super().__init__()
        self.step, self.head = nn.Linear(3, 8), nn.Linear(8, 3)

    def forward(self, x):
        mask = (torch.arange(x.shape[1]) < 8).float()[None, :, None]
        return self.head((torch.tanh(self.step(x)) * mask).sum(1) / mask.sum(1))


def test_selecting_pooling_dropout_masked_steps_and_a_few_dead_units_are_quiet():
    # each unit is read somewhere: at some row's arg max, through the dropout's kept rows, at the
    # steps before the padding; a unit dead behind its ReLU moves the output once it is given values
    X, y = _images()
    for read in ("max", "dropout"):
        torch.manual_seed(0)
        assert _found(MapCNN(read), X, y) == [], read
    torch.manual_seed(0)
    assert _found(Padded(), *_sequences()) == []
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        net[0].bias[:3] = -50.0
    assert _found(net, *_mlp_data()) == []


def test_dead_units_behind_a_zero_output_layer_or_a_zero_gate_are_quiet():
    # at initialization nothing after the units moves the output (a zero output layer, ReZero's alpha = 0);
    # the nudged copy opens the path, and a dead unit given values there moves the output
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        net[0].bias[:2] = -50.0
        net[2].weight.zero_()
    assert _found(net, *_mlp_data()) == []

    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.f, self.alpha, self.head = nn.Linear(6, 8), nn.Parameter(torch.zeros(())), nn.Linear(8, 3)
            self.back = nn.Linear(8, 6)

        def forward(self, x):
            return self.head(torch.tanh(self.f(x + self.alpha * self.back(torch.relu(self.f(x))))))

    torch.manual_seed(0)
    gate = Gate()
    with torch.no_grad():
        gate.f.bias[:2] = -50.0
    assert _found(gate, *_mlp_data()) == []
