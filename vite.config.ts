import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const modelsDir = resolve(import.meta.dirname, 'models');
const contentTypes: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream' };

/**
 * Serves models/ (fetched by `npm run setup`, ignored by git) at /models/ in dev and preview, so the
 * 98 MiB ResNet50 is never copied into the bundle.
 */
function serveModels(): Plugin {
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = (req.url ?? '').split('?')[0] ?? '';
    if (!url.startsWith('/models/')) return next();
    const path = normalize(join(modelsDir, decodeURIComponent(url.slice('/models/'.length))));
    if (!path.startsWith(modelsDir) || !existsSync(path) || !statSync(path).isFile()) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('Content-Type', contentTypes[extname(path)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', String(statSync(path).size));
    createReadStream(path).pipe(res);
  };
  return {
    name: 'cam-studio-serve-models',
    configureServer: (server) => void server.middlewares.use(middleware),
    configurePreviewServer: (server) => void server.middlewares.use(middleware),
  };
}

export default defineConfig({
  plugins: [react(), serveModels()],
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
