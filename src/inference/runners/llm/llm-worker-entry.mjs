// The decode loop's own thread (one per local LLM): TypeScript through tsx, as the pool's workers.
import { register } from 'tsx/esm/api';

register();
await import('./llm-worker.ts');
