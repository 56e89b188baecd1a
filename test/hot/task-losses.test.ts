/**
 * Fenced tasks per assignment generation (src/hot/task-losses.ts). The sequence of the first
 * case is the one a frozen group member lived through: its checkpoint drained, the process was
 * frozen past its session timeout, it woke up, its consumer rejoined and was given input
 * partitions 0–2 again, and only then did the checkpoint's commits fail as fenced. Recording
 * those failures made the member drop the partitions the group had just given it, and nobody
 * read them until the run stopped.
 */
import { describe, expect, it } from 'vitest';
import { TaskLosses } from '../../src/hot/task-losses.js';
import { taskId, type Task } from '../../src/state/changelog.js';

const input = (partition: number): Task => ({ kind: 'input', topic: 'orders', partition });
const merge = (partition: number): Task => ({ kind: 'merge', metric: 'top3', partition });

describe('task losses', () => {
  it('ignore a failed checkpoint of an assignment already replaced, for that kind only', () => {
    const l = new TaskLosses();
    l.assigned('input');
    l.assigned('merge');
    const at = l.snapshot(); // the checkpoint drains
    l.assigned('input'); // the woken member's consumer rejoins: input 0-2 are its again
    expect(l.failed(at, input(0), true)).toBe(false);
    expect(l.failed(at, input(1), false)).toBe(false);
    expect(l.failed(at, merge(0), true)).toBe(true); // the merge group has not reassigned: lost
    expect(l.isLost(input(0))).toBe(false);
    expect(l.needsNewProducer(taskId(input(1)))).toBe(false);
    expect(l.isLost(merge(0))).toBe(true);
    expect(l.isLost(merge(1))).toBe(false);
  });

  it('record failures of the current generation until the next assignment of their kind', () => {
    const l = new TaskLosses();
    l.assigned('input');
    const at = l.snapshot();
    expect(l.failed(at, input(2), true)).toBe(true);
    expect(l.failed(at, input(3), false)).toBe(true);
    expect(l.isLost(input(2))).toBe(true);
    expect(l.isLost(input(3))).toBe(false);
    expect(l.needsNewProducer(taskId(input(3)))).toBe(true);
    l.producerReplaced(taskId(input(3)));
    expect(l.needsNewProducer(taskId(input(3)))).toBe(false);
    l.assigned('merge');
    expect(l.isLost(input(2))).toBe(true); // another kind's assignment changes nothing
    l.assigned('input');
    expect(l.isLost(input(2))).toBe(false);
  });
});
