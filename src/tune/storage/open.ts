// Opens a storage from its URL: 'memory', 'sqlite:path' (or a path ending in .db / .sqlite /
// .sqlite3), 'postgres://user@host:port/db' (or postgresql://).

import { redactUrl, type Storage } from './base.js';
import { InMemoryStorage } from './memory.js';
import { PostgresStorage } from './postgres.js';
import { SqliteStorage } from './sqlite.js';

export async function openStorage(storage: Storage | string): Promise<Storage> {
  if (typeof storage !== 'string') return storage;
  if (storage === 'memory' || storage === ':memory:') return new InMemoryStorage();
  if (storage.startsWith('sqlite:')) return SqliteStorage.open(storage.slice('sqlite:'.length).replace(/^\/\/\//, '/'));
  if (storage.startsWith('postgres://') || storage.startsWith('postgresql://')) return PostgresStorage.connect(storage);
  if (/\.(db|sqlite3?)$/.test(storage)) return SqliteStorage.open(storage);
  throw new Error(`storage: expected 'memory', 'sqlite:path', a .db file or 'postgres://...', got ${JSON.stringify(redactUrl(storage))}`);
}

/** Whether a storage can be shared by several processes (what worker processes need). */
export function isSharedStorage(url: string): boolean {
  return url !== 'memory';
}
