import { counter, TransientProviderError, type Logger } from '@cryptocare/platform';
import type { ProviderName } from '../domain/meeting';
import { ProviderRejectedError, type MeetingProvider, type MeetingRequest, type ProviderMeeting } from './meeting-provider';

const fallbacks = counter('meeting_provider_fallback_total', 'Meetings created by the fallback provider because the primary failed', ['from', 'to', 'reason']);

export type ProvidedMeeting = ProviderMeeting & { provider: ProviderName };

/** Why the primary failed, in words a dashboard can group by. */
function fallbackReason(err: unknown): string {
  const e = err as { isBrokenCircuitError?: boolean; isBulkheadRejectedError?: boolean; isTaskCancelledError?: boolean };
  if (e?.isBrokenCircuitError) return 'circuit_open';
  if (e?.isBulkheadRejectedError) return 'bulkhead_full';
  if (e?.isTaskCancelledError) return 'timeout';
  if (err instanceof TransientProviderError) return 'unavailable';
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

  async createMeeting(request: MeetingRequest): Promise<ProvidedMeeting> {
    if (this.primary) {
      try {
        return { provider: this.primary.name, ...(await this.primary.createMeeting(request)) };
      } catch (err) {
        const reason = fallbackReason(err);
        fallbacks.labels(this.primary.name, this.fallback.name, reason).inc();
        this.logger.warn(
          { from: this.primary.name, to: this.fallback.name, reason, err: err instanceof Error ? err.message : String(err) },
          'meeting provider failed; using the fallback',
        );
      }
    }
    return { provider: this.fallback.name, ...(await this.fallback.createMeeting(request)) };
  }

  /** Deletes at the provider that created the meeting. */
  async deleteMeeting(provider: string, providerMeetingId: string): Promise<void> {
    const target = [this.primary, this.fallback].find((p) => p?.name === provider);
    if (!target) throw new Error(`no meeting provider ${provider} configured`);
    await target.deleteMeeting(providerMeetingId);
  }
}
