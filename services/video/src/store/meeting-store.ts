import { v7 as uuidv7 } from 'uuid';
import type { Outbox, SqlTx } from '@cryptocare/events';
import type { Prisma, PrismaClient } from '../generated/prisma';
import type { Meeting, ProviderName } from '../domain/meeting';

type Tx = Prisma.TransactionClient;
/** The idempotent consumer hands its handlers the Prisma transaction client as a SqlTx. */
const asTx = (tx: SqlTx) => tx as unknown as Tx;

export interface NewMeeting {
  appointmentId: string;
  provider: ProviderName;
  providerMeetingId: string;
  joinUrl: string;
  hostUrl: string;
  password: string;
  startAt: Date;
  durationMinutes: number;
  /** The Zoom user hosting it; null on Jitsi. */
  hostId?: string | null;
}

/** video's tables, through Prisma; every change writes its event through the outbox. */
export class MeetingStore {
  constructor(
    private readonly db: PrismaClient,
    private readonly outbox: Outbox,
  ) {}

  /** The booking's meeting, active or deleted. */
  async findByAppointment(appointmentId: string, tx?: SqlTx): Promise<Meeting | undefined> {
    const client = tx ? asTx(tx) : this.db;
    return (await client.meeting.findUnique({ where: { appointmentId } })) ?? undefined;
  }

  /**
   * Records the booking's meeting and its `video.meeting_created` event, unless the booking
   * already has one (the unique appointment_id decides between racing deliveries, without
   * aborting the transaction). Returns the meeting when this call recorded it.
   */
  async addMeeting(tx: SqlTx, input: NewMeeting): Promise<Meeting | undefined> {
    const id = uuidv7();
    const { count } = await asTx(tx).meeting.createMany({ data: [{ id, ...input, status: 'active' }], skipDuplicates: true });
    if (count === 0) return undefined;
    const meeting = (await asTx(tx).meeting.findUniqueOrThrow({ where: { id } })) as Meeting;
    await this.announceLink(tx, id, input);
    return meeting;
  }

  /** `video.meeting_created`: the booking's (new) link, for appointment and the patient. */
  private async announceLink(tx: SqlTx, meetingId: string, input: NewMeeting): Promise<void> {
    await this.outbox.add(tx, 'video.meeting_created', input.appointmentId, { meetingId, appointmentId: input.appointmentId, provider: input.provider, joinUrl: input.joinUrl, password: input.password });
  }

  /** The booking moved and its meeting with it (same provider meeting, same links): its new time. */
  async moveMeeting(tx: SqlTx, appointmentId: string, startAt: Date, durationMinutes: number): Promise<void> {
    await asTx(tx).meeting.updateMany({ where: { appointmentId, status: 'active' }, data: { startAt, durationMinutes } });
  }

  /**
   * The booking moved and got another provider meeting (its host was busy then, or Zoom refused the
   * update): the row takes the new meeting, what the old one's webhooks said is dropped, and
   * `video.meeting_created` gives the booking its new link. False when the booking has no active meeting.
   */
  async replaceMeeting(tx: SqlTx, input: NewMeeting): Promise<boolean> {
    const { appointmentId, ...meeting } = input;
    const { count } = await asTx(tx).meeting.updateMany({
      where: { appointmentId, status: 'active' },
      data: { ...meeting, hostId: meeting.hostId ?? null, startedAt: null, hostJoinedAt: null, guestJoinedAt: null, endedAt: null },
    });
    if (count === 0) return false;
    const row = await asTx(tx).meeting.findUniqueOrThrow({ where: { appointmentId } });
    await this.announceLink(tx, row.id, input);
    return true;
  }

  /** Marks the booking's active meeting deleted and publishes `video.meeting_deleted`. */
  async markDeleted(tx: SqlTx, appointmentId: string): Promise<Meeting | undefined> {
    const { count } = await asTx(tx).meeting.updateMany({ where: { appointmentId, status: 'active' }, data: { status: 'deleted' } });
    if (count === 0) return undefined;
    const meeting = (await asTx(tx).meeting.findUniqueOrThrow({ where: { appointmentId } })) as Meeting;
    await this.outbox.add(tx, 'video.meeting_deleted', appointmentId, { meetingId: meeting.id, appointmentId });
    return meeting;
  }
}
