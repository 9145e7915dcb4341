import { consumedTopics } from '@cryptocare/contracts';
import type { AnyDomainEvent, DomainEvent, EventHandlers } from '@cryptocare/events';
import { histogram, isUuid, sloBuckets, type Logger } from '@cryptocare/platform';
import { linkSeconds, MEETING_TIME_ZONE, MEETING_TOPIC, meetingWindow, type Meeting } from '../domain/meeting';
import type { ProvidedMeeting, ResilientMeetingProvider } from '../providers/resilient';
import type { HostStore } from '../store/host-store';
import type { MeetingStore } from '../store/meeting-store';
import type { ZoomHosts } from '../providers/zoom-hosts';
import type { ZoomWebhooks } from './zoom-webhooks';

/** The SLI of "meeting link < 2 s": booking confirmed (its event's time) → meeting recorded. */
const linkLatency = histogram('meeting_link_seconds', 'Booking confirmation (event time) to its meeting being recorded', ['provider'], sloBuckets);

export const VIDEO_GROUP = 'video';

type Confirmed = DomainEvent<'appointment.confirmed'>;
type Cancelled = DomainEvent<'appointment.cancelled'>;
type Rescheduled = DomainEvent<'appointment.rescheduled'>;
/** What a booking's move did at the provider: nothing to do there, or a new meeting in place of the old. */
type Move = { kind: 'moved' } | { kind: 'replaced'; old: Meeting; created: ProvidedMeeting };

/**
 * What video does when a booking is confirmed or cancelled.
 *
 * The idempotent consumer runs each handler inside a database transaction. Calls to Zoom (up to
 * a few seconds with retries) must not hold a connection and the `processed_events` row lock
 * that long, so each event's provider work is started by `aroundDelivery` (the consumer's
 * `around` hook), before the consumer opens its transaction; the handler then finds the result waiting (and starts the work itself
 * only if that step could not run, e.g. the database was briefly unreachable). After the
 * delivery, a provider meeting that did not end up recorded (another delivery of the booking won,
 * or the event was dead-lettered) is deleted, best effort.
 *
 * Zoom hosts: with `hosts`, each meeting goes to the professional's own Zoom user, else the pool, within
 * each host's daily quota and free time (providers/zoom-hosts.ts); a verified professional
 * (`search.profile_updated`) gets their Zoom user at once, and otherwise on their first booking.
 *
 * `identity.user_erased`: meetings hold no user data, but a professional's Zoom host is linked to
 * their id (and the Zoom user video made carries it in its email): both go.
 */
