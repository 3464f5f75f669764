"""PyTorch's steady train step for bench/recurrent.mjs's LSTM loop, one thread:
nn.LSTM 16→64 (batch_first) + nn.Linear 64→1 on every step, batch 32, Adam,
MSE loss; prints one JSON line per sequence length with the median step in ms.
Run: /usr/bin/python3 scripts/lstm_torch_step.py 50,200   (Debian's python3-torch)"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(16, 64, batch_first=True)
        self.head = torch.nn.Linear(64, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out)


for t in [int(v) for v in (sys.argv[1] if len(sys.argv) > 1 else '50,200').split(',')]:
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(32, t, 16)
    y = torch.randn(32, t, 1)
    times = []
    for i in range(41):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        loss.item()
        times.append((time.perf_counter() - t0) * 1000)
    steady = sorted(times[1:])[len(times[1:]) // 2]
    print(json.dumps({'T': t, 'torch_ms': round(steady, 3), 'torch': torch.__version__, 'threads': torch.get_num_threads()}))
