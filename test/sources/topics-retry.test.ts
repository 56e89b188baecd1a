/** retryRetriable: retriable Kafka errors (kafkajs' `retriable: true`) are tried again, others are not. */
import { describe, expect, it } from 'vitest';
import { retryRetriable } from '../../src/sources/topics.js';

const kafkaError = (message: string, retriable: boolean): Error => Object.assign(new Error(message), { name: 'KafkaJSProtocolError', retriable });

describe('retryRetriable', () => {
  it('tries again while the error is retriable (a topic not yet in every broker\'s metadata), then returns', async () => {
    let calls = 0;
    const value = await retryRetriable(async () => {
      calls++;
      if (calls < 3) throw kafkaError('This server does not host this topic-partition', true);
      return 'ready';
    });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    await expect(retryRetriable(async () => { calls++; throw kafkaError('Topic authorization failed', false); })).rejects.toThrow('Topic authorization failed');
    await expect(retryRetriable(async () => { calls++; throw new Error('plain'); })).rejects.toThrow('plain');
    expect(calls).toBe(2);
  });

  it('reads the flag through a wrapping cause', async () => {
    let calls = 0;
    const value = await retryRetriable(async () => {
      calls++;
      if (calls === 1) throw new Error('wrapped', { cause: kafkaError('Leader not available', true) });
      return calls;
    });
    expect(value).toBe(2);
  });
});
