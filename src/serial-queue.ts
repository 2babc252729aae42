// Runs tasks one after another in the order they were handed over, whatever each one's outcome:
// a codec stream's state (audio encoder and decoder streams) and a session's frames need order.
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(task, task);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
