import { createHmac } from 'node:crypto';
import { isHost, parseZoomEvent, urlValidationAnswer, verifyZoomSignature, zoomEventKey, zoomSignature, ZoomWebhookRejected } from './zoom-webhook';

const SECRET = 'zoom-secret-token';
const NOW = Date.parse('2026-12-01T10:00:00Z');
const ts = (ms = NOW) => String(Math.floor(ms / 1000));
/** The signature computed as Zoom's documentation describes it, independently of zoomSignature. */
const zoomSigns = (timestamp: string, body: string, secret = SECRET) => `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

const joined = (participant: Record<string, unknown>, eventTs = NOW) =>
  JSON.stringify({
    event: 'meeting.participant_joined',
    event_ts: eventTs,
    payload: { account_id: 'acc', object: { id: '85746065432', uuid: 'm-uuid==', host_id: 'host-zoom-user', topic: 'CryptoCare consultation', type: 2, participant } },
  });

const rejection = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ZoomWebhookRejected) return err.reason;
    throw err;
  }
  return 'accepted';
};

describe('Zoom webhook signature (x-zm-signature v0)', () => {
  const body = JSON.stringify({ event: 'meeting.ended', event_ts: NOW, payload: { object: { id: '85746065432' } } });
  const check = (headers: Record<string, string>, raw = body, now = NOW) => rejection(() => verifyZoomSignature(SECRET, headers, Buffer.from(raw), now));

  it('accepts the signature Zoom computes over the exact bytes, within 5 minutes either way', () => {
    expect(zoomSignature(SECRET, ts(), body)).toBe(zoomSigns(ts(), body));
    expect(check({ 'x-zm-request-timestamp': ts(), 'x-zm-signature': zoomSigns(ts(), body) })).toBe('accepted');
    expect(check({ 'x-zm-request-timestamp': ts(NOW - 299_000), 'x-zm-signature': zoomSigns(ts(NOW - 299_000), body) })).toBe('accepted');
    expect(check({ 'x-zm-request-timestamp': ts(NOW + 299_000), 'x-zm-signature': zoomSigns(ts(NOW + 299_000), body) })).toBe('accepted');
  });

  it('refuses a forged signature, another secret, a changed byte, a moved timestamp, missing headers', () => {
    const good = { 'x-zm-request-timestamp': ts(), 'x-zm-signature': zoomSigns(ts(), body) };
    expect(check({ ...good, 'x-zm-signature': 'v0=' + '0'.repeat(64) })).toBe('bad_signature');
    expect(check({ ...good, 'x-zm-signature': zoomSigns(ts(), body, 'another-secret') })).toBe('bad_signature');
    expect(check(good, body.replace('85746065432', '85746065433'))).toBe('bad_signature');
    expect(check({ ...good, 'x-zm-request-timestamp': String(Number(ts()) + 1) })).toBe('bad_signature');
    expect(check({ ...good, 'x-zm-signature': 'v0=short' })).toBe('bad_signature');
    expect(check({ ...good, 'x-zm-request-timestamp': '1e9' })).toBe('bad_signature');
    expect(check({ 'x-zm-request-timestamp': ts() })).toBe('missing_signature');
    expect(check({ 'x-zm-signature': good['x-zm-signature'] })).toBe('missing_signature');
  });

  it('refuses a request signed more than 5 minutes before or after now (a replay captured earlier)', () => {
    const old = ts(NOW - 301_000);
    expect(check({ 'x-zm-request-timestamp': old, 'x-zm-signature': zoomSigns(old, body) })).toBe('stale');
    const future = ts(NOW + 301_000);
    expect(check({ 'x-zm-request-timestamp': future, 'x-zm-signature': zoomSigns(future, body) })).toBe('stale');
  });

  it('answers the endpoint.url_validation challenge with the HMAC of plainToken', () => {
    const plainToken = 'qgg8vlvZRS6UYooatFL8Aw';
    expect(urlValidationAnswer(SECRET, plainToken)).toEqual({ plainToken, encryptedToken: createHmac('sha256', SECRET).update(plainToken).digest('hex') });
    expect(parseZoomEvent(Buffer.from(JSON.stringify({ payload: { plainToken }, event_ts: NOW, event: 'endpoint.url_validation' })))).toEqual({ event: 'endpoint.url_validation', plainToken });
  });
});

describe('Zoom webhook bodies', () => {
  const host = { user_id: '16778240', user_name: 'Dr', id: 'host-zoom-user', participant_uuid: 'p-1', join_time: '2026-12-01T10:00:05Z', email: 'pro@hosts.test' };
  const guest = { user_id: '16779264', user_name: 'Patient', id: '', participant_uuid: 'p-2', join_time: '2026-12-01T10:01:00Z', email: '' };

  it('reads the meeting and the participant; tells the host (signed in as the meeting’s host) from a guest', () => {
    const e = parseZoomEvent(Buffer.from(joined(host)));
    expect(e).toMatchObject({ event: 'meeting.participant_joined', meetingId: '85746065432', hostId: 'host-zoom-user', eventTs: NOW, participant: { id: 'host-zoom-user', userId: '16778240' } });
    if (e.event !== 'meeting.participant_joined') throw new Error('unreachable');
    expect(isHost(e.participant!, [e.hostId])).toBe(true);
    const g = parseZoomEvent(Buffer.from(joined(guest)));
    if (g.event !== 'meeting.participant_joined') throw new Error('unreachable');
    expect(isHost(g.participant!, [g.hostId, 'host-zoom-user'])).toBe(false);
    // Another signed-in Zoom user is not the host either.
    expect(isHost({ ...host, userId: '1', participantUuid: '', joinTime: '', id: 'someone-else' }, ['host-zoom-user', null])).toBe(false);
  });

  it('names an event the same on Zoom’s retries and differently for another join', () => {
    const key = (raw: string) => {
      const e = parseZoomEvent(Buffer.from(raw));
      if (e.event === 'endpoint.url_validation' || e.event === 'other') throw new Error('unreachable');
      return zoomEventKey(e);
    };
    expect(key(joined(host))).toBe(key(joined(host)));
    expect(key(joined(host))).not.toBe(key(joined(guest)));
    expect(key(joined(host))).not.toBe(key(joined(host, NOW + 1)));
  });

  it('refuses bodies that are not Zoom events it can use, and ignores other event types', () => {
    const bad = (raw: string) => rejection(() => parseZoomEvent(Buffer.from(raw)));
    expect(bad('not json')).toBe('bad_body');
    expect(bad('\u0000\u0000')).toBe('bad_body');
    expect(bad(JSON.stringify({ event: 'meeting.ended', event_ts: NOW, payload: { object: { id: 'abc' } } }))).toBe('bad_body');
    expect(bad(JSON.stringify({ event: 'meeting.ended', payload: { object: { id: '1' } } }))).toBe('bad_body');
    expect(bad(JSON.stringify({ event: 'meeting.ended', event_ts: NOW, payload: { object: { id: '1\u0000' } } }))).toBe('bad_body');
    expect(bad(joined({}))).toBe('bad_body');
    expect(bad(JSON.stringify({ event: 'endpoint.url_validation', payload: {} }))).toBe('bad_body');
    expect(parseZoomEvent(Buffer.from(JSON.stringify({ event: 'recording.completed', payload: {} })))).toEqual({ event: 'other', name: 'recording.completed' });
  });
});
