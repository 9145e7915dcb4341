/**
 * One fix for @grpc/grpc-js 1.14.7 (pinned exactly; docs/dependencies.md), loaded by grpc.ts before
 * any client is made; checked by grpc-js-fixes.test.ts beside it against grpc-js's own class.
 *
 * A finished client call lets go of its caller. Each call's `Http2SubchannelCall` keeps a reference
 * to the layers above it (`listener`: the load-balancing, retrying and resolving calls, then the
 * unary call's closure with its decoded answer and the Error grpc-js captures at every call for its
 * stack, whose frames hold the caller's async functions, so the whole HTTP request that made the
 * call). Node's HTTP/2 stream keeps its listeners, and so that subchannel call, reachable until
 * after the next young-generation collection (measured with bare node:http2, without grpc-js: about
 * a third of what a client allocates survives each scavenge, against nothing over HTTP/1.1; Node 20
 * and 24 alike). So every request the gateway served since its last scavenge was copied by it, and
 * promoted to the old generation by the next one.
 *
 * The status is the last thing a call gives its listener: grpc-js delivers it on the next tick and
 * ignores anything the stream says afterwards (`statusOutput`). So one tick after that delivery the
 * listener is replaced by one that does nothing. Measured (`make bench-young-generation`, read mix
 * at 8 in flight): the gateway's survivors per scavenge 8.7 → 4.4 MB, its time in scavenges 1 161 →
 * 758 ms in 30 s, scavenges over 10 ms 72 → 28 (bench/results/young-generation-2026-12-03-*.md).
 *
 * The server side (`BaseServerInterceptingCall`) was tried the same way and changed nothing that
 * was measured, so it is left as it is.
 */

interface UnaryListener {
  onReceiveMetadata(metadata: unknown): void;
  onReceiveMessage(message: unknown): void;
  onReceiveStatus(status: unknown): void;
}

interface SubchannelCall {
  listener: UnaryListener;
  statusOutput: boolean;
  outputStatus(): void;
}

// grpc-js' own module, the one its transports instantiate calls from (also in the services' bundles,
// where esbuild keeps one copy of each file).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const subchannelCalls = require('@grpc/grpc-js/build/src/subchannel-call') as { Http2SubchannelCall: { prototype: SubchannelCall & { cryptocareFixed?: boolean } } };

/** What a finished call listens with: nothing reaches it any more, and it holds nothing. */
export const finishedCallListener: UnaryListener = Object.freeze({
  onReceiveMetadata() {},
  onReceiveMessage() {},
  onReceiveStatus() {},
});

const call = subchannelCalls.Http2SubchannelCall?.prototype;
if (call && typeof call.outputStatus === 'function' && !call.cryptocareFixed) {
  const outputStatus = call.outputStatus;
  call.outputStatus = function (this: SubchannelCall) {
    const wasOutput = this.statusOutput;
    outputStatus.call(this);
    // grpc-js queued the status' delivery on this tick; this runs right after it.
    if (!wasOutput && this.statusOutput) process.nextTick(() => (this.listener = finishedCallListener));
  };
  call.cryptocareFixed = true;
}

export const grpcJsFixesApplied = call?.cryptocareFixed === true;
