import { v7 as uuidv7 } from 'uuid';
import { table, type DomainEvent, type Outbox, type SqlTx } from '@cryptocare/events';
import { counter, type Logger } from '@cryptocare/platform';
import type { Prisma, PrismaClient } from '../generated/prisma';
import { isHost, parseZoomEvent, urlValidationAnswer, verifyZoomSignature, zoomEventKey, ZoomWebhookRejected, type ZoomEvent } from '../domain/zoom-webhook';

type Tx = Prisma.TransactionClient;
const TX = { timeout: 15_000, maxWait: 10_000 };

export const zoomWebhooksTotal = counter('zoom_webhooks_total', 'Zoom webhooks handed to IngestZoomWebhook, by outcome', ['outcome']);

export type IngestResult = { accepted: boolean; challenge?: { plainToken: string; encryptedToken: string } };

/**
 * Zoom's webhooks, the way payment takes its providers' (payment-store insertWebhook): verified
 * (x-zm-signature over the raw bytes, 5-minute tolerance), stored in `zoom_webhook_inbox` under
 * Zoom's event identity with the `video.zoom_webhook_received` work item in one transaction, then
 * processed by video's consumer (topic video.webhooks.v1, keyed by the Zoom meeting, so one
 * meeting's events are processed in order). A crash after the store loses nothing (the work item
 * is in the outbox); a replay or Zoom's retry finds the event stored and does nothing.
 *
 * Processing records on the booking's meeting when it started, when its host and another
 * participant (the patient) joined, and when it ended; the end publishes
 * `video.consultation_ended` with who joined, which appointment turns into `completed` or `no_show`.
 */
export class ZoomWebhooks {
  constructor(
    private readonly deps: {
      db: PrismaClient;
      /** video's PostgreSQL schema (raw SQL names its tables). */
      schema: string;
      outbox: Outbox;
      logger: Logger;
      /** Zoom's Secret Token of the app's event subscription; without it every webhook is refused. */
      secretToken?: string;
      now?: () => number;
    },
  ) {}

  get configured(): boolean {
    return !!this.deps.secretToken;
  }

  /** IngestZoomWebhook. Throws ZoomWebhookRejected for a forged, stale or unusable request. */
  async ingest(rawBody: Buffer, headers: Record<string, string>): Promise<IngestResult> {
    const secret = this.deps.secretToken;
    if (!secret) throw new Error('ZOOM_WEBHOOK_SECRET_TOKEN is not set');
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
    try {
      verifyZoomSignature(secret, lower, rawBody, (this.deps.now ?? Date.now)());
      const event = parseZoomEvent(rawBody);
      if (event.event === 'endpoint.url_validation') {
        zoomWebhooksTotal.labels('url_validation').inc();
        return { accepted: true, challenge: urlValidationAnswer(secret, event.plainToken) };
      }
      if (event.event === 'other') {
        zoomWebhooksTotal.labels('ignored').inc();
        return { accepted: false };
      }
      const accepted = await this.store(event, rawBody);
      zoomWebhooksTotal.labels(accepted ? 'accepted' : 'duplicate').inc();
      return { accepted };
    } catch (err) {
      if (err instanceof ZoomWebhookRejected) zoomWebhooksTotal.labels(err.reason).inc();
      throw err;
    }
  }

  private async store(event: Extract<ZoomEvent, { eventTs: number }>, rawBody: Buffer): Promise<boolean> {
    const { db, outbox } = this.deps;
    const inserted = await db.$transaction(async (tx) => {
      const id = uuidv7();
      const { count } = await tx.zoomWebhookInbox.createMany({
        data: [{ id, eventKey: zoomEventKey(event), event: event.event, zoomMeetingId: event.meetingId, rawBody: new Uint8Array(rawBody) }],
        skipDuplicates: true,
      });
      if (count === 0) return false;
      await outbox.add(tx as unknown as SqlTx, 'video.zoom_webhook_received', event.meetingId, { inboxId: id, event: event.event });
      return true;
    }, TX);
    if (inserted) outbox.notifyCommitted();
    return inserted;
  }

  /** `video.zoom_webhook_received`, in the consumer's transaction: applies the stored event once. */
  async process(work: DomainEvent<'video.zoom_webhook_received'>, sqlTx: SqlTx): Promise<void> {
    const tx = sqlTx as unknown as Tx;
    const row = await tx.zoomWebhookInbox.findUnique({ where: { id: work.data.inboxId } });
    if (!row || row.processedAt) return;
    const event = parseZoomEvent(Buffer.from(row.rawBody));
    if (event.event !== 'endpoint.url_validation' && event.event !== 'other') await this.apply(tx, sqlTx, event);
    await tx.zoomWebhookInbox.updateMany({ where: { id: row.id, processedAt: null }, data: { processedAt: new Date() } });
  }

  private async apply(tx: Tx, sqlTx: SqlTx, event: Extract<ZoomEvent, { eventTs: number }>): Promise<void> {
    // Locked: two deliveries of one meeting's events never interleave their read and write.
    const [locked] = await tx.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT id::text AS id FROM ${table(this.deps.schema, 'meetings')} WHERE provider = 'zoom' AND provider_meeting_id = $1 ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
      event.meetingId,
    );
    if (!locked) {
      this.deps.logger.info({ event: event.event, zoomMeetingId: event.meetingId }, 'Zoom webhook for no meeting of ours; ignored');
      return;
    }
    const meeting = await tx.meeting.findUniqueOrThrow({ where: { id: locked.id } });
    const at = new Date(event.eventTs);
    switch (event.event) {
      case 'meeting.started':
        if (!meeting.startedAt) await tx.meeting.update({ where: { id: meeting.id }, data: { startedAt: at } });
        return;
      case 'meeting.participant_joined': {
        const host = isHost(event.participant!, [event.hostId, meeting.hostId]);
        const field = host ? 'hostJoinedAt' : 'guestJoinedAt';
        if (meeting[field]) return;
        const updated = await tx.meeting.update({ where: { id: meeting.id }, data: { [field]: at } });
        // Reported after the end (Zoom does not promise order): the outcome is told again.
        if (updated.endedAt) await this.publishEnded(sqlTx, updated);
        return;
      }
      case 'meeting.ended': {
        const updated = meeting.endedAt ? meeting : await tx.meeting.update({ where: { id: meeting.id }, data: { endedAt: at } });
        await this.publishEnded(sqlTx, updated);
        return;
      }
    }
  }

  private async publishEnded(sqlTx: SqlTx, meeting: { id: string; appointmentId: string; hostJoinedAt: Date | null; guestJoinedAt: Date | null; endedAt: Date | null }) {
    await this.deps.outbox.add(sqlTx, 'video.consultation_ended', meeting.appointmentId, {
      meetingId: meeting.id,
      appointmentId: meeting.appointmentId,
      hostJoined: meeting.hostJoinedAt !== null,
      patientJoined: meeting.guestJoinedAt !== null,
      endedAt: (meeting.endedAt ?? new Date()).toISOString(),
    });
  }
}
