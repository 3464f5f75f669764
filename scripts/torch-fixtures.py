#!/usr/bin/python3
"""Golden fixtures for test/api/torch-reference.test.ts, computed with PyTorch.

Run with Debian's interpreter and packages (apt-get install python3-torch python3-numpy):

    /usr/bin/python3 scripts/torch-fixtures.py

Writes test/fixtures/torch/{dense,conv2d,batchnorm,embedding}.json. Inputs and
weights are multiples of 1/64 from a seeded numpy generator, so they are exact in
float32 and kiln sees the very numbers torch saw; torch computes in float64.
Every tensor is stored in kiln's layout, row-major: dense kernels [in, out],
conv kernels HWIO, activations NHWC. Where Keras and PyTorch differ (Adam's and
RMSprop's epsilon, batch norm's momentum and running variance) the script sets
options that make them agree or converts torch's result to the Keras form, and
says so in the fixture's "notes".
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from torch_fixture_util import OUT, enc, grid, write as write_fixture

torch.set_default_dtype(torch.float64)


def write(name, fixture):
    write_fixture(name, fixture, 'scripts/torch-fixtures.py')


def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def check_gradients_away_from_zero(grads, floor=1e-2):
    """Adam's first step is ~lr·sign(g) and RMSprop's ~lr·g/|g|·√10: keep every |g| well clear of 0 so float32 agrees."""
    smallest = min(float(g.abs().min()) for g in grads)
    assert smallest > floor, f'a gradient element is {smallest}; choose other data'


# ---- (a) Dense + relu + Dense, sparse softmax cross-entropy from logits, three optimizers ----

def dense_fixture():
    rng = np.random.default_rng(6)  # a seed whose gradients (both steps) all have |g| > 1e-2
    x, w1, b1, w2, b2 = grid(rng, [4, 3], 2), grid(rng, [3, 5]), grid(rng, [5], 0.5), grid(rng, [5, 3]), grid(rng, [3], 0.5)
    labels = np.array([0, 2, 1, 2])

    def model():
        m = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
        with torch.no_grad():
            m[0].weight.copy_(t(w1).T), m[0].bias.copy_(t(b1)), m[2].weight.copy_(t(w2).T), m[2].bias.copy_(t(b2))
        return m

    def kiln_order(m):
        """[kernel1 [in,out], bias1, kernel2, bias2]: torch's Linear weight is [out, in]."""
        return [m[0].weight.T, m[0].bias, m[2].weight.T, m[2].bias]

    def step_loss(m):
        logits = m(t(x))
        return logits, F.cross_entropy(logits, torch.tensor(labels))

    m = model()
    logits, loss = step_loss(m)
    loss.backward()
    grads = [m[0].weight.grad.T, m[0].bias.grad, m[2].weight.grad.T, m[2].bias.grad]
    check_gradients_away_from_zero(grads)

    # (options for kiln, torch optimizer) — each run for two steps on the same batch
    optimizers = {
        'sgd': ({'learningRate': 0.1, 'momentum': 0.9}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        'adam': ({'learningRate': 0.01, 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-12}, lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-12)),
        'rmsprop': ({'learningRate': 0.01, 'rho': 0.9, 'epsilon': 1e-16}, lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-16)),
    }
    runs = {}
    for name, (options, make) in optimizers.items():
        m = model()
        opt = make(m.parameters())
        losses, weights = [], []
        for _ in range(2):
            opt.zero_grad()
            _, l = step_loss(m)
            l.backward()
            check_gradients_away_from_zero([p.grad for p in m.parameters()])
            opt.step()
            losses.append(float(l))
            weights.append([enc(w) for w in kiln_order(m)])
        runs[name] = {'options': options, 'losses': losses, 'weightsAfterStep': weights}

    # the Keras forms, by hand in float64, agree with torch's at these epsilons (see notes)
    keras_adam_first = [w - 0.01 * (g / abs(g)) for w, g in zip([w1, b1, w2, b2], [gr.numpy() for gr in grads])]
    for want, got in zip(keras_adam_first, runs['adam']['weightsAfterStep'][0]):
        assert np.allclose(np.reshape(got['data'], want.shape), want, rtol=1e-9, atol=1e-9)

    write('dense', {
        'model': 'dense(3→5, relu) → dense(5→3); loss: sparse categorical cross-entropy from logits (mean)',
        'notes': [
            'SGD: torch keeps b ← μb + g, w ← w − lr·b; Keras m ← μm − lr·g, w ← w + m: the same steps at a constant lr.',
            'Adam: torch divides by sqrt(v̂) + ε, Keras by sqrt(v) + ε with α = lr·sqrt(1−β₂ᵗ)/(1−β₁ᵗ), i.e. ε_torch = ε_keras/sqrt(1−β₂ᵗ); '
            'ε = 1e-12 in both makes the difference < 1e-9 relative (the script checks step 1 against the Keras form by hand).',
            'RMSprop: torch puts ε outside the root, Keras inside; ε = 1e-16 in both and every |g| > 1e-2 make the difference < 1e-12 relative. '
            'rho = torch alpha = 0.9, no momentum.',
        ],
        'inputs': {'x': enc(x), 'labels': enc(labels)},
        'weights': [enc(w) for w in [w1, b1, w2, b2]],
        'logits': enc(logits),
        'loss': float(loss),
        'gradients': [enc(g) for g in grads],
        'optimizers': runs,
    })


