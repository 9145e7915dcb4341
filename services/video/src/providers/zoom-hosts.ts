import { counter, gauge, type Logger } from '@cryptocare/platform';
import { ACCOUNT_HOST, professionalHostEmail, type HostKind } from '../domain/hosts';
import type { HostStore } from '../store/host-store';
import type { HostChoice, HostSlot } from './resilient';
import type { ZoomMeetingProvider } from './zoom';
import { HostQuotaExhaustedError } from './meeting-provider';

const quotaLeft = gauge('zoom_host_quota_left', 'Meeting creations Zoom still allows today (UTC): per pool or account host; for professionals, the lowest among those who created any today', ['kind', 'host']);
const hostRefused = counter('zoom_host_refused_total', 'Hosts passed over for a meeting: out of creations today, or their time already taken', ['kind', 'reason']);

export interface ZoomHostsOptions {
  store: HostStore;
  zoom: ZoomMeetingProvider;
  logger: Logger;
  /** The configured pool (Zoom user ids or emails); empty when professionals host alone. */
  pool: string[];
  /** When set, each verified professional gets a Zoom user `pro-<id>@<domain>` (Zoom's users API). */
  professionalEmailDomain?: string;
  dailyLimit: number;
  now?: () => Date;
}

/**
 * Which Zoom user hosts a booking's meeting. The professional's own user when there is one (made
 * when the professional was verified, or on their first booking if that failed, or linked by an
 * admin); otherwise the pool, least used first; otherwise the account's own user. Each host is
 * taken only with a creation left today and no overlapping meeting (store/host-store.ts).
 */
export class ZoomHosts {
  private readonly now: () => Date;

  constructor(private readonly options: ZoomHostsOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Records the pool (or "me" without one) so that reservations can lock its rows. */
  async start(): Promise<void> {
    const { pool, store } = this.options;
    await store.registerShared(pool.length > 0 ? pool.map((zoomUserId) => ({ zoomUserId, kind: 'pool' as const })) : [{ zoomUserId: ACCOUNT_HOST, kind: 'account' }]);
  }

  /** The professional's Zoom user, created and linked when professionals host their own meetings. */
  async ensureProfessionalHost(professionalId: string): Promise<string | undefined> {
    const { store, zoom, professionalEmailDomain } = this.options;
    const linked = await store.hostOf(professionalId);
    if (linked || !professionalEmailDomain) return linked;
    const zoomUserId = await zoom.ensureUser(professionalHostEmail(professionalId, professionalEmailDomain), 'CryptoCare professional');
    if (!(await store.linkProfessional(professionalId, zoomUserId, { managed: true }))) {
      this.options.logger.warn({ professionalId }, 'the Zoom user made for this professional is linked to another; not linked');
      return undefined;
    }
    return zoomUserId;
  }

  /** Deletes at Zoom a user video made (erasure of its professional). */
  async deleteManagedUser(zoomUserId: string): Promise<void> {
    await this.options.zoom.deleteUser(zoomUserId);
  }

  /** The hosts that may take this booking's meeting, in the order they are tried. */
  async choiceFor(input: { professionalId: string; appointmentId: string; startAt: Date; endAt: Date }): Promise<HostChoice> {
    const { store, logger, dailyLimit } = this.options;
    let own: string | undefined;
    try {
      own = await this.ensureProfessionalHost(input.professionalId);
    } catch (err) {
      // Zoom's users API failed: the pool (or "me") takes the meeting rather than nobody.
      logger.warn({ err: err instanceof Error ? err.message : String(err), professionalId: input.professionalId }, 'could not make the professional’s Zoom user');
    }
    // Only the pool as configured now: hosts dropped from ZOOM_HOST_POOL keep their rows, unused.
    const configured = new Set(this.options.pool.length > 0 ? this.options.pool : [ACCOUNT_HOST]);
    const candidates: Array<{ zoomUserId: string; kind: HostKind }> = own
      ? [{ zoomUserId: own, kind: 'professional' }]
      : (await store.shared(this.options.pool.length > 0 ? 'pool' : 'account', this.now())).filter((h) => configured.has(h.zoomUserId));
    let index = 0;
    let refusal = 'host_exhausted';
    const choice: HostChoice = {
      get refusal() {
        return refusal;
      },
      next: async (): Promise<HostSlot | undefined> => {
        while (index < candidates.length) {
          const { zoomUserId, kind } = candidates[index++]!;
          const now = this.now();
          const taken = await store.reserve({ zoomUserId, appointmentId: input.appointmentId, startAt: input.startAt, endAt: input.endAt, now, dailyLimit });
          if (!taken.ok) {
            refusal = taken.reason === 'busy' ? 'host_busy' : 'host_exhausted';
            hostRefused.labels(kind, taken.reason).inc();
            if (taken.reason === 'exhausted') await this.report(kind, zoomUserId, 0);
            continue;
          }
          await this.report(kind, zoomUserId, taken.left);
          return {
            hostUserId: zoomUserId,
            reservationId: taken.reservationId,
            release: () => store.release(taken.reservationId),
            exhausted: async () => {
              hostRefused.labels(kind, 'exhausted').inc();
              await store.markExhausted(zoomUserId, this.now(), dailyLimit);
              await this.report(kind, zoomUserId, 0);
            },
          };
        }
        return undefined;
      },
    };
    return choice;
  }

  /**
   * Moves a booking's Zoom meeting on the host that has it: its new time reserved there (one of
   * the day's creations or updates counted) and the meeting updated at Zoom, its links kept. False
   * when that host is busy then or out of updates today, or Zoom refused: the caller replaces the
   * meeting instead.
   */
  async moveMeeting(input: { zoomUserId: string; appointmentId: string; providerMeetingId: string; startAt: Date; endAt: Date; durationMinutes: number; timeZone: string }): Promise<boolean> {
    const { store, zoom, logger, dailyLimit } = this.options;
    const { zoomUserId, appointmentId } = input;
    const taken = await store.reserve({ zoomUserId, appointmentId, startAt: input.startAt, endAt: input.endAt, now: this.now(), dailyLimit });
    if (!taken.ok) {
      hostRefused.labels(taken.kind, taken.reason).inc();
      return false;
    }
    try {
      await zoom.updateMeeting(input.providerMeetingId, input);
    } catch (err) {
      await store.release(taken.reservationId).catch(() => undefined);
      if (err instanceof HostQuotaExhaustedError) await store.markExhausted(zoomUserId, this.now(), dailyLimit);
      logger.warn({ err: err instanceof Error ? err.message : String(err), appointmentId }, 'could not move the Zoom meeting; replacing it');
      return false;
    }
    await store.keepOnly(appointmentId, taken.reservationId);
    await this.report(taken.kind, zoomUserId, taken.left);
    return true;
  }

  private async report(kind: HostKind, zoomUserId: string, left: number): Promise<void> {
    try {
      if (kind === 'professional') quotaLeft.labels(kind, '').set(await this.options.store.lowestLeft(kind, this.now(), this.options.dailyLimit));
      else quotaLeft.labels(kind, zoomUserId).set(left);
    } catch {
      // A gauge is not worth failing a meeting for.
    }
  }
}
