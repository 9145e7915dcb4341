/**
 * kafkajs for the test tooling (topics, scans, the fault run's checks), with the fixes the
 * services run it with (libs/events/src/kafkajs-fixes.ts): without them each connection of the
 * test process polled its empty request queue every millisecond, and Node 24 said so with a
 * TimeoutNegativeWarning in every CI log. Imported on demand: most tests never touch Kafka.
 */
export async function kafkajs(): Promise<typeof import('kafkajs')> {
  await import('@cryptocare/events/src/kafkajs-fixes');
  return import('kafkajs');
}
