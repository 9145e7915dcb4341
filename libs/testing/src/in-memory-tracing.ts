import { context, propagation, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * An OpenTelemetry SDK for the enclosing test file or describe block, exporting to memory. Registers
 * jest hooks: start it before the tests, empty the exporter before each, stop it and reset the
 * global API after. No instrumentations: jest's module system is not Node's (the processes get
 * them); the spans come from our own code. Imported by path
 * (`@cryptocare/testing/src/in-memory-tracing`), so unit tests do not load the rest of the package.
 */
export function inMemoryTracing(serviceName: string): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let sdk: NodeSDK | undefined;
  beforeAll(() => {
    sdk = new NodeSDK({ serviceName, instrumentations: [], spanProcessors: [new SimpleSpanProcessor(exporter)], metricReaders: [], logRecordProcessors: [] });
    sdk.start();
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    await sdk?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  return exporter;
}
