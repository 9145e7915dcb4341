import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The gateway serves web/dist on the same origin as the API; in `npm run dev -w web` Vite proxies
// the API to a gateway started with `make dev` (override with CRYPTOCARE_API).
const api = process.env.CRYPTOCARE_API ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/v1': api, '/webhooks': api } },
});
