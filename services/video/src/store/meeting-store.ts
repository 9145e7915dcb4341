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
    await this.outbox.add(tx, 'video.meeting_created', input.appointmentId, {
      meetingId: id,
      appointmentId: input.appointmentId,
      provider: input.provider,
      joinUrl: input.joinUrl,
      password: input.password,
    });
    return meeting;
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