# ---- (b) Conv2D 'same' 3×3 with bias → flatten → dense, mean squared error ------------------

def conv2d_fixture():
    rng = np.random.default_rng(2)
    x = grid(rng, [2, 4, 4, 2])              # NHWC
    kernel = grid(rng, [3, 3, 2, 3], 0.5)    # HWIO
    bias = grid(rng, [3], 0.25)
    w = grid(rng, [48, 2], 0.25)
    b = grid(rng, [2], 0.25)
    y = grid(rng, [2, 2])

    conv = torch.nn.Conv2d(2, 3, 3, padding='same')
    linear = torch.nn.Linear(48, 2)
    with torch.no_grad():
        conv.weight.copy_(t(kernel).permute(3, 2, 0, 1))   # HWIO → OIHW
        conv.bias.copy_(t(bias)), linear.weight.copy_(t(w).T), linear.bias.copy_(t(b))
    xs = t(x).requires_grad_()
    features = conv(xs.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)   # NHWC in, NCHW conv, NHWC out
    predictions = linear(features.reshape(2, -1))                     # kiln flattens NHWC rows
    loss = F.mse_loss(predictions, t(y))
    loss.backward()
    grads = [conv.weight.grad.permute(2, 3, 1, 0), conv.bias.grad, linear.weight.grad.T, linear.bias.grad]
    lr = 0.1
    write('conv2d', {
        'model': "conv2d(3 filters, 3×3, 'same', bias) → flatten → dense(48→2); loss: mean squared error",
        'notes': ['torch is NCHW with OIHW kernels: x.permute(0,3,1,2), kernel.permute(3,2,0,1); results permuted back to NHWC/HWIO.',
                  'weightsAfterStep: one plain SGD step (lr 0.1), w − lr·g.'],
        'inputs': {'x': enc(x), 'y': enc(y)},
        'weights': [enc(a) for a in [kernel, bias, w, b]],
        'convOutput': enc(features),
        'predictions': enc(predictions),
        'loss': float(loss),
        'gradients': [enc(g) for g in grads],
        'inputGradient': enc(xs.grad),
        'sgd': {'learningRate': lr, 'weightsAfterStep': [enc(a - lr * g.numpy()) for a, g in zip([kernel, bias, w, b], grads)]},
    })


# ---- (c) BatchNormalization (training mode) → dense, one SGD step ------------------------------

