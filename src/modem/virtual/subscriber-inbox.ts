/**
 * What the virtual network's subscriber phones have received: texts (from the network) and
 * MMS (from the virtual MMSC). A port, so the gateway keeps them in its database (they
 * survive a restart) while tests and a bare network keep them in memory.
 */

/** A text as a virtual subscriber phone received it. */
export interface SubscriberMessage {
  from: string;
  to: string;
  body: string;
  parts: number;
  /** False while parts of a concatenated set are missing. */
  complete: boolean;
  receivedAt: string;
}

/** One media part of an MMS a subscriber phone received, as given to the inbox. */
export interface SubscriberMediaPart {
  contentType: string;
  name: string | null;
  data: Uint8Array;
}

/** An MMS as a virtual subscriber phone received it. */
export interface SubscriberMms {
  from: string;
  to: string;
  subject: string | null;
  text: string;
  media: SubscriberMediaPart[];
  receivedAt: string;
}

/** A received MMS as listed: each part by id (fetch its bytes with mediaPart), type, name and size. */
export interface SubscriberMmsEntry extends Omit<SubscriberMms, 'media'> {
  media: { id: string; contentType: string; name: string | null; size: number }[];
}

export interface SubscriberInbox {
  addText(message: SubscriberMessage): void;
  /** Texts a phone received, oldest first. */
  texts(phone: string): SubscriberMessage[];
  addMms(message: SubscriberMms): void;
  /** MMS a phone received, oldest first. */
  mms(phone: string): SubscriberMmsEntry[];
  /** One media part of a received MMS, by the id mms() listed. */
  mediaPart(id: string): SubscriberMediaPart | undefined;
}

/** Subscriber phones' inboxes in memory: lost when the process ends. */
export class MemorySubscriberInbox implements SubscriberInbox {
  #texts = new Map<string, SubscriberMessage[]>();
  #mms = new Map<string, SubscriberMmsEntry[]>();
  #media = new Map<string, SubscriberMediaPart>();

  addText(message: SubscriberMessage): void {
    this.#texts.set(message.to, [...(this.#texts.get(message.to) ?? []), message]);
  }

  texts(phone: string): SubscriberMessage[] {
    return [...(this.#texts.get(phone) ?? [])];
  }

  addMms(message: SubscriberMms): void {
    const media = message.media.map((part) => {
      const id = String(this.#media.size + 1);
      this.#media.set(id, part);
      return { id, contentType: part.contentType, name: part.name, size: part.data.length };
    });
    this.#mms.set(message.to, [...(this.#mms.get(message.to) ?? []), { ...message, media }]);
  }

  mms(phone: string): SubscriberMmsEntry[] {
    return [...(this.#mms.get(phone) ?? [])];
  }

  mediaPart(id: string): SubscriberMediaPart | undefined {
    return this.#media.get(id);
  }
}
