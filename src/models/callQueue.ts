/**
 * One model, one state: the calls that train, evaluate, rebuild or save a model
 * run one after another, in the order they were made, so a second call never
 * works on a copy of the weights that the first is still changing. A queue
 * rather than an error, as Keras users await calls from several places (a UI
 * button, a timer) and expect them to take turns. Calls made from inside a
 * running call's callbacks (a checkpoint saving during fit) run at once: the
 * running call is paused while its callback awaits them, and queueing them
 * behind it would deadlock.
 */
export class CallQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private hookDepth = 0;

  /** Runs `fn` after every call queued before it (at once when called from a running call's hook). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.hookDepth > 0) return fn();
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined); // a failed call does not block the next
    return result;
  }

  /** Runs a running call's hook (a callback): calls it makes on the model go through at once. */
  async hook<T>(fn: () => T | Promise<T>): Promise<T> {
    this.hookDepth++;
    try {
      return await fn();
    } finally {
      this.hookDepth--;
    }
  }
}
