import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { call, type Session } from './api';

/**
 * The signed-in person. The access token lives in memory only; the refresh token is an httpOnly
 * cookie the page cannot read (set by the gateway on sign-in). On load, and a minute before the
 * access token expires, the page asks POST /v1/auth/refresh: the session survives a reload.
 */
interface SessionState {
  session: Session | null;
  /** True until the first renewal attempt has answered (so pages do not flash "sign in"). */
  restoring: boolean;
  signedIn(s: Session): void;
  signOut(): Promise<void>;
  token(): string | null;
}

const SessionContext = createContext<SessionState | null>(null);

/**
 * One renewal at a time, whoever asks: refresh tokens rotate, and a token presented twice is taken
 * for a stolen one (identity revokes the session). Within the page one promise is shared; across
 * the tabs of the browser a Web Lock makes them take turns, so each sends the cookie the previous
 * one's answer rotated.
 */
let renewing: Promise<Session | null> | null = null;
function renew(): Promise<Session | null> {
  const ask = () => call<Session>('POST', '/v1/auth/refresh', { body: {} });
  renewing ??= (typeof navigator !== 'undefined' && navigator.locks ? navigator.locks.request('cryptocare-refresh', ask).then((s) => s) : ask())
    .catch(() => null)
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(true);
  const ref = useRef<Session | null>(null);
  ref.current = session;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const queries = useQueryClient();

  const adopt = useCallback((s: Session | null) => {
    clearTimeout(timer.current);
    setSession(s);
    ref.current = s;
    if (!s) return;
    // A minute before it expires (15 min by default), or half its life when it is short.
    const lifeMs = (s.expiresIn ?? 900) * 1000;
    timer.current = setTimeout(() => void renew().then((next) => adopt(next)), Math.max(lifeMs - 60_000, lifeMs / 2));
  }, []);

  useEffect(() => {
    let live = true;
    void renew().then((s) => {
      if (!live) return;
      if (s) adopt(s);
      setRestoring(false);
    });
    return () => {
      live = false;
      clearTimeout(timer.current);
    };
  }, [adopt]);

  const value: SessionState = {
    session,
    restoring,
    signedIn: (s) => {
      adopt(s);
      setRestoring(false);
    },
    signOut: async () => {
      adopt(null);
      queries.clear();
      // Ends this session server-side (the cookie's) and clears the cookie.
      await call('POST', '/v1/auth/logout', { body: {} }).catch(() => undefined);
    },
    token: () => ref.current?.accessToken ?? null,
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
