// The bench callers' worker thread: it runs the TypeScript sources through tsx, as the CLI does.
import { register } from 'tsx/esm/api';

register();
await import('./voice-caller-thread.ts');
