/**
 * A state store's identity, which group members send with their partials so that members with
 * different state directories are reported (hot/member-runner.ts): the same for every opener of
 * one directory, whatever their hostname (containers sharing it through a volume on one host),
 * and different for another directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/state-store.js';

describe('StateStore.identity', () => {
  it('is the same for two openers of one directory, another for another directory, and names the machine by its boot id', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pw-identity-'));
    const a = new StateStore(join(root, 'one'));
    const b = new StateStore(join(root, 'one'));
    const c = new StateStore(join(root, 'two'));
    try {
      expect(a.identity).toBe(b.identity);
      expect(c.identity).not.toBe(a.identity);
      const boot = '/proc/sys/kernel/random/boot_id';
      if (existsSync(boot)) expect(a.identity.startsWith(`${readFileSync(boot, 'utf8').trim()}:`)).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
