import { v7 as uuidv7 } from 'uuid';
import { table, type SqlTx } from '@cryptocare/events';
import type { Prisma, PrismaClient } from '../generated/prisma';
import { utcDay, type HostKind } from '../domain/hosts';

type Tx = Prisma.TransactionClient;
const asTx = (tx: SqlTx) => tx as unknown as Tx;

export interface HostCandidate {
  zoomUserId: string;
  kind: HostKind;
  /** Creations counted for it today (UTC). */
  usedToday: number;
}

export type Reservation =
  | { ok: true; reservationId: string; zoomUserId: string; kind: HostKind; left: number }
  | { ok: false; reason: 'exhausted' | 'busy'; kind: HostKind };

/** The Zoom hosts, what each has used today and the time each has promised, in video's database. */
export class HostStore {
  private readonly hosts: string;
  private readonly usage: string;

  constructor(
    private readonly db: PrismaClient,
    schema: string,
  ) {
    this.hosts = table(schema, 'zoom_hosts');
    this.usage = table(schema, 'zoom_host_usage');
  }

  /** Records the configured pool (and "me"): rows to lock when reserving; hosts no longer configured stay, unused. */
  async registerShared(hosts: Array<{ zoomUserId: string; kind: 'pool' | 'account' }>): Promise<void> {
    if (hosts.length === 0) return;
    await this.db.zoomHost.createMany({ data: hosts.map((h) => ({ zoomUserId: h.zoomUserId, kind: h.kind })), skipDuplicates: true });
  }

  /** The professional's own Zoom user, if one is linked. */
  async hostOf(professionalId: string): Promise<string | undefined> {
    return (await this.db.zoomHost.findUnique({ where: { professionalId } }))?.zoomUserId;
  }

  /**
   * Links a Zoom user to a professional (created through the users API, or named by an admin).
   * A professional keeps the user first linked; false when another professional already has it.
   */
  async linkProfessional(professionalId: string, zoomUserId: string, options: { managed: boolean }, tx?: SqlTx): Promise<boolean> {
    const client = tx ? asTx(tx) : this.db;
    const existing = await client.zoomHost.findUnique({ where: { zoomUserId } });
    if (existing) return existing.professionalId === professionalId;
    const { count } = await client.zoomHost.createMany({ data: [{ zoomUserId, professionalId, kind: 'professional', managed: options.managed }], skipDuplicates: true });
    return count === 1 || (await client.zoomHost.findUnique({ where: { zoomUserId } }))?.professionalId === professionalId;
  }

