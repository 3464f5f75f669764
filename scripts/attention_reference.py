"""Reference outputs and gradients of multi-head and dot-product attention from
PyTorch (torch.nn.MultiheadAttention, batch_first), for test/api/attention.test.ts.

Weights are written in Keras's MultiHeadAttention layout (EinsumDense kernels):
query/key/value kernels [features, heads, headDim] and biases [heads, headDim],
the output kernel [heads, headDim, outputDim] — torch's packed in_proj_weight
rows are head-major, so each kernel is its block transposed and reshaped.

Padded cases give each row of the query and the value a real length: torch
masks the value's padding with key_padding_mask; the fixture writes the 0/1
masks Keras's layers read (queryMask, valueMask), and r is zero at padded query
steps, whose outputs Keras leaves unspecified (its output mask drops them).

Run: /usr/bin/python3 scripts/attention_reference.py   (writes test/fixtures/torch/attention.json)
"""
import numpy as np
import torch

from torch_fixture_util import enc, grid, write


def lengths_mask(lengths, steps):
    """[batch, steps] bool: True at each row's first `length` steps."""
    return torch.tensor([[t < n for t in range(steps)] for n in lengths], dtype=torch.bool)


def mha_case(name, rng, batch, tq, tv, embed, heads, causal, cross, q_lengths=None, v_lengths=None):
    mha = torch.nn.MultiheadAttention(embed, heads, batch_first=True, bias=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(grid(rng, (3 * embed, embed), 0.5), dtype=torch.float32))
        mha.in_proj_bias.copy_(torch.tensor(grid(rng, (3 * embed,), 0.25), dtype=torch.float32))
        mha.out_proj.weight.copy_(torch.tensor(grid(rng, (embed, embed), 0.5), dtype=torch.float32))
        mha.out_proj.bias.copy_(torch.tensor(grid(rng, (embed,), 0.25), dtype=torch.float32))
    query = torch.tensor(grid(rng, (batch, tq, embed)), dtype=torch.float32, requires_grad=True)
    value = torch.tensor(grid(rng, (batch, tv, embed)), dtype=torch.float32, requires_grad=True)
    key = torch.tensor(grid(rng, (batch, tv, embed)), dtype=torch.float32, requires_grad=True) if cross else value
    mask = torch.triu(torch.ones(tq, tv, dtype=torch.bool), diagonal=1) if causal else None
    q_mask = lengths_mask(q_lengths or [tq] * batch, tq)
    v_mask = lengths_mask(v_lengths or [tv] * batch, tv)
    padding = ~v_mask if v_lengths else None
    out, _ = mha(query, key, value, attn_mask=mask, key_padding_mask=padding, need_weights=False)
    r = torch.tensor(grid(rng, out.shape), dtype=torch.float32) * q_mask[..., None]
    (out * r).sum().backward()
    d = embed // heads
    w = mha.in_proj_weight
    b = mha.in_proj_bias

    def kernel(block):
        return block.detach().t().reshape(embed, heads, d)

    keras = {
        'query/kernel': kernel(w[:embed]), 'query/bias': b[:embed].detach().reshape(heads, d),
        'key/kernel': kernel(w[embed:2 * embed]), 'key/bias': b[embed:2 * embed].detach().reshape(heads, d),
        'value/kernel': kernel(w[2 * embed:]), 'value/bias': b[2 * embed:].detach().reshape(heads, d),
        'attention_output/kernel': mha.out_proj.weight.detach().t().reshape(heads, d, embed),
        'attention_output/bias': mha.out_proj.bias.detach(),
    }
    gw = mha.in_proj_weight.grad
    gb = mha.in_proj_bias.grad
    grads = {
        'query/kernel': gw[:embed].t().reshape(embed, heads, d), 'query/bias': gb[:embed].reshape(heads, d),
        'key/kernel': gw[embed:2 * embed].t().reshape(embed, heads, d), 'key/bias': gb[embed:2 * embed].reshape(heads, d),
        'value/kernel': gw[2 * embed:].t().reshape(embed, heads, d), 'value/bias': gb[2 * embed:].reshape(heads, d),
        'attention_output/kernel': mha.out_proj.weight.grad.t().reshape(heads, d, embed),
        'attention_output/bias': mha.out_proj.bias.grad,
    }
    return name, {
        'numHeads': heads, 'keyDim': d, 'causal': causal, 'cross': cross,
        **({'queryMask': enc(q_mask.float()), 'valueMask': enc(v_mask.float())} if q_lengths or v_lengths else {}),
        'query': enc(query), 'value': enc(value), **({'key': enc(key)} if cross else {}), 'r': enc(r),
        'weights': {k: enc(v) for k, v in keras.items()},
        'output': enc(out),
        'grads': {k: enc(v) for k, v in grads.items()},
        'inputGrads': {'query': enc(query.grad), 'value': enc(value.grad), **({'key': enc(key.grad)} if cross else {})},
    }


def dot_case(name, rng, batch, tq, tv, dim, causal, q_lengths=None, v_lengths=None):
    """Keras's Attention (no scale): softmax(q kᵀ [masked]) v, written out in torch; masked query steps output zeros."""
    query = torch.tensor(grid(rng, (batch, tq, dim)), dtype=torch.float32, requires_grad=True)
    value = torch.tensor(grid(rng, (batch, tv, dim)), dtype=torch.float32, requires_grad=True)
    scores = query @ value.transpose(1, 2)
    if causal:
        scores = scores.masked_fill(torch.triu(torch.ones(tq, tv, dtype=torch.bool), diagonal=1), float('-inf'))
    q_mask = lengths_mask(q_lengths or [tq] * batch, tq)
    v_mask = lengths_mask(v_lengths or [tv] * batch, tv)
    scores = scores.masked_fill(~v_mask[:, None, :], float('-inf'))
    out = (torch.softmax(scores, -1) @ value) * q_mask[..., None]
    r = torch.tensor(grid(rng, out.shape), dtype=torch.float32)
    (out * r).sum().backward()
    masks = {'queryMask': enc(q_mask.float()), 'valueMask': enc(v_mask.float())} if q_lengths or v_lengths else {}
    return name, {'causal': causal, **masks, 'query': enc(query), 'value': enc(value), 'r': enc(r), 'output': enc(out),
                  'inputGrads': {'query': enc(query.grad), 'value': enc(value.grad)}}


def main():
    rng = np.random.default_rng(11)
    cases = dict([
        mha_case('self', rng, 2, 5, 5, 8, 2, False, False),
        mha_case('causal', rng, 2, 5, 5, 8, 2, True, False),
        mha_case('cross', rng, 2, 3, 4, 8, 4, False, True),
        dot_case('dot', rng, 2, 3, 4, 6, False),
        dot_case('dotCausal', rng, 2, 4, 4, 6, True),
        # padded rows (appended, so the cases above keep their values)
        mha_case('selfPadded', rng, 3, 5, 5, 8, 2, False, False, [5, 3, 2], [5, 3, 2]),
        mha_case('causalPadded', rng, 3, 5, 5, 8, 2, True, False, [4, 5, 2], [4, 5, 2]),
        mha_case('crossPadded', rng, 2, 3, 6, 8, 4, False, True, None, [6, 2]),
        dot_case('dotPadded', rng, 3, 4, 5, 6, False, [4, 2, 3], [5, 1, 3]),
    ])
    write('attention', {'cases': cases}, 'scripts/attention_reference.py')


if __name__ == '__main__':
    main()
