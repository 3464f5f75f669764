/**
 * The compiled back end of lazy tensors (see compiler/lazy.ts): a lazy graph
 * compiles with `compileModule` into a one-entry module, and each run binds
 * storages (parameters, optimizer state, gradients) by input name. A storage's
 * value stays in the module between runs — it is uploaded only when the module
 * does not hold its latest version, and read back only when the user reads it.
 */
import type { Graph } from '../../compiler/ir.js';
import { setBackend, Storage, type Holder, type Job, type Runner } from '../../compiler/lazy.js';
import type { Value } from '../../compiler/ops/op.js';
import { compileModule, compileModuleSync } from '../compile.js';
import type { InputData, KilnModule } from '../runtime/index.js';

const asInput = (v: Value): InputData => ({ data: v.data, shape: v.shape });

class CompiledRunner implements Runner {
  /** Which storage (and version) each parameter/state slot holds. */
  private readonly bound = new Map<string, { storage: Storage; version: number }>();
  private readonly holders = new Map<string, Holder>();

  constructor(private readonly module: KilnModule) {}

  private holder(name: string): Holder {
    let h = this.holders.get(name);
    if (!h) this.holders.set(name, (h = { fetch: () => this.module.get(name) as Value }));
    return h;
  }

  run(job: Job): Record<string, Value> {
    const feeds: Record<string, InputData> = {};
    for (const [name, b] of job.bindings) {
      if (!(b instanceof Storage)) {
        feeds[name] = asInput(b);
        continue;
      }
      const have = this.bound.get(name);
      if (have && have.storage === b && have.version === b.version) continue;
      if (have && have.storage !== b) have.storage.evict(this.holder(name)); // the slot is reused: keep the old value
      this.module.set(name, asInput(b.peek()));
      this.bound.set(name, { storage: b, version: b.version });
    }
    const outputs = this.module.run('step', feeds);
    for (const [name, storage] of job.updates) {
      storage.settle(undefined, this.holder(name));
      this.bound.set(name, { storage, version: storage.version });
    }
    return outputs as Record<string, Value>;
  }
}

/** Compiles lazy graphs for the engine; installed when `kiln` is imported. */
export function installCompiledBackend(): void {
  setBackend({
    async compile(graph: Graph): Promise<Runner> {
      const { module } = await compileModule({ step: graph });
      return new CompiledRunner(module);
    },
    compileSync(graph: Graph): Runner {
      return new CompiledRunner(compileModuleSync({ step: graph }).module);
    },
  });
}
