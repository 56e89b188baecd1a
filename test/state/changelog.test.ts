/**
 * Changelogs (state/changelog.ts): a commit asked for its changes lists every key it wrote or
 * removed (range removals key by key), each key maps to the task that owns it, and a store
 * that replays one task's changelog records after clearing the task holds exactly the task's
 * keys of the store that wrote them — nothing of other tasks, nothing stale.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rounds } from '../../src/hot/member-runner.js';
import { changeRecord, changelogTopic, clearTask, recordOp, taskId, taskOfKey, type Task, type TaskLayout } from '../../src/state/changelog.js';
import type { DbName, StateOp, StoreKey } from '../../src/state/layout.js';
import { StateStore } from '../../src/state/state-store.js';

const layout: TaskLayout = {
  topicOf: (stream) => ({ orders: 'orders-topic', orders_v2: 'orders-topic', rooms: 'rooms-topic' } as Record<string, string>)[stream],
  streamsOf: (topic) => (topic === 'orders-topic' ? ['orders', 'orders_v2'] : topic === 'rooms-topic' ? ['rooms'] : []),
};

describe('taskOfKey', () => {
  it('maps input partition records to their input task, phase-two records to their merge task, and member records to none', () => {
    const input = (p: number): Task => ({ kind: 'input', topic: 'orders-topic', partition: p });
    const merge = (q: number): Task => ({ kind: 'merge', metric: 'rev_5m', partition: q });
    const cases: [DbName, StoreKey, Task | undefined][] = [
      ['meta', ['partition', 'orders', 3], input(3)],
      ['meta', ['partition', 'orders_v2', 3], input(3)],
      ['dedup', ['orders', 2, 4096, 4096], input(2)],
      ['meta', ['merge', 'rev_5m', 1], merge(1)],
      ['meta', ['metric', 'rev_5m#1'], merge(1)],
      ['groups', ['rev_5m#4', 1_700_000_000_000, 7], merge(4)],
      ['sessions', ['rev_5m#0', 12], merge(0)],
      ['emitted', ['rev_5m#2', 1_700_000_000_000], merge(2)],
      ['closed', ['rev_5m#5', 'k'], merge(5)],
      ['meta', ['metric', 'rev_5m'], undefined], // a single process's metric: no task
      ['meta', ['owner', 'orders', 3], undefined],
      ['meta', ['checkpoint'], undefined],
      ['meta', ['stream', 'orders'], undefined],
      ['meta', ['partition', 'unknown_stream', 0], undefined],
    ];
    for (const [db, key, want] of cases) expect(taskOfKey(layout, db, key), `${db} ${JSON.stringify(key)}`).toEqual(want);
    expect(taskId(input(3))).toBe('input.orders-topic.3');
    expect(changelogTopic('pw', input(3))).toBe('pw.orders-topic.input-changelog');
    expect(changelogTopic('pw', merge(1))).toBe('pw.rev_5m.merge-changelog');
  });
});

describe('changelog records', () => {
  it('replayed into another store after clearing the task, reproduce that task\'s keys exactly', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pw-changelog-'));
    const a = new StateStore(join(root, 'a'));
    const b = new StateStore(join(root, 'b'));
    try {
      const records = new Map<string, { key: string; value: Buffer | null }[]>();
      const commit = async (ops: StateOp[]): Promise<void> => {
        await a.send(ops);
        const info = await a.commit({ changelog: true });
        for (const c of info.changes ?? []) {
          const t = taskOfKey(layout, c.db, c.key);
          if (!t) continue;
          const list = records.get(taskId(t)) ?? [];
          list.push(changeRecord(c));
          records.set(taskId(t), list);
        }
      };
      const block = (first: number, n: number): StateOp => ({ op: 'put', db: 'dedup', key: ['orders', 1, first, n], value: { ids: Array.from({ length: n }, (_, i) => `e${first + i}`), times: Array.from({ length: n }, (_, i) => first + i) } });
      // Checkpoint 1: partition 1's state, and another partition's.
      await commit([block(0, 3), block(3, 2), { op: 'put', db: 'meta', key: ['partition', 'orders', 1], value: { offset: 5, head: 0, tail: 5 } },
        { op: 'put', db: 'meta', key: ['partition', 'orders', 2], value: { offset: 9, head: 0, tail: 0 } }, { op: 'put', db: 'meta', key: ['owner', 'orders', 1], value: 'm1' },
        { op: 'groups', metric: 'rev_5m#0', windowStart: 0, slots: Int32Array.of(0, 1), width: 1, nums: Float64Array.of(1.5, 2.5), keys: [['x'], ['y']], objs: null },
        { op: 'put', db: 'meta', key: ['merge', 'rev_5m', 0], value: { marks: [[1, 10]], applied: [], offset: 3 } }]);
      // Checkpoint 2: the first block forgotten (a range removal), a new one, a group updated, a window cleared.
      await commit([block(5, 1), { op: 'dropBlocks', db: 'dedup', prefix: ['orders', 1], below: 3 }, { op: 'put', db: 'meta', key: ['partition', 'orders', 1], value: { offset: 6, head: 3, tail: 6 } },
        { op: 'groups', metric: 'rev_5m#0', windowStart: 0, slots: Int32Array.of(1), width: 1, nums: Float64Array.of(4), keys: [null], objs: null },
        { op: 'groups', metric: 'rev_5m#0', windowStart: 60_000, slots: Int32Array.of(0), width: 1, nums: Float64Array.of(9), keys: [['z']], objs: null },
        { op: 'clear', db: 'groups', prefix: ['rev_5m#0', 0] }]);
      expect(records.get('input.orders-topic.1')?.some((r) => r.value === null)).toBe(true); // the forgotten block's tombstone
      // B holds stale keys of both tasks (a previous ownership) and a key of a task it keeps.
      await b.send([{ op: 'put', db: 'dedup', key: ['orders', 1, 100, 1], value: { ids: ['stale'], times: [0] } }, { op: 'put', db: 'meta', key: ['partition', 'orders', 4], value: { offset: 1 } },
        { op: 'groups', metric: 'rev_5m#0', windowStart: 5, slots: Int32Array.of(3), width: 1, nums: Float64Array.of(0), keys: [['old']], objs: null }]);
      await b.commit();
      for (const t of [{ kind: 'input', topic: 'orders-topic', partition: 1 }, { kind: 'merge', metric: 'rev_5m', partition: 0 }] as Task[]) {
        await b.send([...clearTask(layout, t), ...(records.get(taskId(t)) ?? []).map((r) => recordOp(r.key, r.value))]);
      }
      await b.commit();
      a.refresh(); b.refresh();
      const dump = (s: StateStore, db: DbName, prefix: StoreKey): string[] => [...s.reader.scan(db, prefix)].map((e) => JSON.stringify([e.key, e.value]));
      const groups = (s: StateStore): string[] => [...s.reader.scanGroups(['rev_5m#0'])].map((e) => JSON.stringify([e.key, e.keys, e.nums]));
      expect(dump(b, 'dedup', ['orders', 1])).toEqual(dump(a, 'dedup', ['orders', 1]));
      expect(dump(b, 'dedup', ['orders', 1]).map((l) => JSON.parse(l)[0][2])).toEqual([3, 5]);
      expect(b.reader.get('meta', ['partition', 'orders', 1])).toEqual({ offset: 6, head: 3, tail: 6 });
      expect(groups(b)).toEqual(groups(a));
      expect(groups(b)).toEqual([JSON.stringify([['rev_5m#0', 60_000, 0], ['z'], [9]])]);
      expect(b.reader.get('meta', ['merge', 'rev_5m', 0])).toEqual({ marks: [[1, 10]], applied: [], offset: 3 });
      // Not this task's: partition 2's record stays in A only, B's partition 4 is untouched, owners never travel.
      expect(b.reader.get('meta', ['partition', 'orders', 2])).toBeUndefined();
      expect(b.reader.get('meta', ['partition', 'orders', 4])).toEqual({ offset: 1 });
      expect(b.reader.get('meta', ['owner', 'orders', 1])).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('are produced in requests that keep each partition\'s order and stay under the record-batch bound', () => {
    const big = 'x'.repeat(300 * 1024);
    const records = [
      ...Array.from({ length: 5 }, (_, i) => ({ topic: 't', partition: 0, key: `k${i}`, value: big })),
      ...Array.from({ length: 3 }, (_, i) => ({ topic: 't', partition: 1, key: `j${i}`, value: i === 1 ? null : 'small' })),
      { topic: 'u', partition: 0, value: 'x'.repeat(2 << 20) },
    ];
    const out = rounds(records);
    const seen = new Map<string, string[]>();
    for (const round of out) {
      const perPartition = new Map<string, number>();
      for (const [topic, messages] of round) {
        for (const m of messages) {
          const k = `${topic}:${m.partition}`;
          seen.set(k, [...(seen.get(k) ?? []), m.key ?? '']);
          perPartition.set(k, (perPartition.get(k) ?? 0) + (m.value?.length ?? 0) + (m.key?.length ?? 0));
        }
      }
      // Over the bound only when one record is alone in its partition's share of the request.
      for (const [k, bytes] of perPartition) if (bytes > 768 * 1024) expect(round.find(([t]) => k.startsWith(`${t}:`))?.[1].filter((m) => `${k.split(':')[0]}:${m.partition}` === k)).toHaveLength(1);
    }
    expect(seen.get('t:0')).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(seen.get('t:1')).toEqual(['j0', 'j1', 'j2']);
    expect(seen.get('u:0')).toEqual(['']);
    expect(out.length).toBe(3); // 300 KB records: two per request
  });
});