export class MeetingEvents {
  /** Provider work of the events in hand, by event id. */
  private readonly work = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: {
      store: MeetingStore;
      provider: ResilientMeetingProvider;
      logger: Logger;
      /** Present when Zoom is configured. */
      hosts?: ZoomHosts;
      hostStore?: HostStore;
      /** The Zoom webhook inbox, whose work items (video.webhooks.v1) this consumer group processes. */
      zoomWebhooks?: ZoomWebhooks;
    },
  ) {}

  consumer() {
    return {
      groupId: VIDEO_GROUP,
      topics: consumedTopics('video', VIDEO_GROUP),
      handlers: this.handlers(),
      around: (event: AnyDomainEvent, deliver: () => Promise<void>) => this.aroundDelivery(event, deliver),
    };
  }

  handlers(): EventHandlers {
    const { store } = this.deps;
    return {
      'appointment.confirmed': async (event, tx) => {
        const { appointmentId, startAt, endAt } = event.data;
        if (await store.findByAppointment(appointmentId, tx)) return; // already has its meeting
        const created = await this.providerMeetingFor(event);
        if (!created) return; // had one when the work started; meetings are never removed
        const window = meetingWindow(startAt, endAt);
        // Undefined when a racing delivery recorded the booking's meeting first: ours is then
        // deleted at the provider once this delivery is done (see settle).
        const { hostId, reservationId: _reservation, ...meeting } = created;
        await store.addMeeting(tx, { appointmentId, ...meeting, hostId: hostId ?? null, startAt: window.startAt, durationMinutes: window.durationMinutes });
      },
      'appointment.rescheduled': async (event, tx) => {
        const move = await this.providerMoveFor(event);
        if (!move) return;
        const { appointmentId, startAt, endAt } = event.data;
        const window = meetingWindow(startAt, endAt);
        if (move.kind === 'moved') return store.moveMeeting(tx, appointmentId, window.startAt, window.durationMinutes);
        const { hostId, reservationId: _reservation, ...meeting } = move.created;
        await store.replaceMeeting(tx, { appointmentId, ...meeting, hostId: hostId ?? null, startAt: window.startAt, durationMinutes: window.durationMinutes });
      },
      'appointment.cancelled': async (event, tx) => {
        await this.providerDeletionFor(event);
        await store.markDeleted(tx, event.data.appointmentId);
        await this.deps.hostStore?.releaseAppointment(event.data.appointmentId, tx);
      },
      /**
       * Erasure of a professional: the Zoom user video made for them (its email names their id) is
       * deleted at Zoom, then the link here. A Zoom failure fails the delivery, which is retried:
       * the link stays until the user is gone. A user an admin linked stays at Zoom (not ours).
       */
      'identity.user_erased': async (event, tx) => {
        const { hostStore, hosts } = this.deps;
        const userId = (event.data.userId || event.subject).toLowerCase();
        if (!hostStore || !isUuid(userId)) return;
        const host = await hostStore.professionalHost(userId, tx);
        if (!host) return;
        if (host.managed && hosts) await hosts.deleteManagedUser(host.zoomUserId);
        await hostStore.forgetProfessional(tx, userId);
      },
      'video.zoom_webhook_received': async (event, tx) => {
        await this.deps.zoomWebhooks?.process(event, tx);
      },
      'search.profile_updated': async (event) => {
        const { hosts, logger } = this.deps;
        if (!hosts || !event.data.verified) return;
        try {
          await hosts.ensureProfessionalHost(event.data.professionalId);
        } catch (err) {
          // Not worth a redelivery: the professional's first booking tries again.
          logger.warn({ err: err instanceof Error ? err.message : String(err), professionalId: event.data.professionalId }, 'could not make the verified professional’s Zoom user');
        }
      },
    };
  }

  /** Wraps each delivery of the consumer group: provider work first, clean-up after. */
  async aroundDelivery(event: AnyDomainEvent, deliver: () => Promise<void>): Promise<void> {
    if (event.type !== 'appointment.confirmed' && event.type !== 'appointment.cancelled' && event.type !== 'appointment.rescheduled') return deliver();
    try {
      if (event.type === 'appointment.confirmed') await this.providerMeetingFor(event);
      else if (event.type === 'appointment.cancelled') await this.providerDeletionFor(event);
      else await this.providerMoveFor(event);
    } catch (err) {
      // The handler tries again inside its transaction.
      this.deps.logger.warn({ err, eventId: event.id, type: event.type }, 'provider work before the transaction failed');
    }
    try {
      await deliver();
    } finally {
      const pending = this.work.get(event.id);
      this.work.delete(event.id);
      if (pending && event.type === 'appointment.confirmed') await this.settle(event, pending as Promise<ProvidedMeeting | undefined>);
      if (pending && event.type === 'appointment.rescheduled') await this.settleMove(event, pending as Promise<Move | undefined>);
    }
  }

  /**
   * A booking moved: its meeting follows. A Jitsi room needs nothing at the provider (its tokens are
   * minted for the booking's times at each join). A Zoom meeting is moved in place (its links stay)
   * when its host has the new time free and an update left today (Zoom counts updates with
   * creations); otherwise a new meeting is made as for a new booking (another host, or the
   * fallback), and the old one is deleted once the new one is recorded (settleMove).
   */
  private providerMoveFor(event: Rescheduled): Promise<Move | undefined> {
    return this.once(event.id, async () => {
      const { appointmentId, professionalId, startAt, endAt } = event.data;
      const meeting = await this.deps.store.findByAppointment(appointmentId);
      if (!meeting || meeting.status !== 'active') return undefined;
      const window = meetingWindow(startAt, endAt);
      if (meeting.startAt.getTime() === window.startAt.getTime() && meeting.durationMinutes === window.durationMinutes) return undefined; // moved already
      if (meeting.provider !== 'zoom') return { kind: 'moved' };
      const endsAt = new Date(window.startAt.getTime() + window.durationMinutes * 60_000);
      const { hosts } = this.deps;
      const at = { appointmentId, startAt: window.startAt, endAt: endsAt };
      if (hosts && meeting.hostId) {
        const moved = await hosts.moveMeeting({ ...at, zoomUserId: meeting.hostId, providerMeetingId: meeting.providerMeetingId, durationMinutes: window.durationMinutes, timeZone: MEETING_TIME_ZONE });
        if (moved) return { kind: 'moved' };
      }
      const choice = hosts ? await hosts.choiceFor({ ...at, professionalId }) : undefined;
      const created = await this.deps.provider.createMeeting({ topic: MEETING_TOPIC, startAt: window.startAt, durationMinutes: window.durationMinutes, timeZone: MEETING_TIME_ZONE }, choice);
      return { kind: 'replaced', old: meeting, created };
    });
  }

  /** After a move's delivery: the old provider meeting goes once the new one is recorded; else the new one goes. */
  private async settleMove(event: Rescheduled, pending: Promise<Move | undefined>): Promise<void> {
    const move = await pending.catch(() => undefined);
    if (move?.kind !== 'replaced') return;
    const recorded = await this.isRecorded(event, move.created);
    if (recorded === undefined) return;
    if (!recorded) return this.discard(move.created, 'could not delete an unrecorded provider meeting');
    // The new meeting is the booking's: the old one's host time and the old meeting go.
    await this.deps.hostStore?.keepOnly(event.data.appointmentId, move.created.reservationId).catch(() => undefined);
    await this.discard(move.old, 'could not delete the meeting a move left behind');
  }

  /** The booking's new provider meeting, or undefined when the booking already has a meeting. */
  private providerMeetingFor(event: Confirmed): Promise<ProvidedMeeting | undefined> {
    return this.once(event.id, async () => {
      const { appointmentId, professionalId, startAt, endAt } = event.data;
      if (await this.deps.store.findByAppointment(appointmentId)) return undefined;
      const window = meetingWindow(startAt, endAt);
      const endsAt = new Date(window.startAt.getTime() + window.durationMinutes * 60_000);
      const hosts = this.deps.hosts ? await this.deps.hosts.choiceFor({ professionalId, appointmentId, startAt: window.startAt, endAt: endsAt }) : undefined;
      return this.deps.provider.createMeeting({ topic: MEETING_TOPIC, startAt: window.startAt, durationMinutes: window.durationMinutes, timeZone: MEETING_TIME_ZONE }, hosts);
    });
  }

  /** Deletes the booking's active meeting at its provider; a provider failure is only logged. */
  private providerDeletionFor(event: Cancelled): Promise<void> {
    return this.once(event.id, async () => {
      const meeting = await this.deps.store.findByAppointment(event.data.appointmentId);
      if (!meeting || meeting.status !== 'active') return;
      try {
        await this.deps.provider.deleteMeeting(meeting.provider, meeting.providerMeetingId);
      } catch (err) {
        this.deps.logger.warn(
          { err: err instanceof Error ? err.message : String(err), meetingId: meeting.id, provider: meeting.provider },
          'could not delete the meeting at its provider; it is marked deleted here',
        );
      }
    });
  }

  /** Runs `work` once per event; a failed run is forgotten so that a later attempt runs it again. */
  private once<T>(eventId: string, work: () => Promise<T>): Promise<T> {
    const existing = this.work.get(eventId) as Promise<T> | undefined;
    if (existing) return existing;
    const started = work();
    this.work.set(eventId, started);
    started.catch(() => {
      if (this.work.get(eventId) === started) this.work.delete(eventId);
    });
    return started;
  }

  /** After a confirmed delivery: measure the link latency, or delete an unrecorded provider meeting. */
  private async settle(event: Confirmed, pending: Promise<ProvidedMeeting | undefined>): Promise<void> {
    const created = await pending.catch(() => undefined);
    if (!created) return;
    const recorded = await this.isRecorded(event, created);
    if (recorded === undefined) return;
    if (recorded) {
      const seconds = linkSeconds(event.time, new Date());
      if (seconds !== undefined) linkLatency.labels(created.provider).observe(seconds);
      return;
    }
    this.deps.logger.info({ eventId: event.id, provider: created.provider }, 'provider meeting not recorded (the booking has another); deleting it');
    await this.discard(created, 'could not delete an unrecorded provider meeting');
  }

  /** Whether the booking's recorded meeting is `meeting`; undefined when that cannot be read (then nothing is deleted). */
  private async isRecorded(event: Confirmed | Rescheduled, meeting: ProvidedMeeting): Promise<boolean | undefined> {
    try {
      const recorded = await this.deps.store.findByAppointment(event.data.appointmentId);
      return recorded?.provider === meeting.provider && recorded.providerMeetingId === meeting.providerMeetingId;
    } catch (err) {
      this.deps.logger.warn({ err, eventId: event.id }, 'could not check which provider meeting the booking has; leaving it');
      return undefined;
    }
  }

  /** Gives back a provider meeting's host time (if it holds any) and deletes it at its provider, best effort. */
  private async discard(meeting: { provider: string; providerMeetingId: string; reservationId?: string }, failure: string): Promise<void> {
    if (meeting.reservationId) await this.deps.hostStore?.release(meeting.reservationId).catch(() => undefined);
    await this.deps.provider.deleteMeeting(meeting.provider, meeting.providerMeetingId).catch((err: unknown) =>
      this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err), provider: meeting.provider }, failure),
    );
  }
}
