// The piscina worker file. Workers run the TypeScript sources through tsx like the CLI does.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./worker.ts');
export default worker.default;
