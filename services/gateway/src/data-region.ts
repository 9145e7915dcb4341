import { fromServiceError, isDataRegion, z, type DataRegion } from '@cryptocare/platform';
import { HttpError } from './http-errors';

/**
 * REGION_BASE_URLS: the public base URL of each region's deployment, `CH=https://…,EU=https://…`
 * (the chart renders it from `global.regionBaseUrls`). Empty: refusals name the region only.
 */
export const regionBaseUrlsEnv = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const urls: Partial<Record<DataRegion, string>> = {};
    for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
      const [region, url] = [entry.slice(0, entry.indexOf('=')).toUpperCase(), entry.slice(entry.indexOf('=') + 1)];
      if (!entry.includes('=') || !isDataRegion(region) || !/^https?:\/\/[^\s,]+$/.test(url)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected REGION=URL[,REGION=URL…] with REGION CH or EU, got "${entry}"` });
        return z.NEVER;
      }
      urls[region] = url.replace(/\/+$/, '');
    }
    return urls;
  });

/**
 * The data region this deployment serves (DATA_REGION) and where the others are. A request of
 * another region's user is answered 421 Misdirected Request, code WRONG_REGION, with that
 * region and its base URL in `error.details`: the client goes there; nothing is done here.
 */
export class DataRegions {
  constructor(
    readonly here: DataRegion,
    private readonly baseUrls: Partial<Record<DataRegion, string>> = {},
  ) {}

  misdirected(region: DataRegion): HttpError {
    const baseUrl = this.baseUrls[region];
    return new HttpError(421, 'WRONG_REGION', `this account belongs to the ${region} data region${baseUrl ? `: use ${baseUrl}` : ''}`, {
      region,
      ...(baseUrl ? { baseUrl } : {}),
    });
  }

  /** identity's WRONG_REGION (sign-up or sign-in for another region) as the redirect answer; anything else unchanged. */
  redirectWrongRegion = (error: unknown): never => {
    const appError = fromServiceError(error);
    const region = (appError.details as { region?: unknown } | undefined)?.region;
    if (appError.code === 'WRONG_REGION' && isDataRegion(region)) throw this.misdirected(region);
    throw error;
  };
}
