import type { FaultSuiteOptions } from './suite';

type Profile = Pick<FaultSuiteOptions, 'bookings' | 'patients' | 'killsPerService' | 'kafkaStopMs' | 'faultWindowMs' | 'settleTimeoutMs'>;

/** `make faults`: at least 1 000 bookings, Kafka stopped 30 s, three SIGKILLs of every service. */
export const fullFaultRun: Profile = { bookings: 1_000, patients: 12, killsPerService: 3, kafkaStopMs: 30_000, faultWindowMs: 8_000, settleTimeoutMs: 240_000 };

/** Inside `make test` (about three minutes): at least 60 bookings, one of each fault. */
export const shortFaultRun: Profile = { bookings: 60, patients: 4, killsPerService: 1, kafkaStopMs: 6_000, faultWindowMs: 3_000, settleTimeoutMs: 120_000 };
