// The fuzz worker thread: it runs the TypeScript sources through tsx, as the CLI does.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
