import { backendEnv, ConfigError, loadConfig } from './config';

describe('configuration from the environment', () => {
  const shape = backendEnv('search', 50052, 9102);

  it('parses and applies defaults', () => {
    const config = loadConfig(shape, { DATABASE_URL: 'postgresql://u:p@db:5432/cryptocare', KAFKA_BROKERS: 'k1:9092,k2:9092' });
    expect(config).toMatchObject({ GRPC_PORT: 50052, HTTP_PORT: 9102, DATABASE_SCHEMA: 'search', NODE_ENV: 'development', KAFKA_BROKERS: 'k1:9092,k2:9092' });
    // all interfaces unless told otherwise: in a pod, probes and peers come on the pod IP
    expect(config.GRPC_HOST).toBe('0.0.0.0');
  });

  it('stops on a bad or missing variable, naming each one', () => {
    const attempt = () => loadConfig(shape, { DATABASE_URL: 'not a url', GRPC_PORT: '70000', KAFKA_BROKERS: 'k1' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/DATABASE_URL/);
    expect(attempt).toThrow(/GRPC_PORT/);
    expect(attempt).toThrow(/KAFKA_BROKERS: expected host:port/);
    expect(() => loadConfig(shape, {})).toThrow(/DATABASE_URL/);
  });
});
