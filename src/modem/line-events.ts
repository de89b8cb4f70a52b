/** What happened on a line, for the operator: state changes, registration, errors and recoveries. */
export interface LineEvent {
  /** ISO time of the latest occurrence. */
  at: string;
  type: 'state' | 'registration' | 'error' | 'recovered' | 'routing';
  detail: string;
  /** How many times in a row this same event happened (a modem failing every poll is one entry). */
  repeated: number;
}

/**
 * A bounded in-memory ring of a line's recent events: `lastError` is only the present, this is
 * the history. Repeats of the newest entry are counted on it rather than pushing others out.
 */
export class LineEventLog {
  readonly #capacity: number;
  readonly #now: () => number;
  #events: LineEvent[] = [];

  constructor(now: () => number, capacity = 50) {
    this.#now = now;
    this.#capacity = capacity;
  }

  add(type: LineEvent['type'], detail: string): void {
    const at = new Date(this.#now()).toISOString();
    const last = this.#events[this.#events.length - 1];
    if (last && last.type === type && last.detail === detail) {
      last.at = at;
      last.repeated++;
      return;
    }
    this.#events.push({ at, type, detail, repeated: 1 });
    if (this.#events.length > this.#capacity) this.#events.splice(0, this.#events.length - this.#capacity);
  }

  /** Oldest first, copies. */
  list(): LineEvent[] {
    return this.#events.map((e) => ({ ...e }));
  }
}
