import * as grpc from '@grpc/grpc-js';
import { finishedCallListener, grpcJsFixesApplied } from './grpc-js-fixes';

/**
 * The fix of grpc-js-fixes.ts against grpc-js' own classes, over a real HTTP/2 connection: a client
 * call that has delivered its status no longer references its caller.
 */
const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const definition = {
  Echo: { path: '/fixes.Test/Echo', requestStream: false, responseStream: false, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
} as grpc.ServiceDefinition;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Http2SubchannelCall } = require('@grpc/grpc-js/build/src/subchannel-call') as { Http2SubchannelCall: { prototype: { outputStatus(): void } } };

describe('grpc-js, as our clients run it', () => {
  let server: grpc.Server;
  let client: grpc.Client;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(definition, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        call.request.toString() === 'refuse' ? callback({ code: grpc.status.FAILED_PRECONDITION, details: 'refused' }) : callback(null, call.request),
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  /** Makes one call and returns its answer (or error) and grpc-js' subchannel call that carried it. */
  async function callAndCapture(body: string): Promise<{ answer?: Buffer; error?: grpc.ServiceError; carrier: { listener: unknown } }> {
    const spy = jest.spyOn(Http2SubchannelCall.prototype, 'outputStatus'); // calls through
    try {
      const result = await new Promise<{ answer?: Buffer; error?: grpc.ServiceError }>((resolve) =>
        client.makeUnaryRequest('/fixes.Test/Echo', bytes.serialize, bytes.deserialize, Buffer.from(body), new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (error, answer) =>
          resolve(error ? { error } : { answer }),
        ),
      );
      await new Promise((r) => setImmediate(r)); // the ticks after the status' delivery
      const carriers = spy.mock.contexts as Array<{ listener: unknown }>;
      expect(new Set(carriers).size).toBe(1); // one call, one subchannel call
      return { ...result, carrier: carriers[0]! };
    } finally {
      spy.mockRestore();
    }
  }

  it('is loaded', () => {
    expect(grpcJsFixesApplied).toBe(true);
  });

  it('answers, then the call that carried the answer no longer holds its caller', async () => {
    const { answer, carrier } = await callAndCapture('hello');
    expect(answer?.toString()).toBe('hello');
    expect(carrier.listener).toBe(finishedCallListener); // without the fix: the retrying call and, above it, the caller's closure
  });

  it('still delivers a refusal with its status', async () => {
    const { error, carrier } = await callAndCapture('refuse');
    expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error?.details).toBe('refused');
    expect(carrier.listener).toBe(finishedCallListener);
  });
});
