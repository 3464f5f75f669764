"""Reference outputs, final states and gradients of Keras-style SimpleRNN, LSTM,
GRU and Bidirectional with a mask (and with initial states), from PyTorch, for
test/api/recurrent-masks.test.ts.

Keras's masked RNN skips the masked steps: the states are carried unchanged
and the step's output is the previous output (zeros before the first real
step); inside Bidirectional with return_sequences masked steps output zeros.
So a padded row gives what torch gives on the row's real steps alone (the
equivalent of a packed sequence): this script runs torch.nn.RNN / LSTM / GRU
(batch_first, one row at a time) on each row's unmasked steps and places the
results back on the padded time axis with those rules. The final states are
torch's h_n (and c_n) of the real steps; the last output (return_sequences
false) is the output at the last real step (for the backward direction: at
the first).

Each case records the layer's outputs with return_state (output, then the
states: LSTM h and c; bidirectional the forward states, then the backward),
and the gradients of sum(output * r) + sum(state_i * r_i) for the input,
every Keras weight and the initial states. Masks include post-padding,
pre-padding and a hole.

Run: /usr/bin/python3 scripts/keras_rnn_masked_reference.py   (writes test/fixtures/torch/keras-rnn-masked.json)
"""
import numpy as np
import torch

from keras_rnn_reference import FEATURES, MODULES, UNITS, grad, keras_weights, value
from torch_fixture_util import enc, grid, write

STEPS = 6
MASK = [
    [1, 1, 1, 1, 1, 1],  # all real
    [1, 1, 1, 1, 0, 0],  # post-padded
    [0, 0, 1, 1, 1, 1],  # pre-padded
    [1, 0, 1, 1, 0, 1],  # a hole
]
BATCH = len(MASK)


def case(rng, kind, bidirectional, return_sequences, initial):
    torch.manual_seed(0)
    module = MODULES[kind](FEATURES, UNITS, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(grid(rng, tuple(p.shape), 0.5), dtype=torch.float32))
    directions = 2 if bidirectional else 1
    n_states = 2 if kind == 'LSTM' else 1
    x = torch.tensor(grid(rng, (BATCH, STEPS, FEATURES)), dtype=torch.float32, requires_grad=True)
    # Keras's initial states [batch, units], forward then backward per state kind order below
    init = None
    if initial:
        init = [torch.tensor(grid(rng, (BATCH, UNITS), 0.5), dtype=torch.float32, requires_grad=True) for _ in range(n_states * directions)]
    rows_out, rows_states = [], []
    for b in range(BATCH):
        real = [t for t in range(STEPS) if MASK[b][t]]
        sub = x[b, real].unsqueeze(0)
        if init is None:
            out, state = module(sub)
        else:
            # Keras's order: the forward layer's states, then the backward's; torch's: [direction, batch, units] per state kind
            per_kind = [torch.stack([init[d * n_states + k][b] for d in range(directions)]).unsqueeze(1) for k in range(n_states)]
            out, state = module(sub, tuple(per_kind) if kind == 'LSTM' else per_kind[0])
        states = list(state) if kind == 'LSTM' else [state]
        out = out[0]
        # the padded time axis
        steps = []
        previous = torch.zeros(UNITS)
        for t in range(STEPS):
            if MASK[b][t]:
                k = real.index(t)
                steps.append(out[k])
                previous = out[k, :UNITS]
            elif bidirectional:
                steps.append(torch.zeros(2 * UNITS))
            else:
                steps.append(previous)
        if return_sequences:
            rows_out.append(torch.stack(steps))
        elif bidirectional:
            rows_out.append(torch.cat([states[0][0, 0], states[0][1, 0]]))  # forward after the last real step, backward after the first
        else:
            rows_out.append(states[0][0, 0])
        # Keras's state order: forward h (c), then backward h (c)
        rows_states.append([states[k][d, 0] for d in range(directions) for k in range(n_states)])
    y = torch.stack(rows_out)
    finals = [torch.stack([rows_states[b][i] for b in range(BATCH)]) for i in range(n_states * directions)]
    r = torch.tensor(grid(rng, tuple(y.shape)), dtype=torch.float32)
    rs = [torch.tensor(grid(rng, tuple(s.shape)), dtype=torch.float32) for s in finals]
    loss = (y * r).sum() + sum((s * q).sum() for s, q in zip(finals, rs))
    loss.backward()
    names = [('forward/', 'l0'), ('backward/', 'l0_reverse')] if bidirectional else [('', 'l0')]
    weights, grads = {}, {}
    for prefix, suffix in names:
        for k, v in keras_weights(kind, module, suffix, value).items():
            weights[prefix + k] = enc(v)
        for k, v in keras_weights(kind, module, suffix, grad).items():
            grads[prefix + k] = enc(v)
    fixture = {
        'kind': kind, 'bidirectional': bidirectional, 'returnSequences': return_sequences, 'units': UNITS,
        'x': enc(x), 'mask': enc(np.array(MASK, dtype=np.int32)), 'weights': weights,
        'outputs': [enc(y)] + [enc(s) for s in finals], 'r': [enc(r)] + [enc(q) for q in rs],
        'grads': grads, 'inputGrad': enc(x.grad), 'loss': float(f'{loss.item():.10g}'),
    }
    if init is not None:
        fixture['initialState'] = [enc(s) for s in init]
        fixture['initialStateGrads'] = [enc(s.grad) for s in init]
    return fixture


def main():
    rng = np.random.default_rng(1414)
    cases = {}
    for bidirectional in (False, True):
        for kind in MODULES:
            prefix = f"{'bidirectional-' if bidirectional else ''}{kind}"
            for return_sequences in (True, False):
                cases[f"{prefix}-masked-{'sequences' if return_sequences else 'last'}"] = case(rng, kind, bidirectional, return_sequences, False)
            cases[f'{prefix}-masked-initialState-sequences'] = case(rng, kind, bidirectional, True, True)
    write('keras-rnn-masked', {'cases': cases}, 'scripts/keras_rnn_masked_reference.py')


if __name__ == '__main__':
    main()
