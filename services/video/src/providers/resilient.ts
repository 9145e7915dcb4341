import { counter, TransientProviderError, type Logger } from '@cryptocare/platform';
import type { ProviderName } from '../domain/meeting';
import { HostQuotaExhaustedError, ProviderRejectedError, type MeetingProvider, type MeetingRequest, type ProviderMeeting } from './meeting-provider';

const fallbacks = counter('meeting_provider_fallback_total', 'Meetings created by the fallback provider because the primary failed', ['from', 'to', 'reason']);

export type ProvidedMeeting = ProviderMeeting & {
  provider: ProviderName;
  /** The Zoom user hosting it and the reservation of its time (absent on the fallback). */
  hostId?: string;
  reservationId?: string;
};

/** A host whose time and one of whose daily creations are reserved for the meeting. */
export interface HostSlot {
  hostUserId: string;
  reservationId: string;
  /** Gives the time back (the creation failed). */
  release(): Promise<void>;
  /** Zoom says this host has no creations left today. */
  exhausted(): Promise<void>;
}

/** The hosts that may take one meeting, tried in turn. */
export interface HostChoice {
  /** The next host with time and quota left, reserved; undefined when none is left. */
  next(): Promise<HostSlot | undefined>;
  /** Why the last host was refused ("host_exhausted", "host_busy"), for the fallback metric. */
  readonly refusal: string;
}

/** Why the primary failed, in words a dashboard can group by. */
function fallbackReason(err: unknown): string {
  const e = err as { isBrokenCircuitError?: boolean; isBulkheadRejectedError?: boolean; isTaskCancelledError?: boolean };
  if (e?.isBrokenCircuitError) return 'circuit_open';
  if (e?.isBulkheadRejectedError) return 'bulkhead_full';
  if (e?.isTaskCancelledError) return 'timeout';
  if (err instanceof TransientProviderError) return 'unavailable';
  if (err instanceof HostQuotaExhaustedError) return 'host_exhausted';
  if (err instanceof ProviderRejectedError) return 'rejected';
  return 'error';
}

/**
 * The meeting provider the service uses: the primary (Zoom, when configured) and, when it fails
 * after its own retries or its breaker is open, the fallback (Jitsi, which cannot fail), so a
 * confirmed booking always gets its link.
 */
export class ResilientMeetingProvider {
  constructor(
    private readonly primary: MeetingProvider | undefined,
    private readonly fallback: MeetingProvider,
    private readonly logger: Logger,
  ) {}

  /**
   * With `hosts`, the primary is asked on the first host with time and quota left; when Zoom says
   * that host is out of creations for the day the next one is tried; any other failure, or no host
   * left, goes to the fallback.
   */
  async createMeeting(request: MeetingRequest, hosts?: HostChoice): Promise<ProvidedMeeting> {
    if (this.primary) {
      for (;;) {
        const slot = hosts ? await hosts.next() : undefined;
        if (hosts && !slot) {
          this.fellBack(hosts.refusal, 'no Zoom host has time and creations left for this meeting; using the fallback');
          break;
        }
        try {
          const meeting = await this.primary.createMeeting(slot ? { ...request, hostUserId: slot.hostUserId } : request);
          return { provider: this.primary.name, ...meeting, ...(slot ? { hostId: slot.hostUserId, reservationId: slot.reservationId } : {}) };
        } catch (err) {
          await slot?.release().catch((e: unknown) => this.logger.warn({ err: String(e) }, 'could not release a host reservation'));
          if (slot && err instanceof HostQuotaExhaustedError) {
            await slot.exhausted();
            continue;
          }
          this.fellBack(fallbackReason(err), 'meeting provider failed; using the fallback', err);
          break;
        }
      }
    }
    return { provider: this.fallback.name, ...(await this.fallback.createMeeting(request)) };
  }

  private fellBack(reason: string, message: string, err?: unknown): void {
    const from = this.primary?.name ?? 'none';
    fallbacks.labels(from, this.fallback.name, reason).inc();
    this.logger.warn({ from, to: this.fallback.name, reason, ...(err === undefined ? {} : { err: err instanceof Error ? err.message : String(err) }) }, message);
  }

  /** Deletes at the provider that created the meeting. */
  async deleteMeeting(provider: string, providerMeetingId: string): Promise<void> {
    const target = [this.primary, this.fallback].find((p) => p?.name === provider);
    if (!target) throw new Error(`no meeting provider ${provider} configured`);
    await target.deleteMeeting(providerMeetingId);
  }
}
