"""PyTorch's steady train step (one thread) for bench/sequence-models.mjs's two
models: embedding 10k×64 → bidirectional LSTM 64 → linear 2 (batch 32, 200 steps,
cross-entropy on the last step's concatenated states, as Keras's Bidirectional
LSTM returns), and LSTM 32 → linear 1 (window 48, batch 64, 6 features, MSE);
Adam. Run: /usr/bin/python3 scripts/sequence_models_torch.py [steps=20]"""
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20


class Text(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10000, 64)
        self.lstm = torch.nn.LSTM(64, 64, batch_first=True, bidirectional=True)
        self.head = torch.nn.Linear(128, 2)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embed(x))
        return self.head(torch.cat([h[0], h[1]], -1))


class Forecaster(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(6, 32, batch_first=True)
        self.head = torch.nn.Linear(32, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[0])


def time_steps(name, model, x, y, loss_fn):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for i in range(steps + 1):
        t = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        times.append((time.perf_counter() - t) * 1000)
    print(f'{name}: steady {sorted(times[1:])[len(times[1:]) // 2]:.1f} ms (torch {torch.__version__}, {torch.get_num_threads()} thread)')


time_steps('text', Text(), torch.randint(0, 10000, (32, 200)), torch.randint(0, 2, (32,)), torch.nn.functional.cross_entropy)
time_steps('forecaster', Forecaster(), torch.randn(64, 48, 6), torch.randn(64, 1), torch.nn.functional.mse_loss)
