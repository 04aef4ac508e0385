// The live study dashboard: a small HTTP server over a study storage (SQLite
// or PostgreSQL) that lists the studies and shows each one's report, updated
// as trials finish. It binds to 127.0.0.1 unless told otherwise, is read-only
// unless started with allowWrite (which enables enqueueing trials), and
// answers anything outside its routes with a 4xx, never a crash.
//
// Routes: GET /  ·  GET /study/<name>  ·  GET /vega.js  ·  GET /api/studies
//         GET /api/studies/<name>/report?since=<seq>  ·  POST /api/studies/<name>/enqueue (allowWrite)

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FrozenTrial } from '../tune/frozen-trial.js';
import { redactUrl, type Storage } from '../tune/storage/base.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { escapeHtml, renderPage } from './html.js';
import { buildReportParts, REPORT_BODY, REPORT_STYLE, type ReportParts, vegaRuntimeSource } from './report.js';
import { REPORT_SCRIPT } from './report-script.js';

const MAX_URL = 2048;
const MAX_BODY = 64 * 1024;

export interface DashboardOptions {
  storage: Storage;
  host?: string;
  port?: number;
  allowWrite?: boolean;
  /** Enqueues a trial with fixed params in a study (given only with allowWrite). */
  enqueue?: (studyName: string, params: Record<string, unknown>) => Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Per study: the trials read so far and the storage sequence number they reach, so each poll reads only what changed. */
interface StudyCache {
  seq: number;
  trials: Map<number, FrozenTrial>;
  parts: ReportParts | null;
}

export class Dashboard {
  private server: Server | null = null;
  private readonly caches = new Map<string, StudyCache>();

  constructor(private readonly options: DashboardOptions) {}

  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500;
        if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', `${status}: ${(e as Error).message}\n`);
        else res.end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 8080, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const { address, port } = server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    if (raw.length > MAX_URL) throw new HttpError(414, `request URL longer than ${MAX_URL} characters`);
    if (raw.includes('..') || raw.includes('\\') || !raw.startsWith('/')) throw new HttpError(400, 'path outside the dashboard routes');
    const url = new URL(raw, 'http://dashboard.invalid');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    const method = req.method ?? 'GET';
    if (method === 'POST' && parts[0] === 'api' && parts[1] === 'studies' && parts.length === 4 && parts[3] === 'enqueue') {
      return this.enqueue(req, res, parts[2]);
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `method ${method} is not allowed here`);
    if (parts.length === 0) return send(res, 200, 'text/html; charset=utf-8', this.indexPage());
    if (parts[0] === 'vega.js' && parts.length === 1) return send(res, 200, 'text/javascript; charset=utf-8', vegaRuntimeSource());
    if (parts[0] === 'study' && parts.length === 2) return send(res, 200, 'text/html; charset=utf-8', this.studyPage(parts[1]));
    if (parts[0] === 'api' && parts[1] === 'studies' && parts.length === 2)
      return sendJson(res, await this.options.storage.getAllStudies());
    if (parts[0] === 'api' && parts[1] === 'studies' && parts.length === 4 && parts[3] === 'report') {
      const since = Number(url.searchParams.get('since') ?? '-1');
      if (!Number.isInteger(since)) throw new HttpError(400, `since must be an integer, got ${url.searchParams.get('since')}`);
      return sendJson(res, await this.report(parts[2], since));
    }
    throw new HttpError(404, `no route for ${url.pathname}`);
  }

  private indexPage(): string {
    return renderPage({
      title: 'attune studies',
      body: `<h1>Studies</h1><p class="muted">Storage: ${escapeHtml(redactUrl(this.options.storage.url))}${this.options.allowWrite ? '' : ' (read-only)'}</p><div id="studies"></div>`,
      scripts: [DASHBOARD_SCRIPT, 'startIndex();'],
    });
  }

  private studyPage(name: string): string {
    return renderPage({
      title: `Study ${name}`,
      style: REPORT_STYLE,
      body: `<p><a href="/">← all studies</a> <span id="live" class="muted"></span></p><h1>Study ${escapeHtml(name)}</h1>${REPORT_BODY}<script src="/vega.js"></script>`,
      data: { study: { name } },
      scripts: [REPORT_SCRIPT, DASHBOARD_SCRIPT, 'startStudy(readData("study").name);'],
    });
  }

  /** The report parts when anything changed since `since`, else only the sequence number. */
  private async report(name: string, since: number): Promise<{ seq: number; parts: ReportParts | null }> {
    const storage = this.options.storage;
    const record = await storage.getStudy(name);
    if (!record) throw new HttpError(404, `no study named ${JSON.stringify(name)}`);
    let cache = this.caches.get(name);
    if (!cache) {
      cache = { seq: -1, trials: new Map(), parts: null };
      this.caches.set(name, cache);
    }
    const fresh = await storage.getTrials(record.studyId, cache.seq >= 0 ? { sinceSeq: cache.seq } : {});
    for (const t of fresh.trials) cache.trials.set(t.number, t);
    if (fresh.trials.length > 0 || !cache.parts) {
      const trials = [...cache.trials.values()].sort((a, b) => a.number - b.number);
      const names = record.userAttrs.objectiveNames;
      cache.parts = buildReportParts({
        name: record.name,
        directions: record.directions,
        trials,
        objectiveNames: Array.isArray(names) ? names.map(String) : undefined,
      });
    }
    cache.seq = fresh.seq;
    return { seq: cache.seq, parts: since === cache.seq ? null : cache.parts };
  }

  private async enqueue(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!this.options.allowWrite || !this.options.enqueue)
      throw new HttpError(403, 'the dashboard is read-only (start it with --allow-write)');
    const body = await readBody(req);
    let params: unknown;
    try {
      params = JSON.parse(body);
    } catch {
      throw new HttpError(400, 'the body must be a JSON object of parameters');
    }
    if (params === null || typeof params !== 'object' || Array.isArray(params))
      throw new HttpError(400, 'the body must be a JSON object of parameters');
    const values = Object.values(params as Record<string, unknown>);
    if (!values.every((v) => v === null || ['number', 'string', 'boolean'].includes(typeof v))) {
      throw new HttpError(400, 'parameter values must be numbers, strings, booleans or null');
    }
    if (!(await this.options.storage.getStudy(name))) throw new HttpError(404, `no study named ${JSON.stringify(name)}`);
    await this.options.enqueue(name, params as Record<string, unknown>);
    sendJson(res, { enqueued: true });
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in the path');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
}
