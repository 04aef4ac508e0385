// The on-disk cache of tuned kernel settings: one JSON file per user
// ($ATTUNE_AUTOTUNE_CACHE, else $XDG_CACHE_HOME/attune/autotune.json, else
// ~/.cache/attune/autotune.json), holding one device's entries.
//
// Writes merge: under a lock file (O_EXCL, stale after 30 s) the current file
// is read again, this process's entries are laid over it, and the result is
// written to a temporary file and renamed over the cache (atomic on POSIX),
// so several processes tuning at once lose nothing and a reader never sees a
// half-written file. A missing, unreadable, malformed or other device's file
// is ignored with one warning per process and rebuilt by the next write.

import { nodeModule } from '../backend/platform.js';
import type { Settings } from '../backend/settings.js';
import { type DeviceFingerprint, deviceFingerprint, deviceId } from './device.js';

export const CACHE_FORMAT = 'attune-autotune-cache';
export const CACHE_VERSION = 1;

/** One tuned (backend, build, kernel, key). */
export interface CacheEntry {
  backend: string;
  build: string;
  kernel: string;
  key: string;
  settings: Settings;
  /** Median seconds of one call with these settings, and with the defaults, when tuned. */
  seconds: number;
  defaultSeconds: number;
  /** Candidates timed and seconds spent finding these settings. */
  evaluations: number;
  searchSeconds: number;
  tunedAt: string;
}

/** Which backend runs a kernel for a key, chosen by timing each backend's tuned kernel. */
export interface RouteEntry {
  kernel: string;
  key: string;
  backend: string;
  /** The build of every backend compared, by name: the route holds only while they are loaded. */
  builds: Record<string, string>;
  /** Median seconds per backend. */
  seconds: Record<string, number>;
  tunedAt: string;
}

export interface CacheFile {
  format: typeof CACHE_FORMAT;
  version: number;
  deviceId: string;
  device: DeviceFingerprint;
  entries: Record<string, CacheEntry>;
  routes: Record<string, RouteEntry>;
}

export function entryId(e: Pick<CacheEntry, 'backend' | 'build' | 'kernel' | 'key'>): string {
  return `${e.backend}|${e.build}|${e.kernel}|${e.key}`;
}

export function routeId(r: Pick<RouteEntry, 'kernel' | 'key'>): string {
  return `${r.kernel}|${r.key}`;
}

interface Fs {
  readFileSync(p: string, e: 'utf8'): string;
  writeFileSync(p: string, d: string): void;
  renameSync(a: string, b: string): void;
  mkdirSync(p: string, o: { recursive: true }): void;
  openSync(p: string, flags: string): number;
  closeSync(fd: number): void;
  unlinkSync(p: string): void;
  statSync(p: string): { mtimeMs: number };
  existsSync(p: string): boolean;
}

function fs(): Fs {
  const m = nodeModule<Fs>('node:fs');
  if (!m) throw new Error('autotune cache: a cache file needs Node (no file system here)');
  return m;
}

function env(name: string): string | undefined {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return v === '' ? undefined : v;
}

