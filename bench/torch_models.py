"""Native PyTorch timings for the model benchmarks (bench/models.ts spawns this).

Builds the benchmark's two models -- the MLP 784-256-128-10 and the
Fashion-MNIST CNN (conv 5x5x32 same relu, maxpool 2, conv 5x5x64 same relu,
maxpool 2, dense 1024 relu, dense 10) -- in NCHW, and times, on
torch.set_num_threads(threads):

  train  one step on a fixed batch: zero_grad, forward, cross-entropy,
         backward, Adam step (lr 1e-3)
  predict  forward under torch.no_grad() at each batch size

Each case is warmed up, then sampled: a sample repeats the call until it lasts
about --sample-ms; the JSON reports the median and the fastest per-call time in
milliseconds. Inputs are the harness's seeded data (xorshift32 in [-0.5, 0.5),
labels k mod 10), so every engine sees the same numbers.

  python3 bench/torch_models.py --threads 1 --cases mlp:train:128,cnn:predict:1
"""
import argparse
import json
import statistics
import sys
import time


def seeded(length, seed):
    """The harness's randomData: xorshift32, mapped to [-0.5, 0.5)."""
    out = [0.0] * length
    s = (seed & 0xFFFFFFFF) or 1
    for i in range(length):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out[i] = s / 2**32 - 0.5
    return out


def nhwc_to_nchw(values, shape):
    import torch
    n, h, w, c = shape
    return torch.tensor(values, dtype=torch.float32).reshape(n, h, w, c).permute(0, 3, 1, 2).contiguous()


def build(torch, name):
    nn = torch.nn
    if name == 'mlp':
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == 'cnn':
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Linear(1024, 10))
    raise SystemExit(f'unknown model {name!r}')


def inputs(torch, name, batch):
    if name == 'mlp':
        x = torch.tensor(seeded(batch * 784, 11), dtype=torch.float32).reshape(batch, 784)
    else:
        x = nhwc_to_nchw(seeded(batch * 28 * 28, 11), (batch, 28, 28, 1))
    y = torch.tensor([k % 10 for k in range(batch)], dtype=torch.long)
    return x, y


def time_call(call, warmup_ms, sample_ms, samples, budget_ms):
    """Median and fastest per-call ms, after warm-up (at least two calls)."""
    start = time.perf_counter()
    best = float('inf')
    calls = 0
    while True:
        t = time.perf_counter()
        call()
        last = (time.perf_counter() - t) * 1e3
        best = min(best, last)
        calls += 1
        elapsed = (time.perf_counter() - start) * 1e3
        if calls >= 2 and ((elapsed >= warmup_ms and last <= best * 1.15) or elapsed >= 4 * warmup_ms):
            break
    per_sample = max(1, round(sample_ms / max(best, 1e-3)))
    per_call = []
    spent = 0.0
    while len(per_call) < samples and not (len(per_call) >= 3 and spent >= budget_ms):
        t = time.perf_counter()
        for _ in range(per_sample):
            call()
        ms = (time.perf_counter() - t) * 1e3
        spent += ms
        per_call.append(ms / per_sample)
    return {'median': statistics.median(per_call), 'min': min(per_call), 'samples': len(per_call), 'callsPerSample': per_sample}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--cases', required=True, help='comma-separated model:kind:batch, kind train or predict')
    parser.add_argument('--warmup-ms', type=float, default=250)
    parser.add_argument('--sample-ms', type=float, default=40)
    parser.add_argument('--samples', type=int, default=7)
    parser.add_argument('--budget-ms', type=float, default=1500)
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set: only possible before any parallel work
    torch.manual_seed(0)

    results = {}
    models = {}
    for case in args.cases.split(','):
        name, kind, batch = case.split(':')
        model = models.setdefault(name, build(torch, name))
        x, y = inputs(torch, name, int(batch))
        if kind == 'train':
            model.train()
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = torch.nn.CrossEntropyLoss()

            def call():
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                return loss.item()
        else:
            model.eval()

            def call():
                with torch.no_grad():
                    return model(x).numpy()
        results[case] = time_call(call, args.warmup_ms, args.sample_ms, args.samples, args.budget_ms)
        print(f'torch {args.threads} thread(s) {case}: {results[case]["median"]:.2f} ms', file=sys.stderr)

    blas = next((part.split('=')[1] for part in torch.__config__.show().replace(',', ' ').split() if part.startswith('BLAS_INFO=')), '?')
    info = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'python': sys.version.split()[0], 'blas': blas}
    print(json.dumps({'info': info, 'results': results}))


if __name__ == '__main__':
    main()
