import { useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { useSession } from '../session';
import { createApiClient, type ApiClient } from './client';

/** The typed API client of the page, with the signed-in person's access token and the chosen language. */
export function useApi(): ApiClient {
  const { token } = useSession();
  const { i18n } = useTranslation();
  // The client lives as long as the component; it reads the current token and language per call.
  const latest = useRef({ token, language: i18n.language });
  latest.current = { token, language: i18n.language };
  return useMemo(() => createApiClient({ accessToken: () => latest.current.token() ?? undefined, language: () => latest.current.language }), []);
}

/** A typed call's error answer as the pages show errors (ErrorText). */
export function apiError(response: Response, error: { error?: { code?: string; message?: string } } | undefined): ApiError {
  return new ApiError(response.status, error?.error?.code ?? `HTTP_${response.status}`, error?.error?.message ?? `The request failed (HTTP ${response.status}).`);
}
