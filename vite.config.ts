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

/**
 * The Content-Security-Policy of the built studio (a meta tag; the dev server's hot reload needs an inline
 * script, so `npm start` runs without it, `vite build` / preview and production with it):
 * scripts only from the studio's origin (and WebAssembly compilation, which the wasm backend needs; no
 * eval, no inline scripts), workers from the origin, images from the origin, blob: and data: (dropped
 * images, exported figures), styles from the origin (React sets style properties through the CSSOM, which
 * CSP allows), and fetches from the origin, blob: and https: or localhost — the model URL a user types
 * can be any host, so no list can name it in advance. Nothing is sent anywhere on its own (e2e/privacy.spec.ts).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' blob: https: http://localhost:* http://127.0.0.1:*",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'cam-studio-csp',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' },
    ],
  };
}

export default defineConfig({
  plugins: [react(), serveModels(), contentSecurityPolicy()],
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