/** The cache file's path: the option, else $ATTUNE_AUTOTUNE_CACHE, else the user cache directory. */
export function defaultCachePath(): string {
  const explicit = env('ATTUNE_AUTOTUNE_CACHE');
  if (explicit) return explicit;
  const path = nodeModule<{ join(...p: string[]): string }>('node:path');
  const os = nodeModule<{ homedir(): string }>('node:os');
  if (!path || !os) return 'attune-autotune.json';
  const base = env('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'attune', 'autotune.json');
}

export function emptyCache(): CacheFile {
  const device = deviceFingerprint();
  return { format: CACHE_FORMAT, version: CACHE_VERSION, deviceId: deviceId(device), device, entries: {}, routes: {} };
}

export type CacheProblem = 'missing' | 'unreadable' | 'malformed' | 'foreign-device' | 'other-version';

/** Reads the cache; a problem gives an empty cache and says why (the caller warns). */
export function readCache(path: string): { cache: CacheFile; problem?: CacheProblem; detail?: string } {
  const empty = emptyCache();
  let text: string;
  try {
    if (!fs().existsSync(path)) return { cache: empty, problem: 'missing' };
    text = fs().readFileSync(path, 'utf8');
  } catch (e) {
    return { cache: empty, problem: 'unreadable', detail: (e as Error).message };
  }
  let parsed: Partial<CacheFile>;
  try {
    parsed = JSON.parse(text) as Partial<CacheFile>;
  } catch (e) {
    return { cache: empty, problem: 'malformed', detail: (e as Error).message };
  }
  if (parsed?.format !== CACHE_FORMAT || typeof parsed.entries !== 'object' || parsed.entries === null) {
    return { cache: empty, problem: 'malformed', detail: `not an ${CACHE_FORMAT} file` };
  }
  if (parsed.version !== CACHE_VERSION)
    return { cache: empty, problem: 'other-version', detail: `version ${parsed.version}, this is ${CACHE_VERSION}` };
  if (parsed.deviceId !== empty.deviceId)
    return { cache: empty, problem: 'foreign-device', detail: `tuned on '${parsed.deviceId}', this is '${empty.deviceId}'` };
  const entries = Object.fromEntries(Object.entries(parsed.entries).filter(([, e]) => validEntry(e)));
  const routes = Object.fromEntries(Object.entries(parsed.routes ?? {}).filter(([, r]) => typeof r?.backend === 'string'));
  return { cache: { ...empty, entries, routes } };
}

function validEntry(e: unknown): e is CacheEntry {
  const c = e as CacheEntry;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.kernel === 'string' &&
    typeof c.key === 'string' &&
    typeof c.backend === 'string' &&
    typeof c.build === 'string' &&
    typeof c.settings === 'object' &&
    c.settings !== null &&
    Object.values(c.settings).every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs fn holding `${path}.lock` (created exclusively; a lock older than staleMs is taken over). */
function withLock<T>(path: string, fn: () => T, staleMs = 30_000, timeoutMs = 60_000): T {
  const lock = `${path}.lock`;
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      fs().closeSync(fs().openSync(lock, 'wx'));
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs().statSync(lock).mtimeMs > staleMs) fs().unlinkSync(lock);
      } catch {
        // the holder just released it
      }
      if (Date.now() - start > timeoutMs) throw new Error(`autotune cache: ${lock} held for over ${timeoutMs / 1000} s`);
      sleepMs(Math.min(50, 2 + attempt));
    }
  }
  try {
    return fn();
  } finally {
    try {
      fs().unlinkSync(lock);
    } catch {
      // already taken over as stale
    }
  }
}

/**
 * Adds these entries and routes to the cache file (merged with what other
 * processes wrote meanwhile) and returns the merged cache. Entries of a
 * (backend, kernel) whose build is not `currentBuilds[backend]` are dropped.
 */
export function mergeIntoCache(
  path: string,
  entries: readonly CacheEntry[],
  routes: readonly RouteEntry[] = [],
  currentBuilds: Readonly<Record<string, string>> = {},
): CacheFile {
  const dir = path.slice(0, Math.max(0, path.lastIndexOf('/')));
  if (dir) fs().mkdirSync(dir, { recursive: true });
  return withLock(path, () => {
    const { cache } = readCache(path);
    for (const [id, e] of Object.entries(cache.entries)) {
      const build = currentBuilds[e.backend];
      if (build !== undefined && build !== e.build) delete cache.entries[id];
    }
    for (const e of entries) cache.entries[entryId(e)] = e;
    for (const r of routes) cache.routes[routeId(r)] = r;
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    fs().writeFileSync(tmp, `${JSON.stringify(cache, null, 1)}\n`);
    fs().renameSync(tmp, path);
    return cache;
  });
}
