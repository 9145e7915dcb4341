import { appointment, identity, payment, search, video } from '@cryptocare/contracts';
import { createGrpcClient, type GrpcClient } from '@cryptocare/platform';

export interface Backends {
  identity: GrpcClient<typeof identity, 'IdentityService'>;
  search: GrpcClient<typeof search, 'SearchService'>;
  appointment: GrpcClient<typeof appointment, 'AppointmentService'>;
  payment: GrpcClient<typeof payment, 'PaymentService'>;
  video: GrpcClient<typeof video, 'VideoService'>;
}

export interface BackendTargets {
  identity: string;
  search: string;
  appointment: string;
  payment: string;
  video: string;
}

/** One client per backend; each call carries its own deadline (the route's budget). */
export function connectBackends(targets: BackendTargets): Backends & { close(): void } {
  const options = { deadlineMs: 2_000 };
  const backends: Backends = {
    identity: createGrpcClient(identity, 'IdentityService', targets.identity, options),
    search: createGrpcClient(search, 'SearchService', targets.search, options),
    appointment: createGrpcClient(appointment, 'AppointmentService', targets.appointment, options),
    payment: createGrpcClient(payment, 'PaymentService', targets.payment, options),
    video: createGrpcClient(video, 'VideoService', targets.video, options),
  };
  return { ...backends, close: () => Object.values(backends).forEach((c) => c.close()) };
}