def batchnorm_fixture():
    rng = np.random.default_rng(3)
    keras_momentum, eps = 0.99, 1e-3
    x = grid(rng, [6, 3], 2) + np.array([1.0, -0.5, 0.25])
    gamma, beta = 1 + grid(rng, [3], 0.5), grid(rng, [3], 0.5)
    mean0, var0 = np.array([0.125, -0.25, 0.5]), np.array([1.5, 0.5, 2.0])
    w, b, y = grid(rng, [3, 2]), grid(rng, [2], 0.25), grid(rng, [6, 2])
    n = x.shape[0]

    # torch's momentum is 1 − Keras' momentum (the weight of the batch statistic)
    bn = torch.nn.BatchNorm1d(3, eps=eps, momentum=1 - keras_momentum)
    linear = torch.nn.Linear(3, 2)
    with torch.no_grad():
        bn.weight.copy_(t(gamma)), bn.bias.copy_(t(beta)), bn.running_mean.copy_(t(mean0)), bn.running_var.copy_(t(var0))
        linear.weight.copy_(t(w).T), linear.bias.copy_(t(b))
    xs = t(x).requires_grad_()
    normalised = bn.train()(xs)
    predictions = linear(normalised)
    loss = F.mse_loss(predictions, t(y))
    loss.backward()
    grads = [bn.weight.grad, bn.bias.grad, linear.weight.grad.T, linear.bias.grad]

    # torch's running_var takes the UNBIASED batch variance (·n/(n−1)); Keras' moving_variance the biased one:
    # keras = μ·var0 + (1 − μ)·var_biased, and var_biased = (torch − μ·var0)/(1 − μ) · (n − 1)/n
    batch_var_unbiased = (bn.running_var - keras_momentum * t(var0)) / (1 - keras_momentum)
    moving_var = keras_momentum * t(var0) + (1 - keras_momentum) * batch_var_unbiased * (n - 1) / n
    assert torch.allclose(moving_var, keras_momentum * t(var0) + (1 - keras_momentum) * xs.detach().var(0, unbiased=False))
    moving_mean = bn.running_mean
    lr = 0.1
    gamma1, beta1, w1, b1 = [a - lr * g.numpy() for a, g in zip([gamma, beta, w, b], grads)]
    # inference after the step: the Keras moving statistics normalise
    inference = F.linear(F.batch_norm(t(x), moving_mean, moving_var, t(gamma1), t(beta1), training=False, eps=eps), t(w1).T, t(b1))

    # a 4-D NHWC batch through BatchNorm2d: channels last in kiln, axis 1 in torch
    x4 = grid(rng, [2, 3, 3, 2], 2)
    bn2 = torch.nn.BatchNorm2d(2, eps=eps, momentum=1 - keras_momentum)
    with torch.no_grad():
        bn2.weight.copy_(t([1.5, 0.75])), bn2.bias.copy_(t([0.25, -0.5]))
    out4 = bn2.train()(t(x4).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    m4 = x4.size // 2
    var4 = keras_momentum * 1 + (1 - keras_momentum) * (bn2.running_var - keras_momentum) / (1 - keras_momentum) * (m4 - 1) / m4
    assert torch.allclose(var4, keras_momentum + (1 - keras_momentum) * t(x4).reshape(-1, 2).var(0, unbiased=False))

    write('batchnorm', {
        'model': 'batchNormalization(momentum 0.99, epsilon 1e-3) → dense(3→2); loss: mean squared error; one plain SGD step (lr 0.1)',
        'notes': [
            "torch BatchNorm momentum = 1 − Keras momentum = 0.01.",
            "torch's running_var uses the unbiased batch variance (n/(n−1)); Keras' moving_variance the biased one. "
            'Stored is the Keras value: μ·var0 + (1−μ)·(running_var_torch − μ·var0)/(1−μ)·(n−1)/n.',
            'Both normalise the training batch by its biased variance, so forward values and gradients agree directly.',
        ],
        'inputs': {'x': enc(x), 'y': enc(y)},
        'weights': [enc(a) for a in [gamma, beta, mean0, var0, w, b]],
        'normalised': enc(normalised),
        'predictions': enc(predictions),
        'loss': float(loss),
        'gradients': [enc(g) for g in grads],
        'inputGradient': enc(xs.grad),
        'torchRunningVar': enc(bn.running_var),
        'sgd': {'learningRate': lr, 'weightsAfterStep': [enc(a) for a in [gamma1, beta1, moving_mean, moving_var, w1, b1]]},
        'inferenceAfterStep': enc(inference),
        'nhwc': {'x': enc(x4), 'gamma': [1.5, 0.75], 'beta': [0.25, -0.5], 'output': enc(out4),
                 'movingMean': enc(bn2.running_mean), 'movingVariance': enc(var4)},
    })


# ---- (d) Embedding → mean over the sequence → dense, sparse cross-entropy -------------------

def embedding_fixture():
    rng = np.random.default_rng(4)
    indices = np.array([[0, 3, 3, 1], [4, 2, 0, 0], [1, 1, 1, 3]])   # repeats; row 5 unused
    table = grid(rng, [6, 4])
    w, b = grid(rng, [4, 2]), grid(rng, [2], 0.25)
    labels = np.array([1, 0, 1])
    emb = torch.nn.Embedding(6, 4)
    linear = torch.nn.Linear(4, 2)
    with torch.no_grad():
        emb.weight.copy_(t(table)), linear.weight.copy_(t(w).T), linear.bias.copy_(t(b))
    logits = linear(emb(torch.tensor(indices)).mean(1))
    loss = F.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    grads = [emb.weight.grad, linear.weight.grad.T, linear.bias.grad]
    lr = 0.1
    write('embedding', {
        'model': 'embedding(6→4) → mean over the 4 positions → dense(4→2); loss: sparse categorical cross-entropy from logits',
        'notes': ['Repeated indices accumulate into one embedding row; row 5 is never looked up (zero gradient).',
                  'weightsAfterStep: one plain SGD step (lr 0.1), w − lr·g.'],
        'inputs': {'indices': enc(indices), 'labels': enc(labels)},
        'weights': [enc(a) for a in [table, w, b]],
        'logits': enc(logits),
        'loss': float(loss),
        'gradients': [enc(g) for g in grads],
        'sgd': {'learningRate': lr, 'weightsAfterStep': [enc(a - lr * g.numpy()) for a, g in zip([table, w, b], grads)]},
    })


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    dense_fixture()
    conv2d_fixture()
    batchnorm_fixture()
    embedding_fixture()
