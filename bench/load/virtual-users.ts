import { PhaseStats } from './route-stats';

export interface PhasePlan {
  name: string;
  users: number;
  /** Users start evenly over this time; nothing is recorded until all have started. */
  rampSeconds: number;
  holdSeconds: number;
  /**
   * A user's first action comes after a random pause up to this long from its start, as if it
   * arrived in the middle of a visit. Without it, the ramp's arrivals each acted at once on top of
   * the users already pausing: at the end of a 20 s ramp of 2 000 users with 5 s pauses, 100 new
   * users a second on top of 400 actions a second at the ramp's end, 25 % above the hold's rate.
   */
  firstPauseMs?: number;
  /**
   * After the ramp, the same load this long before the hold, not measured: the caches then hold
   * what this traffic keeps in them, as in production, where Redis outlives every deploy.
   */
  warmSeconds?: number;
}

/**
 * Closed-loop virtual users: each runs `visit` again and again (a visit pauses between its actions)
 * until the phase ends. The phase's stats cover the hold only, after the ramp; `measure` is started
 * when the hold starts and read when it ends (CPU figures over the same window).
 */
export async function runPhase<M>(
  plan: PhasePlan,
  setPhase: (stats: PhaseStats) => void,
  visit: (running: () => boolean) => Promise<void>,
  measure: () => () => M,
): Promise<{ stats: PhaseStats; measured: M }> {
  let running = true;
  const isRunning = () => running;
  setPhase(new PhaseStats()); // the ramp's figures, discarded
  const users = Array.from({ length: plan.users }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (plan.rampSeconds * 1000 * i) / plan.users + Math.random() * (plan.firstPauseMs ?? 0)));
    while (running) await visit(isRunning);
  });
  await new Promise((r) => setTimeout(r, (plan.rampSeconds + (plan.warmSeconds ?? 0)) * 1000));
  const hold = new PhaseStats();
  setPhase(hold);
  const measuring = measure();
  await new Promise((r) => setTimeout(r, plan.holdSeconds * 1000));
  hold.endedAt = performance.now();
  const measured = measuring();
  running = false;
  // Visits in flight finish their current call (recorded in a phase nobody reads).
  setPhase(new PhaseStats());
  await Promise.all(users);
  return { stats: hold, measured };
}

/**
 * Saturation: `concurrency` loops calling `call` back to back for a while (no think time), for the
 * most a configuration can answer. Returns successful calls per second and the failed ones.
 */
export async function saturate(seconds: number, concurrency: number, call: () => Promise<boolean>): Promise<{ perSecond: number; failed: number }> {
  const until = performance.now() + seconds * 1000;
  let succeeded = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        if (await call()) succeeded++;
        else failed++;
      }
    }),
  );
  return { perSecond: Math.round(succeeded / seconds), failed };
}
