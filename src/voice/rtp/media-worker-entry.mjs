// The media worker thread's file. Like the inference workers, it runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./media-worker.ts');