  /**
   * An admin's choice: `zoomUserId` hosts the professional's meetings from now on, replacing their
   * previous user (whose reservations stay: meetings already made keep their host). False when the
   * user hosts for another professional or is a pool host.
   */
  async relinkProfessional(professionalId: string, zoomUserId: string): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const holder = await tx.zoomHost.findUnique({ where: { zoomUserId } });
      if (holder) return holder.professionalId === professionalId;
      await tx.zoomHost.deleteMany({ where: { professionalId } });
      await tx.zoomHost.create({ data: { zoomUserId, professionalId, kind: 'professional' } });
      return true;
    });
  }

  /** The professional's host row (for erasure). */
  async professionalHost(professionalId: string, tx?: SqlTx): Promise<{ zoomUserId: string; managed: boolean } | undefined> {
    const client = tx ? asTx(tx) : this.db;
    const row = await client.zoomHost.findUnique({ where: { professionalId } });
    return row ? { zoomUserId: row.zoomUserId, managed: row.managed } : undefined;
  }

  /** Erasure: the link between the professional and their Zoom user goes (the user's usage and reservations name no one). */
  async forgetProfessional(tx: SqlTx, professionalId: string): Promise<void> {
    await asTx(tx).zoomHost.deleteMany({ where: { professionalId } });
  }

  /** Shared hosts of `kind`, least used today first (spreads the day's load over the pool). */
  async shared(kind: 'pool' | 'account', now: Date): Promise<HostCandidate[]> {
    const rows = await this.db.$queryRawUnsafe<Array<{ zoom_user_id: string; used: number }>>(
      `SELECT h.zoom_user_id, COALESCE(u.used, 0)::int AS used
       FROM ${this.hosts} h LEFT JOIN ${this.usage} u ON u.zoom_user_id = h.zoom_user_id AND u.day = $1::date
       WHERE h.kind = $2
       ORDER BY used, h.zoom_user_id`,
      utcDay(now),
      kind,
    );
    return rows.map((r) => ({ zoomUserId: r.zoom_user_id, kind, usedToday: r.used }));
  }

  /**
   * Takes the host for the booking's meeting, in one transaction holding the host's row lock (so two
   * replicas never both take its last creation or the same hour): refused when the host has used
   * `dailyLimit` creations today or promised an overlapping time to another booking; otherwise
   * counts one creation (Zoom counts the request, whatever its answer) and reserves the time.
   */
  async reserve(input: { zoomUserId: string; appointmentId: string; startAt: Date; endAt: Date; now: Date; dailyLimit: number }): Promise<Reservation> {
    const { zoomUserId, appointmentId, startAt, endAt, now, dailyLimit } = input;
    const day = utcDay(now);
    return this.db.$transaction(async (tx) => {
      const host = await tx.$queryRawUnsafe<Array<{ kind: HostKind }>>(`SELECT kind FROM ${this.hosts} WHERE zoom_user_id = $1 FOR UPDATE`, zoomUserId);
      if (!host[0]) throw new Error(`unknown Zoom host ${zoomUserId}`);
      const usage = await tx.zoomHostUsage.findUnique({ where: { zoomUserId_day: { zoomUserId, day: new Date(`${day}T00:00:00Z`) } } });
      const used = usage?.used ?? 0;
      if (used >= dailyLimit) return { ok: false, reason: 'exhausted', kind: host[0].kind } as const;
      const overlapping = await tx.zoomHostReservation.findFirst({
        where: { zoomUserId, appointmentId: { not: appointmentId }, startAt: { lt: endAt }, endAt: { gt: startAt } },
        select: { id: true },
      });
      if (overlapping) return { ok: false, reason: 'busy', kind: host[0].kind } as const;
      await tx.$executeRawUnsafe(
        `INSERT INTO ${this.usage} AS u (zoom_user_id, day, used) VALUES ($1, $2::date, 1)
         ON CONFLICT (zoom_user_id, day) DO UPDATE SET used = u.used + 1`,
        zoomUserId,
        day,
      );
      const reservationId = uuidv7();
      await tx.zoomHostReservation.create({ data: { id: reservationId, zoomUserId, appointmentId, startAt, endAt } });
      return { ok: true, reservationId, zoomUserId, kind: host[0].kind, left: dailyLimit - used - 1 } as const;
    });
  }

  /** Gives the time back (the creation failed, or its meeting was not kept); the creation stays counted. */
  async release(reservationId: string): Promise<void> {
    await this.db.zoomHostReservation.deleteMany({ where: { id: reservationId } });
  }

  /** Gives back every time the booking held (cancelled). */
  async releaseAppointment(appointmentId: string, tx?: SqlTx): Promise<void> {
    const client = tx ? asTx(tx) : this.db;
    await client.zoomHostReservation.deleteMany({ where: { appointmentId } });
  }

  /** The booking's meeting moved to the time of `reservationId` (none: off Zoom): its other reservations go. */
  async keepOnly(appointmentId: string, reservationId: string | undefined): Promise<void> {
    await this.db.zoomHostReservation.deleteMany({ where: { appointmentId, ...(reservationId ? { id: { not: reservationId } } : {}) } });
  }

  /** Zoom says the host is out of creations today (its count here was behind, e.g. meetings made by hand). */
  async markExhausted(zoomUserId: string, now: Date, dailyLimit: number): Promise<void> {
    await this.db.$executeRawUnsafe(
      `INSERT INTO ${this.usage} AS u (zoom_user_id, day, used) VALUES ($1, $2::date, $3)
       ON CONFLICT (zoom_user_id, day) DO UPDATE SET used = GREATEST(u.used, $3)`,
      zoomUserId,
      utcDay(now),
      dailyLimit,
    );
  }

  /** The fewest creations left today among the hosts of `kind` that have used any (for the quota gauge). */
  async lowestLeft(kind: HostKind, now: Date, dailyLimit: number): Promise<number> {
    const rows = await this.db.$queryRawUnsafe<Array<{ used: number | null }>>(
      `SELECT MAX(u.used)::int AS used FROM ${this.usage} u JOIN ${this.hosts} h ON h.zoom_user_id = u.zoom_user_id
       WHERE h.kind = $1 AND u.day = $2::date`,
      kind,
      utcDay(now),
    );
    return Math.max(0, dailyLimit - (rows[0]?.used ?? 0));
  }
}
