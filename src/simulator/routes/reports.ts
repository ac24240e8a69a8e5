import { gzipSync } from 'node:zlib';
import { badRequest, notFound } from '../errors.js';
import { ok, pathParam, type ApiReply } from '../http.js';
import { presentReport } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { isoDate, zulu } from '../timestamps.js';
import type { Caller, ReportRecord, TenantRecord, World } from '../world.js';

interface ReportPostBody {
  recipients?: string[];
  result_action: 'save' | 'send';
  parameters: {
    tenant_id: string;
    level: 'itself' | 'direct_partners' | 'all_partners' | 'all_customers' | 'accounts';
    kind: string;
    formats?: string[];
    period?: { start: string; end: string };
    hide_zero_usage?: boolean;
    show_skus?: boolean;
  };
  schedule: { type: 'once' | 'monthly'; enabled?: boolean };
  generation_date?: string;
}

function tenantsAtLevel(
  world: World,
  root: TenantRecord,
  level: ReportPostBody['parameters']['level'],
): TenantRecord[] {
  if (level === 'itself') return [root];
  if (level === 'direct_partners') return world.children(root.id).filter((t) => t.kind === 'partner');
  const subtree = world.subtree(root.id).map((s) => s.tenant);
  if (level === 'all_partners') return subtree.filter((t) => t.kind === 'partner' && t.id !== root.id);
  if (level === 'all_customers') return subtree.filter((t) => t.kind === 'customer');
  return subtree;
}

const CSV_COLUMNS = [
  'tenant.id',
  'tenant.uuid',
  'tenant.name',
  'tenant.kind',
  'tenant.parent.uuid',
  'tenant.customer_id',
  'tenant.mode',
  'name',
  'usage_name',
  'edition',
  'application.id',
  'infra.id',
  'measurement_unit',
  'quota.value',
  'quota.overage',
  'usage.absolute.total',
  'usage.effective.production',
  'usage.effective.trial',
  'period.start',
  'period.end',
];

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A csv_v2_0-like usage report (ACRONIS-API.md §8: `tenant.id, tenant.kind, name, edition,
 * application.id, infra.id, usage.absolute.total, usage.effective.production`, …): one row per
 * enabled item of each tenant at the level, usage all zero.
 */
function renderCsv(world: World, tenants: TenantRecord[], period: { start: string; end: string }): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const tenant of tenants) {
    const mode = world.pricing.get(tenant.id)?.mode ?? 'production';
    for (const { item, status, quota } of world.effectiveItems(tenant)) {
      if (status !== 1) continue;
      const row = [
        tenant.legacyId,
        tenant.id,
        tenant.name,
        tenant.kind,
        tenant.parentId,
        tenant.customerId,
        mode,
        item.name,
        item.usageName,
        item.edition,
        item.applicationId,
        item.infraId,
        item.measurementUnit,
        quota?.value,
        quota?.overage,
        0,
        0,
        0,
        period.start,
        period.end,
      ];
      lines.push(row.map(csvField).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

function renderReport(
  world: World,
  tenants: TenantRecord[],
  period: { start: string; end: string },
  format: string,
): string {
  if (format.startsWith('json')) {
    return JSON.stringify({
      items: tenants.map((t) => ({
        tenant_id: t.id,
        usages: world
          .effectiveItems(t)
          .filter((e) => e.status === 1)
          .map((e) => ({ name: e.item.name, value: 0 })),
      })),
    });
  }
  const csv = renderCsv(world, tenants, period);
  if (format === 'html')
    return `<html><body><pre>${csv.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre></body></html>`;
  return csv;
}

/** POST /reports → 200 `report`; `recipients` defaults to [] (ACRONIS-API.md §8 [C]). */
function createReport({ world, caller, body }: HandlerInput) {
  const input = body as ReportPostBody;
  const tenant = world.visibleTenant(caller, input.parameters.tenant_id);
  const now = world.now();
  const today = isoDate(now);
  const period = input.parameters.period ?? { start: `${today.slice(0, 8)}01`, end: today };
  for (const date of [period.start, period.end]) {
    if (Number.isNaN(Date.parse(date))) throw badRequest(`'parameters.period' holds an invalid date "${date}"`);
  }
  if (period.end > today) throw badRequest("'parameters.period.end' must not be in the future");
  if (period.start > period.end) throw badRequest("'parameters.period.start' must not be after its end");
  const formats = input.parameters.formats ?? ['csv_v2_0'];
  const report: ReportRecord = {
    id: world.ids.uuid(),
    version: 1,
    resultAction: input.result_action,
    recipients: input.recipients ?? [],
    parameters: { ...input.parameters, formats, period },
    schedule: { enabled: input.schedule.enabled ?? true, type: input.schedule.type },
    generationDate: input.generation_date ?? today,
    createdAt: now,
    polls: 0,
    stored: [],
  };
  if (report.resultAction === 'save') {
    const tenants = tenantsAtLevel(world, tenant, input.parameters.level);
    report.stored = formats.map((format) => ({
      id: world.ids.uuid(),
      format,
      createdAt: now,
      gzip: gzipSync(renderReport(world, tenants, period, format)),
    }));
  }
  world.reports.set(report.id, report);
  return ok(presentReport(report));
}

function visibleReport(world: World, caller: Caller, reportId: string): ReportRecord {
  const report = world.reports.get(reportId);
  if (!report) throw notFound(`Report "${reportId}" not found`);
  world.visibleTenant(caller, report.parameters.tenant_id);
  return report;
}

/** The first poll answers in_progress; the report is saved from the second poll or after 1 s. */
function isSaved(world: World, report: ReportRecord): boolean {
  return report.polls >= 2 || world.now() - report.createdAt >= 1000;
}

function listStored({ world, caller, request }: HandlerInput) {
  const report = visibleReport(world, caller, pathParam(request, 'report_id'));
  report.polls++;
  const saved = isSaved(world, report);
  return ok({
    items: report.stored.map((s) => ({
      id: s.id,
      report_format: s.format,
      created_at: zulu(s.createdAt),
      status: saved ? 'saved' : 'in_progress',
      ...(saved ? { size: s.gzip.length } : {}),
    })),
  });
}

/**
 * The stored report is gzip-compressed (WH saves `{id}.csv.gz`). It is sent as
 * application/octet-stream with `Content-Encoding: gzip`: PYX's `response.text` works and
 * curl needs `--compressed`, which points to that header (ACRONIS-API.md §8 [I]). Clients that
 * decompress transparently get the CSV; with decompression off they get the .gz bytes.
 */
function downloadStored({ world, caller, request }: HandlerInput): ApiReply {
  const report = visibleReport(world, caller, pathParam(request, 'report_id'));
  const storedId = pathParam(request, 'stored_report_id');
  const stored = report.stored.find((s) => s.id === storedId);
  if (!stored) throw notFound(`Stored report "${storedId}" not found`);
  if (!isSaved(world, report)) throw notFound(`Stored report "${storedId}" is not ready yet`);
  return {
    status: 200,
    body: stored.gzip,
    headers: {
      'content-type': 'application/octet-stream',
      'content-encoding': 'gzip',
      'content-disposition': `attachment; filename="${stored.id}.${stored.format.startsWith('csv') ? 'csv' : stored.format.startsWith('json') ? 'json' : 'html'}.gz"`,
    },
  };
}

export function registerReportRoutes(router: ApiRouter): void {
  router.add('POST /reports', createReport);
  router.add('GET /reports/{report_id}/stored', listStored);
  router.add('GET /reports/{report_id}/stored/{stored_report_id}', downloadStored);
}
