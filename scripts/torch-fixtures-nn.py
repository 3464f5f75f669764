#!/usr/bin/python3
"""Golden fixtures for test/torch/reference.test.ts (the kiln.nn / kiln.optim surface), computed with PyTorch.

Run with Debian's interpreter and packages (apt-get install python3-torch python3-numpy):

    /usr/bin/python3 scripts/torch-fixtures-nn.py

Writes test/fixtures/torch/nn-{mlp,cnn,batchnorm,embedding,recurrent,recurrent-bidirectional,layers,schedulers}.json
(or only the fixtures named as arguments, e.g. `… torch-fixtures-nn.py schedulers`). Unlike
scripts/torch-fixtures.py (Keras layouts), everything here is in PyTorch's own
layout and names: state dicts are keyed as torch.nn names them ('0.weight',
'lstm.weight_ih_l0', 'bn.running_mean') with [out, in] linear weights and OIHW conv
weights, images are NCHW. Inputs and initial weights are multiples of 1/64 from a
seeded numpy generator, so they are exact in float32 and kiln sees the very numbers
torch saw; torch computes in float64.

A training run is the literal loop, several steps on one batch:
    opt.zero_grad(); out = model(x); loss = loss_fn(out, y); loss.backward(); opt.step()
and stores the loss of every step and the state dict after the last.
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_fixture_util import OUT, enc, grid, write as write_fixture

torch.set_default_dtype(torch.float64)
STEPS = 5


def write(name, fixture):
    write_fixture(name, fixture, 'scripts/torch-fixtures-nn.py')


def state(model):
    """The state dict without num_batches_tracked (kiln keeps no such counter)."""
    return {k: enc(v) for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}


def set_grid_weights(model, rng, scale=0.5):
    """Overwrites every parameter with grid values (buffers keep torch's initial zeros and ones)."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(grid(rng, list(p.shape), scale)))


# Optimizer configurations: kiln's option names (camelCase) and torch's constructor.
OPTIMIZERS = {
    'sgd': ('SGD', {'lr': 0.1}),
    'sgdMomentum': ('SGD', {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.1, 'weightDecay': 0.01}),
    'sgdNesterov': ('SGD', {'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 0.001}),
    'adam': ('Adam', {'lr': 0.01}),
    'adamAmsgrad': ('Adam', {'lr': 0.01, 'betas': [0.8, 0.99], 'weightDecay': 0.01, 'amsgrad': True}),
    'adamw': ('AdamW', {'lr': 0.01, 'weightDecay': 0.1}),
    'rmsprop': ('RMSprop', {'lr': 0.01}),
    'rmspropCentered': ('RMSprop', {'lr': 0.01, 'alpha': 0.9, 'momentum': 0.5, 'centered': True, 'weightDecay': 0.01}),
    'adagrad': ('Adagrad', {'lr': 0.1, 'lrDecay': 0.01, 'weightDecay': 0.01, 'initialAccumulatorValue': 0.1}),
}

TORCH_NAMES = {'weightDecay': 'weight_decay', 'lrDecay': 'lr_decay', 'initialAccumulatorValue': 'initial_accumulator_value'}


def make_optimizer(key, params):
    kind, options = OPTIMIZERS[key]
    kwargs = {TORCH_NAMES.get(k, k): (tuple(v) if isinstance(v, list) else v) for k, v in options.items()}
    return getattr(torch.optim, kind)(params, **kwargs)


def train(make_model, x, y, loss_fn, keys):
    """The literal loop for each optimizer in `keys`: losses per step and the final state dict."""
    runs = {}
    for key in keys:
        model = make_model()
        opt = make_optimizer(key, model.parameters())
        losses = []
        for _ in range(STEPS):
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            losses.append(float(loss))
        kind, options = OPTIMIZERS[key]
        runs[key] = {'optimizer': kind, 'options': options, 'losses': losses, 'final': state(model)}
    return runs


def fixture(name, description, make_model, x, y, loss_fn, keys, loss_name):
    model = make_model()
    write(name, {
        'model': description,
        'loss': loss_name,
        'steps': STEPS,
        'inputs': {'x': enc(x), 'y': enc(y)},
        'initial': state(model),
        'output': enc(model(x)),
        'runs': train(make_model, x, y, loss_fn, keys),
    })


def mlp():
    rng = np.random.default_rng(10)
    x, y = torch.tensor(grid(rng, [6, 4], 2)), torch.tensor(rng.integers(0, 3, [6]))

    def make():
        m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        set_grid_weights(m, np.random.default_rng(11))
        return m
    fixture('nn-mlp', 'Sequential(Linear(4, 8), ReLU(), Linear(8, 3)); cross_entropy', make, x, y, F.cross_entropy, list(OPTIMIZERS), 'crossEntropy')


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(F.relu(self.conv(x))), 1))


def cnn():
    rng = np.random.default_rng(20)
    x, y = torch.tensor(grid(rng, [4, 1, 6, 6], 2)), torch.tensor(rng.integers(0, 3, [4]))

    def make():
        m = Cnn()
        set_grid_weights(m, np.random.default_rng(21))
        return m
    fixture('nn-cnn', 'conv Conv2d(1, 4, 3, padding=1) → relu → pool MaxPool2d(2) → flatten → fc Linear(36, 3) on NCHW; cross_entropy',
            make, x, y, F.cross_entropy, ['sgdMomentum', 'adam', 'rmspropCentered'], 'crossEntropy')


def batchnorm():
    rng = np.random.default_rng(30)
    x, y = torch.tensor(grid(rng, [8, 4], 2) + 0.5), torch.tensor(rng.integers(0, 3, [8]))

    def make():
        m = nn.Sequential(nn.Linear(4, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))  # a bias before batch norm has a zero gradient: Adam would amplify float32 noise in it
        set_grid_weights(m, np.random.default_rng(31))
        return m
    fixture('nn-batchnorm', 'Sequential(Linear(4, 6, bias=False), BatchNorm1d(6), ReLU(), Linear(6, 3)) in training mode; cross_entropy; final running statistics',
            make, x, y, F.cross_entropy, ['sgdMomentum', 'adam'], 'crossEntropy')


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.fc = nn.Linear(4, 3)

    def forward(self, idx):
        return self.fc(self.emb(idx).mean(1))


def embedding():
    rng = np.random.default_rng(40)
    x, y = torch.tensor(rng.integers(0, 10, [6, 3])), torch.tensor(rng.integers(0, 3, [6]))

    def make():
        m = Bag()
        set_grid_weights(m, np.random.default_rng(41))
        return m
    fixture('nn-embedding', 'emb Embedding(10, 4) → mean over dim 1 → fc Linear(4, 3); cross_entropy',
            make, x, y, F.cross_entropy, ['adagrad', 'rmsprop', 'sgdNesterov'], 'crossEntropy')


# ---- recurrent layers: forward, one backward, and a training run --------------------------------

RECURRENT = {
    # name: (constructor, kwargs, batch_first, initial state given)
    'rnnTanh': (nn.RNN, {'num_layers': 2}, True, True),
    'rnnRelu': (nn.RNN, {'nonlinearity': 'relu'}, True, False),
    'lstm': (nn.LSTM, {'num_layers': 2}, True, True),
    'gru': (nn.GRU, {'num_layers': 2}, False, True),
    'gruOneLayer': (nn.GRU, {}, True, False),
}


# bidirectional layers, in their own file (nn-recurrent-bidirectional) so the cases above keep their random draws
BIDIRECTIONAL = {
    'lstmBidirectional': (nn.LSTM, {'num_layers': 2, 'bidirectional': True}, True, True),
    'gruBidirectional': (nn.GRU, {'bidirectional': True}, False, False),
}


def recurrent_case(name, rng, table=RECURRENT, sizes=(2, 5, 3, 4)):
    ctor, kwargs, batch_first, with_state = table[name]
    n, length, features, hidden = sizes
    layers = kwargs.get('num_layers', 1) * (2 if kwargs.get('bidirectional') else 1)  # h_0 entries
    m = ctor(features, hidden, batch_first=batch_first, **kwargs)
    set_grid_weights(m, rng, 0.5)
    x = torch.tensor(grid(rng, [n, length, features] if batch_first else [length, n, features], 1)).requires_grad_()
    lstm = ctor is nn.LSTM
    h0 = torch.tensor(grid(rng, [layers, n, hidden], 0.5)) if with_state else None
    c0 = torch.tensor(grid(rng, [layers, n, hidden], 0.5)) if with_state and lstm else None
    initial = state(m)
    if lstm:
        out, (hn, cn) = m(x, (h0, c0)) if with_state else m(x)
    else:
        out, hn = m(x, h0) if with_state else m(x)
        cn = None
    # the loss is a fixed random projection of every output, so each gradient is non-trivial
    r_out, r_h = torch.tensor(grid(rng, list(out.shape))), torch.tensor(grid(rng, list(hn.shape)))
    loss = (out * r_out).sum() + (hn * r_h).sum()
    r_c = torch.tensor(grid(rng, list(cn.shape))) if lstm else None
    if lstm:
        loss = loss + (cn * r_c).sum()
    loss.backward()
    case = {
        'kind': ctor.__name__, 'options': {'numLayers': kwargs.get('num_layers', 1), 'batchFirst': batch_first, 'nonlinearity': kwargs.get('nonlinearity', 'tanh'),
                                           **({'bidirectional': True} if kwargs.get('bidirectional') else {})},
        'inputSize': features, 'hiddenSize': hidden,
        'x': enc(x), 'state': initial,
        'output': enc(out), 'hN': enc(hn), 'projection': {'output': enc(r_out), 'hN': enc(r_h)},
        'loss': float(loss), 'gradients': {k: enc(p.grad) for k, p in m.named_parameters()}, 'inputGradient': enc(x.grad),
    }
    if with_state:
        case['h0'] = enc(h0)
    if lstm:
        case['cN'], case['projection']['cN'] = enc(cn), enc(r_c)
        if with_state:
            case['c0'] = enc(c0)
    return case


class Tagger(nn.Module):
    """An LSTM over the sequence, a linear head on the last step's output."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True)
        self.head = nn.Linear(5, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def recurrent():
    rng = np.random.default_rng(50)
    cases = {name: recurrent_case(name, rng) for name in RECURRENT}
    x, y = torch.tensor(grid(rng, [3, 4, 3], 1)), torch.tensor(grid(rng, [3, 2], 1))

    def make():
        m = Tagger()
        set_grid_weights(m, np.random.default_rng(51))
        return m
    model = make()
    write('nn-recurrent', {
        'notes': ['cases: the loss is sum(output·P) + sum(h_n·Q) (+ sum(c_n·R) for LSTM) with fixed P, Q, R; gradients of every parameter and of x.',
                  'training: lstm LSTM(3, 5, batch_first=True) → head Linear(5, 2) on the last step; mse_loss; the literal loop with Adam.'],
        'cases': cases,
        'training': {'inputs': {'x': enc(x), 'y': enc(y)}, 'initial': state(model), 'steps': STEPS,
                     'runs': train(make, x, y, F.mse_loss, ['adam'])},
    })


def recurrent_bidirectional():
    rng = np.random.default_rng(55)
    write('nn-recurrent-bidirectional', {
        'notes': ['as nn-recurrent cases: the loss is sum(output·P) + sum(h_n·Q) (+ sum(c_n·R) for LSTM); h_n and c_n are [l0 forward, l0 reverse, l1 forward, …].'],
        'cases': {name: recurrent_case(name, rng, BIDIRECTIONAL, (2, 4, 3, 3)) for name in BIDIRECTIONAL},
    })


# ---- single layers: forward and gradients; learning-rate schedules ------------------------------

LAYERS = {
    # name: (module, input shape, input kind)
    'conv1d': (lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1), [2, 2, 7], 'float'),
    'convTranspose2d': (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), [2, 2, 3, 3], 'float'),
    'adaptiveAvgPool2d': (lambda: nn.AdaptiveAvgPool2d((2, 3)), [2, 3, 4, 6], 'float'),
    'adaptiveAvgPool2dGlobal': (lambda: nn.AdaptiveAvgPool2d(1), [2, 3, 4, 6], 'float'),
    'layerNorm': (lambda: nn.LayerNorm(4), [2, 3, 4], 'float'),
    'layerNorm2d': (lambda: nn.LayerNorm([3, 4], eps=1e-3), [2, 3, 4], 'float'),
    'embedding': (lambda: nn.Embedding(6, 3), [2, 4], 'index'),
    'batchNorm2dEval': (lambda: nn.BatchNorm2d(3).eval(), [2, 3, 2, 2], 'float'),
}


def layers():
    rng = np.random.default_rng(60)
    cases = {}
    for name, (make, shape, kind) in LAYERS.items():
        m = make()
        set_grid_weights(m, rng, 0.5)
        if name == 'batchNorm2dEval':
            m.running_mean.copy_(torch.tensor(grid(rng, [3], 0.5)))
            m.running_var.copy_(torch.tensor(1 + grid(rng, [3], 0.5)))
        x = torch.tensor(rng.integers(0, 6, shape)) if kind == 'index' else torch.tensor(grid(rng, shape, 1)).requires_grad_()
        y = m(x)
        projection = torch.tensor(grid(rng, list(y.shape)))
        (y * projection).sum().backward()
        case = {'x': enc(x), 'state': state(m), 'output': enc(y), 'projection': enc(projection),
                'gradients': {k: enc(p.grad) for k, p in m.named_parameters()}}
        if kind == 'float':
            case['inputGradient'] = enc(x.grad)
        cases[name] = case
    write('nn-layers', {'notes': ['gradients are of sum(output·projection)', 'batchNorm2dEval: running statistics set, eval mode'], 'cases': cases})


def lrs(make_scheduler, epochs, metrics=None):
    """Each epoch's rate after scheduler.step() (one parameter, SGD, two param groups for rate 0.1 and 0.05)."""
    p, q = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{'params': [p]}, {'params': [q], 'lr': 0.05}], lr=0.1)
    sched = make_scheduler(opt)
    out = [[g['lr'] for g in opt.param_groups]]
    for e in range(epochs):
        opt.step()
        sched.step(metrics[e]) if metrics else sched.step()
        out.append([g['lr'] for g in opt.param_groups])
    return out


