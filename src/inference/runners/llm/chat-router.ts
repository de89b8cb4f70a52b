import { UnknownModelError } from '../../errors.ts';
import type { ChatBackend } from './chat-types.ts';

export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** Chat models by the name clients use: local runners and upstream engines side by side. */
export class ChatRouter {
  private readonly backends = new Map<string, ChatBackend>();

  constructor(
    readonly defaultModel: string,
    /** Unix seconds reported as `created` (the gateway's start). */
    private readonly createdS: number,
  ) {}

  add(backend: ChatBackend): this {
    this.backends.set(backend.model, backend);
    return this;
  }

  has(model: string): boolean {
    return this.backends.has(model);
  }

  get(model: string | undefined): ChatBackend {
    const name = model ?? this.defaultModel;
    const backend = this.backends.get(name);
    if (!backend) {
      throw new UnknownModelError(name, [...this.backends.keys()], 'for chat');
    }
    return backend;
  }

  models(): ModelEntry[] {
    return [...this.backends.values()].map((b) => ({ id: b.model, object: 'model', created: this.createdS, owned_by: b.ownedBy }));
  }
}
