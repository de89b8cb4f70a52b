import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Builds the dashboard (src/dashboard/web) into dist/dashboard, which the gateway serves at /.
// Run by `npm run build:dashboard`, and so by npm's prepare step on `npm install` / `npm ci`.
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
});
