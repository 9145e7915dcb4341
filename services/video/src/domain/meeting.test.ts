import { InvalidBookingTimesError, linkSeconds, meetingView, meetingWindow, type Meeting } from './meeting';

describe('meeting rules', () => {
  it('takes the meeting length from the booking, in whole minutes', () => {
    expect(meetingWindow('2030-03-01T09:00:00Z', '2030-03-01T09:30:00Z')).toEqual({ startAt: new Date('2030-03-01T09:00:00Z'), durationMinutes: 30 });
    expect(meetingWindow('2030-03-01T09:00:00+01:00', '2030-03-01T08:45:30Z').durationMinutes).toBe(46);
  });

  it('refuses times that cannot make a meeting', () => {
    expect(() => meetingWindow('', '2030-03-01T09:30:00Z')).toThrow(InvalidBookingTimesError);
    expect(() => meetingWindow('2030-03-01T09:00:00Z', 'soon')).toThrow(InvalidBookingTimesError);
    expect(() => meetingWindow('2030-03-01T09:00:00Z', '2030-03-01T09:00:00Z')).toThrow(InvalidBookingTimesError);
  });

  it('shows the host link to the host only', () => {
    const meeting: Meeting = {
      id: 'm',
      appointmentId: 'a',
      provider: 'zoom',
      providerMeetingId: '81234567890',
      joinUrl: 'https://zoom.example/j/1',
      hostUrl: 'https://zoom.example/s/1?zak=secret',
      password: 'abc',
      startAt: new Date('2030-03-01T09:00:00Z'),
      durationMinutes: 30,
      status: 'active',
      createdAt: new Date(),
      hostId: '8vBQ3yTGQ9yEu2jX3f4mZA',
    };
    expect(meetingView(meeting, false).hostUrl).toBe('');
    expect(meetingView(meeting, true).hostUrl).toBe(meeting.hostUrl);
    expect(meetingView(meeting, false)).toMatchObject({ joinUrl: meeting.joinUrl, startAt: '2030-03-01T09:00:00.000Z', durationMinutes: 30 });
  });

  it('measures confirmation to link', () => {
    expect(linkSeconds('2030-03-01T09:00:00.000Z', new Date('2030-03-01T09:00:01.500Z'))).toBe(1.5);
    expect(linkSeconds('garbage', new Date())).toBeUndefined();
  });
});
