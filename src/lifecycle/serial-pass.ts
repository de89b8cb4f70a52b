/**
 * A pass over due work (a dispatcher's claim-and-hand-out) that runs one at a time: a pass asked
 * for while one is under way runs once more after it, however often it was asked meanwhile.
 */
export class SerialPass {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly pass: () => Promise<void>,
    /** A pass that failed (the store unreachable): log it and look again later. */
    private readonly failed: (err: unknown) => void,
  ) {}

  run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.pass()
      .catch(this.failed)
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.run();
        }
      });
  }

  /** Resolves once the pass under way, if any, has ended (at stop: what it claimed is handed out). */
  async settled(): Promise<void> {
    await this.#running;
  }
}
