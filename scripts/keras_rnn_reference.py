"""Reference outputs and gradients of Keras-style SimpleRNN, LSTM and GRU from
PyTorch (torch.nn.RNN / LSTM / GRU, batch_first), for
test/api/recurrent-layers.test.ts.

Weights are written in Keras 3's layout: kernel [features, gates*units],
recurrent_kernel [units, gates*units] (torch's weight_ih / weight_hh transposed).
LSTM: torch's gates i, f, g, o are Keras's i, f, c, o; torch's two biases add
into Keras's one. GRU: torch's gate blocks r, z, n become Keras's z, r, h, and
torch's GRU is reset-after, so Keras's resetAfter=True bias [2, 3*units] is
[input bias; recurrent bias]. SimpleRNN: one gate, the two biases added.
A bidirectional torch layer gives Keras's Bidirectional (mergeMode 'concat')
with forward/... and backward/... weights.

GRU with resetAfter=False has no torch module; its case is Keras's formula
written out in torch ops (autograd gives the gradients).

Each case records the output, and the gradients of sum(output * r) for the
input and every Keras weight, with returnSequences true and false.

Run: /usr/bin/python3 scripts/keras_rnn_reference.py   (writes test/fixtures/torch/keras-rnn.json)
"""
import numpy as np
import torch

from torch_fixture_util import enc, grid, write

BATCH, STEPS, FEATURES, UNITS = 2, 5, 3, 4
MODULES = {'SimpleRNN': torch.nn.RNN, 'LSTM': torch.nn.LSTM, 'GRU': torch.nn.GRU}


def keras_weights(kind, module, suffix, of):
    """Keras's weights (or their gradients, with of=grad) from one torch direction's parameters."""
    w_ih, w_hh = of(getattr(module, f'weight_ih_{suffix}')), of(getattr(module, f'weight_hh_{suffix}'))
    b_ih, b_hh = of(getattr(module, f'bias_ih_{suffix}')), of(getattr(module, f'bias_hh_{suffix}'))
    if kind == 'GRU':
        perm = torch.cat([torch.arange(UNITS, 2 * UNITS), torch.arange(0, UNITS), torch.arange(2 * UNITS, 3 * UNITS)])
        return {'kernel': w_ih[perm].t(), 'recurrent_kernel': w_hh[perm].t(), 'bias': torch.stack([b_ih[perm], b_hh[perm]])}
    # Keras's one bias is b_ih + b_hh: its value is the sum, its gradient either one's (they are equal)
    bias = b_ih + b_hh if of is value else b_ih
    return {'kernel': w_ih.t(), 'recurrent_kernel': w_hh.t(), 'bias': bias}


def value(p):
    return p.detach()


def grad(p):
    return p.grad


def case(rng, kind, return_sequences, bidirectional):
    torch.manual_seed(0)
    module = MODULES[kind](FEATURES, UNITS, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(grid(rng, tuple(p.shape), 0.5), dtype=torch.float32))
    x = torch.tensor(grid(rng, (BATCH, STEPS, FEATURES)), dtype=torch.float32, requires_grad=True)
    out, state = module(x)
    h_n = state[0] if kind == 'LSTM' else state
    if return_sequences:
        y = out
    elif bidirectional:
        y = torch.cat([h_n[0], h_n[1]], dim=-1)  # forward after the last step, backward after the first
    else:
        y = h_n[0]
    r = torch.tensor(grid(rng, tuple(y.shape)), dtype=torch.float32)
    (y * r).sum().backward()
    directions = [('forward/', 'l0'), ('backward/', 'l0_reverse')] if bidirectional else [('', 'l0')]
    weights, grads = {}, {}
    for prefix, suffix in directions:
        for k, v in keras_weights(kind, module, suffix, value).items():
            weights[prefix + k] = enc(v)
        for k, v in keras_weights(kind, module, suffix, grad).items():
            grads[prefix + k] = enc(v)
    return {
        'kind': kind, 'returnSequences': return_sequences, 'bidirectional': bidirectional, 'units': UNITS,
        'x': enc(x), 'r': enc(r), 'weights': weights, 'output': enc(y), 'grads': grads, 'inputGrad': enc(x.grad),
    }


def gru_reset_before(rng):
    """Keras's GRU with resetAfter=False (no torch module has it), written out in torch ops on Keras-layout weights."""
    kernel = torch.tensor(grid(rng, (FEATURES, 3 * UNITS), 0.5), dtype=torch.float32, requires_grad=True)
    recurrent = torch.tensor(grid(rng, (UNITS, 3 * UNITS), 0.5), dtype=torch.float32, requires_grad=True)
    bias = torch.tensor(grid(rng, (3 * UNITS,), 0.5), dtype=torch.float32, requires_grad=True)
    x = torch.tensor(grid(rng, (BATCH, STEPS, FEATURES)), dtype=torch.float32, requires_grad=True)
    h = torch.zeros(BATCH, UNITS)
    outs = []
    for t in range(STEPS):
        xz, xr, xh = (x[:, t] @ kernel + bias).split(UNITS, dim=-1)
        z = torch.sigmoid(xz + h @ recurrent[:, :UNITS])
        r = torch.sigmoid(xr + h @ recurrent[:, UNITS:2 * UNITS])
        hh = torch.tanh(xh + (r * h) @ recurrent[:, 2 * UNITS:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    y = torch.stack(outs, dim=1)
    r = torch.tensor(grid(rng, tuple(y.shape)), dtype=torch.float32)
    (y * r).sum().backward()
    weights = {'kernel': kernel, 'recurrent_kernel': recurrent, 'bias': bias}
    return {
        'kind': 'GRU', 'returnSequences': True, 'bidirectional': False, 'resetAfter': False, 'units': UNITS,
        'x': enc(x), 'r': enc(r), 'weights': {k: enc(v) for k, v in weights.items()}, 'output': enc(y),
        'grads': {k: enc(v.grad) for k, v in weights.items()}, 'inputGrad': enc(x.grad),
    }


def main():
    rng = np.random.default_rng(14)
    cases = {}
    for bidirectional in (False, True):
        for kind in MODULES:
            for return_sequences in (True, False):
                name = f"{'bidirectional-' if bidirectional else ''}{kind}-{'sequences' if return_sequences else 'last'}"
                cases[name] = case(rng, kind, return_sequences, bidirectional)
    cases['GRU-resetBefore-sequences'] = gru_reset_before(rng)
    write('keras-rnn', {'cases': cases}, 'scripts/keras_rnn_reference.py')


if __name__ == '__main__':
    main()
