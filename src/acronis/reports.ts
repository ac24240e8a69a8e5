import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

export const reportKinds = ['usage_daily', 'usage_summary', 'usage_current', 'usage_breakdown'] as const;
export const reportLevels = ['itself', 'direct_partners', 'all_partners', 'all_customers', 'accounts'] as const;
export const reportFormats = ['csv', 'html', 'json_v1', 'csv_v2_0', 'json_v2_0'] as const;

export const reportSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  result_action: z.enum(['save', 'send']),
  recipients: z.array(z.string()),
  parameters: z.object({
    tenant_id: z.string(),
    level: z.enum(reportLevels),
    kind: z.enum(reportKinds),
    formats: z.array(z.string()).optional(),
    period: z.object({ start: z.string(), end: z.string() }).optional(),
  }),
  schedule: z.object({ type: z.enum(['once', 'monthly']), enabled: z.boolean().optional() }),
  generation_date: z.string().optional(),
});
export type Report = z.infer<typeof reportSchema>;

export interface CreateReportInput {
  tenantId: string;
  level: (typeof reportLevels)[number];
  kind: (typeof reportKinds)[number];
  formats?: (typeof reportFormats)[number][];
  /** YYYY-MM-DD, not in the future. */
  period?: { start: string; end: string };
  hideZeroUsage?: boolean;
}

/**
 * POST /reports → 200 (ACRONIS-API.md §8). The OAS requires `recipients`, `result_action`,
 * `parameters` and `schedule`; we save (never e-mail) a one-off report.
 */
export async function createReport(api: AcronisTransport, input: CreateReportInput): Promise<Report> {
  return api.json(
    {
      method: 'POST',
      path: '/reports',
      json: {
        recipients: [],
        result_action: 'save',
        schedule: { type: 'once', enabled: true },
        parameters: {
          tenant_id: input.tenantId,
          level: input.level,
          kind: input.kind,
          formats: input.formats ?? ['csv_v2_0'],
          ...(input.period ? { period: input.period } : {}),
          ...(input.hideZeroUsage !== undefined ? { hide_zero_usage: input.hideZeroUsage } : {}),
        },
      },
    },
    reportSchema,
  );
}

export const storedReportSchema = z.object({
  id: z.string().optional(),
  report_format: z.string(),
  size: z.number().int().optional(),
  created_at: acronisTimestamp,
  status: z.enum(['in_progress', 'saved', 'failed']),
});
export type StoredReport = z.infer<typeof storedReportSchema>;

/** GET /reports/{id}/stored. */
export async function getStoredReports(api: AcronisTransport, reportId: string): Promise<StoredReport[]> {
  const list = await api.json(
    { method: 'GET', path: `/reports/${encodeURIComponent(reportId)}/stored` },
    z.object({ items: z.array(storedReportSchema) }),
  );
  return list.items;
}

export class ReportNotReadyError extends Error {
  constructor(
    readonly reportId: string,
    readonly reason: string,
  ) {
    super(`report ${reportId} ${reason}`);
    this.name = 'ReportNotReadyError';
  }
}

/**
 * Polls the stored copies until every one is `saved` (or one `failed`). PYX and BASH poll
 * every 2 s; DOC says a report takes 1–2 min (ACRONIS-API.md §8).
 */
export async function waitForStoredReports(
  api: AcronisTransport,
  reportId: string,
  opts: { intervalMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<StoredReport[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
  for (;;) {
    const stored = await getStoredReports(api, reportId);
    if (stored.some((s) => s.status === 'failed')) throw new ReportNotReadyError(reportId, 'failed to generate');
    if (stored.length > 0 && stored.every((s) => s.status === 'saved')) return stored;
    if (Date.now() >= deadline)
      throw new ReportNotReadyError(reportId, `is still in progress after ${opts.timeoutMs ?? 300_000} ms`);
    await delay(opts.intervalMs ?? 2000, undefined, opts.signal ? { signal: opts.signal } : undefined);
  }
}

/** GET /reports/{id}/stored/{sid}: gzip-compressed bytes, returned decompressed (ACRONIS-API.md §8). */
export async function downloadStoredReport(
  api: AcronisTransport,
  reportId: string,
  storedReportId: string,
): Promise<Buffer> {
  return api.bytes({
    method: 'GET',
    path: `/reports/${encodeURIComponent(reportId)}/stored/${encodeURIComponent(storedReportId)}`,
  });
}
