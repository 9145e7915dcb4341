import { kafkajs } from '../src/kafkajs';

describe('kafkajs for the test tooling', () => {
  it('comes with the fixes the services run it with (no 1 ms polling of idle connections)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const requestQueue = () => require('kafkajs/src/network/requestQueue').prototype as { cryptocareFixed?: boolean };
    expect(requestQueue().cryptocareFixed).toBeUndefined(); // plain kafkajs, as this file loaded it
    const { Kafka } = await kafkajs();
    expect(typeof Kafka).toBe('function');
    expect(requestQueue().cryptocareFixed).toBe(true);
  });
});
