/** A message as it travels on a topic: the key keeps one aggregate's events in order. */
export interface BusMessage {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  partition?: number;
  offset?: string;
}

export type OutgoingMessage = Pick<BusMessage, 'key' | 'value' | 'headers'>;

export interface SubscribeOptions {
  /** Consumer group: each group receives every message once. */
  groupId: string;
  topics: string[];
  /** Start of a new group: the oldest message (true) or only new ones. */
  fromBeginning?: boolean;
  /** Resolves when the message is done with; rejecting redelivers it. */
  handle(message: BusMessage): Promise<void>;
}

export interface Subscription {
  /** Stops fetching, lets the message in hand finish, commits, leaves the group. */
  stop(): Promise<void>;
}

/**
 * Where events travel. Kafka in every deployment; in the one-command embedded mode (all services
 * in one process) a log in the embedded PostgreSQL with the same guarantees (PostgresLogBus); in
 * memory for unit tests (InProcessBus).
 */
export interface EventBus {
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Per group and partition: messages published but not yet consumed. */
  lag?(groupId: string, topics: string[]): Promise<Array<{ topic: string; partition: number; lag: number }>>;
  /** Readiness: rejects when the bus cannot reach its broker. Absent: ready whenever the process is (in memory, or the database's own log). */
  checkReady?(): Promise<void>;
  close(): Promise<void>;
}
