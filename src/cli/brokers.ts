/** Options shared by the commands that talk to a broker. */
import { ExecutionError } from '../errors.js';

/** The `host:port` entries of a comma-separated broker list. */
export function splitBrokers(list: string): string[] {
  return list.split(',').map((b) => b.trim()).filter(Boolean);
}

/** Brokers from --brokers or PITWALL_BROKERS, with a clear error when neither is set. */
export function brokersFrom(flag: string | undefined): string[] {
  const value = flag ?? process.env.PITWALL_BROKERS;
  if (!value) throw new ExecutionError('PW_NO_BROKERS', 'no Kafka brokers: pass --brokers host:port[,host:port] or set PITWALL_BROKERS');
  return splitBrokers(value);
}
