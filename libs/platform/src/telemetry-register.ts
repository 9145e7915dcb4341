// Imported first by every service's main.ts (`import '@cryptocare/platform/src/telemetry-register'`):
// starts OpenTelemetry before pg, ioredis or undici are loaded, so that they are
// instrumented (esbuild keeps import order in the bundles). Off unless the OTEL_* variables ask
// for it (see telemetry.ts). Also starts the process metrics (event-loop delay, heap, GC, CPU) of
// the Prometheus registry, which every process exposes on /metrics.
import { serviceNameFromProcess, startTelemetry } from './telemetry';
import { collectProcessMetrics } from './metrics';

startTelemetry(serviceNameFromProcess());
collectProcessMetrics();
