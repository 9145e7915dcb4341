import * as grpc from '@grpc/grpc-js';
import { video } from '@cryptocare/contracts';
import { createGrpcClient, defineService, startGrpcServer, type GrpcClient, type RunningGrpcServer } from './grpc';
import { notFound } from './errors';
import { createLogger } from './logger';
import { registry } from './metrics';

const logger = createLogger('test', 'silent');

describe('gRPC server and client factories', () => {
  let server: RunningGrpcServer;
  let client: GrpcClient<typeof video, 'VideoService'>;

  beforeAll(async () => {
    const service = defineService(
      video,
      'VideoService',
      {
        async getMeeting(request) {
          if (request.appointmentId === 'missing') throw notFound('MEETING_NOT_FOUND', 'no meeting for this appointment');
          if (request.appointmentId === 'slow') await new Promise((r) => setTimeout(r, 300));
          if (request.appointmentId === 'boom') throw new Error('database password=secret leaked?');
          return { meeting: { appointmentId: request.appointmentId, provider: 'zoom', joinUrl: 'https://zoom.example/j/1' } };
        },
        // Not exercised here: the service's other methods, which defineService requires.
        async getJoinLink() {
          throw notFound('MEETING_NOT_FOUND', 'no meeting for this appointment');
        },
        async linkHost() {
          throw notFound('ZOOM_USER_NOT_FOUND', 'no such user');
        },
        async ingestZoomWebhook() {
          throw notFound('ZOOM_WEBHOOKS_NOT_CONFIGURED', 'not configured');
        },
      },
      logger,
    );
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [service], logger, reflection: true });
    client = createGrpcClient(video, 'VideoService', `dns:///127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    client.close();
    await server.shutdown(1_000);
  });

  it('answers typed calls, filling defaults of partial messages', async () => {
    const res = await client.getMeeting({ appointmentId: 'a1' });
    expect(res.meeting).toMatchObject({ appointmentId: 'a1', provider: 'zoom', joinUrl: 'https://zoom.example/j/1', hostUrl: '', password: '' });
  });

  it('maps domain errors to status + machine code, and hides internal ones', async () => {
    await expect(client.getMeeting({ appointmentId: 'missing' })).rejects.toMatchObject({ status: grpc.status.NOT_FOUND, code: 'MEETING_NOT_FOUND' });
    await expect(client.getMeeting({ appointmentId: 'boom' })).rejects.toMatchObject({ status: grpc.status.INTERNAL, message: 'internal error' });
  });

  it('enforces the deadline of each call', async () => {
    await expect(client.getMeeting({ appointmentId: 'slow' }, { deadlineMs: 50 })).rejects.toMatchObject({ status: grpc.status.DEADLINE_EXCEEDED });
  });

  it('serves grpc.health.v1 and records RED metrics per method', async () => {
    const { service: healthService } = require('grpc-health-check');
    const Health = grpc.makeClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new Health(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as any;
    const status = await new Promise<any>((resolve, reject) =>
      health.check({ service: 'cryptocare.video.v1.VideoService' }, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
    );
    expect(status.status).toBe('SERVING');
    health.close();
    const metrics = await registry.getSingleMetricAsString('grpc_server_handling_seconds');
    expect(metrics).toMatch(/grpc_server_handling_seconds_count\{grpc_service="VideoService",grpc_method="GetMeeting",grpc_code="OK"\} [1-9]/);
    expect(metrics).toMatch(/grpc_code="NotFound"/);
  });
});
