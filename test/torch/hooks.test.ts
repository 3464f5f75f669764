/** Module.registerForwardHook / registerForwardPreHook: PyTorch's forward hooks, which addGraph uses to scope ops by submodule. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn } = kiln;

class Net extends nn.Module {
  fc1 = new nn.Linear(3, 4);
  fc2 = new nn.Linear(4, 2);
  forward(x: kiln.Tensor) { return this.fc2.forward(nn.functional.relu(this.fc1.forward(x))); }
}

describe('forward hooks', () => {
  test('run after each forward, inner modules first, with the args and the output', () => {
    const net = new Net();
    const seen: string[] = [];
    const x = kiln.randn([2, 3], { seed: 1 });
    let fc1Out: unknown;
    const handles = net.namedModules().map(([path, m]) => m.registerForwardHook((mod, args, out) => {
      seen.push(`${path || 'net'} ${(args[0] as kiln.Tensor).shape.join('x')}→${(out as kiln.Tensor).shape.join('x')}`);
      if (mod === net.fc1) fc1Out = out;
      return undefined;
    }));
    const y = net.forward(x);
    expect(seen).toEqual(['fc1 2x3→2x4', 'fc2 2x4→2x2', 'net 2x3→2x2']);
    expect(fc1Out).toBeInstanceOf(kiln.Tensor);
    for (const h of handles) h.remove();
    net.forward(x);
    expect(seen).toHaveLength(3); // removed
    expect(y.shape).toEqual([2, 2]);
  });

  test('a forward hook may replace the output, a pre-hook the arguments', () => {
    const lin = new nn.Linear(2, 2);
    const x = kiln.tensor([[1, 2]]);
    const plain = Array.from(lin.forward(x).dataSync());
    const post = lin.registerForwardHook((_m, _a, out) => (out as kiln.Tensor).mul(2));
    expect(Array.from(lin.forward(x).dataSync())).toEqual(plain.map((v) => Math.fround(v * 2)));
    post.remove();
    const pre = lin.registerForwardPreHook(() => [kiln.tensor([[0, 0]])]);
    expect(Array.from(lin.forward(x).dataSync())).toEqual(Array.from(lin.bias!.dataSync()));
    pre.remove();
    expect(Array.from(lin.forward(x).dataSync())).toEqual(plain);
  });

  test('a hook that is not a function is a named error', () => {
    expect(() => new nn.Linear(1, 1).registerForwardHook(3 as never)).toThrow('Linear.registerForwardHook: expected a function, got number.');
  });
});
