/** A virtual modem's message storages (SM, ME, SR…), each with a fixed number of slots. */
export interface StoredSms {
  /** 27.005 stat: 0 unread, 1 read, 2 stored unsent, 3 stored sent. */
  stat: number;
  pdu: string;
}

export class SmsStore {
  #mems = new Map<string, (StoredSms | undefined)[]>();

  constructor(names: readonly string[], slots: number) {
    for (const name of names) this.#mems.set(name, new Array<StoredSms | undefined>(slots).fill(undefined));
  }

  has(mem: string): boolean {
    return this.#mems.has(mem);
  }

  /** Stores a PDU in the first free slot; undefined when the storage is full. Indexes start at 0. */
  add(mem: string, sms: StoredSms): number | undefined {
    const slots = this.#mems.get(mem);
    if (!slots) return undefined;
    const index = slots.findIndex((s) => s === undefined);
    if (index < 0) return undefined;
    slots[index] = sms;
    return index;
  }

  get(mem: string, index: number): StoredSms | undefined {
    return this.#mems.get(mem)?.[index];
  }

  delete(mem: string, index: number): boolean {
    const slots = this.#mems.get(mem);
    if (!slots || index < 0 || index >= slots.length) return false;
    slots[index] = undefined;
    return true;
  }

  list(mem: string): { index: number; sms: StoredSms }[] {
    const slots = this.#mems.get(mem) ?? [];
    return slots.flatMap((sms, index) => (sms ? [{ index, sms }] : []));
  }

  used(mem: string): number {
    return this.list(mem).length;
  }

  capacity(mem: string): number {
    return this.#mems.get(mem)?.length ?? 0;
  }

  valid(mem: string, index: number): boolean {
    return index >= 0 && index < this.capacity(mem);
  }
}