def one_cycle(kind, kwargs, epochs):
    """OneCycleLR cycling momentum: each step's rates and momenta (β₁ for Adam), two param groups as in lrs."""
    p, q = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = getattr(torch.optim, kind)([{'params': [p]}, {'params': [q], 'lr': 0.05}], lr=0.1, **({'momentum': 0.9} if kind == 'SGD' else {}))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, **kwargs)
    key = 'betas' if kind == 'Adam' else 'momentum'
    rates, momenta = [], []
    for e in range(epochs + 1):
        if e:
            opt.step()
            sched.step()
        rates.append([g['lr'] for g in opt.param_groups])
        momenta.append([g[key][0] if key == 'betas' else g[key] for g in opt.param_groups])
    return {'optimizer': kind, 'rates': rates, 'momenta': momenta}


def schedulers():
    S = torch.optim.lr_scheduler
    plateau = [1.0, 0.9, 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6, 0.7]
    write('nn-schedulers', {
        'notes': ['rates[0] is before any step; rates[e] after e calls of scheduler.step(); two param groups with lr 0.1 and 0.05.',
                  'OneCycleLR with cycle_momentum=False; oneCycleMomentum: OneCycleLR cycling momentum (SGD) or beta1 (Adam), rates and momenta per step.'],
        'schedules': {
            'StepLR': {'options': {'stepSize': 3, 'gamma': 0.5}, 'rates': lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 8)},
            'ExponentialLR': {'options': {'gamma': 0.9}, 'rates': lrs(lambda o: S.ExponentialLR(o, gamma=0.9), 6)},
            'CosineAnnealingLR': {'options': {'tMax': 6, 'etaMin': 0.001}, 'rates': lrs(lambda o: S.CosineAnnealingLR(o, T_max=6, eta_min=0.001), 6)},
            'OneCycleLR': {'options': {'maxLr': 0.5, 'totalSteps': 10, 'pctStart': 0.3}, 'rates': lrs(lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=10, pct_start=0.3, cycle_momentum=False), 9)},
            'ReduceLROnPlateau': {'options': {'factor': 0.5, 'patience': 2, 'cooldown': 1, 'minLr': 0.02}, 'metrics': plateau,
                                  'rates': lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1, min_lr=0.02), len(plateau), plateau)},
        },
        'oneCycleMomentum': {
            'sgdThreePhase': {'options': {'maxLr': 0.5, 'totalSteps': 12, 'pctStart': 0.25, 'threePhase': True},
                              **one_cycle('SGD', {'max_lr': 0.5, 'total_steps': 12, 'pct_start': 0.25, 'three_phase': True}, 12)},
            'adam': {'options': {'maxLr': 0.02, 'totalSteps': 10, 'baseMomentum': 0.8, 'maxMomentum': 0.9, 'divFactor': 10},
                     **one_cycle('Adam', {'max_lr': 0.02, 'total_steps': 10, 'base_momentum': 0.8, 'max_momentum': 0.9, 'div_factor': 10}, 10)},
        },
    })


FIXTURES = [mlp, cnn, batchnorm, embedding, recurrent, recurrent_bidirectional, layers, schedulers]

if __name__ == '__main__':
    # all fixtures, or only those named: /usr/bin/python3 scripts/torch-fixtures-nn.py schedulers
    wanted = sys.argv[1:] or [f.__name__ for f in FIXTURES]
    unknown = set(wanted) - {f.__name__ for f in FIXTURES}
    if unknown:
        sys.exit(f'unknown fixtures {sorted(unknown)}; expected some of {[f.__name__ for f in FIXTURES]}')
    for f in FIXTURES:
        if f.__name__ in wanted:
            f()
