#!/usr/bin/env node
// Wait until a Kafka broker really serves requests: connect a kafkajs admin, list topics and
// describe the cluster, retrying until a deadline. Used by scripts/kafka.sh start.
//
//   node scripts/kafka/wait-broker.mjs HOST:PORT [--timeout SECONDS] [--pid PID]
//
// --pid: give up early (exit 2) when that process (the broker) has died.
// Exit codes: 0 ready, 1 timed out / usage error, 2 broker process gone.
// Progress and errors go to stderr; nothing is printed on stdout.

const args = process.argv.slice(2);
let address = '';
let timeoutS = 60;
let pid = 0;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--timeout') timeoutS = Number(args[++i]);
  else if (a === '--pid') pid = Number(args[++i]);
  else if (!address) address = a;
  else {
    console.error(`wait-broker: unexpected argument ${a}`);
    process.exit(1);
  }
}
if (!/^[^:]+:\d+$/.test(address) || !(timeoutS > 0)) {
  console.error('usage: node scripts/kafka/wait-broker.mjs HOST:PORT [--timeout SECONDS] [--pid PID]');
  process.exit(1);
}

let kafkajs;
try {
  kafkajs = (await import('kafkajs')).default;
} catch (err) {
  console.error(`wait-broker: cannot load kafkajs (${err.message}); run npm install in the repo root`);
  process.exit(1);
}
const { Kafka, logLevel } = kafkajs;

const alive = () => {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Looking up a group coordinator makes the broker create __consumer_offsets now, so the first
// consumer in a test does not hit "The group coordinator is not available" retries. Best effort.
const warmGroupCoordinator = async () => {
  const admin = new Kafka({
    clientId: 'pitwall-kafka-wait',
    brokers: [address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 500 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeGroups(['pitwall-kafka-wait']);
  } catch (err) {
    console.error(`wait-broker: warning: group coordinator not ready yet (${err && err.message})`);
  }
  try {
    await admin.disconnect();
  } catch {
    // ignore
  }
};

const deadline = Date.now() + timeoutS * 1000;
let attempt = 0;
let lastError = 'no attempt made';
while (Date.now() < deadline) {
  if (!alive()) {
    console.error(`wait-broker: broker process ${pid} exited`);
    process.exit(2);
  }
  attempt++;
  const admin = new Kafka({
    clientId: 'pitwall-kafka-wait',
    brokers: [address],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller !== -1) {
      await admin.disconnect();
      await warmGroupCoordinator();
      console.error(`wait-broker: ${address} ready after ${attempt} attempt(s)`);
      process.exit(0);
    }
    lastError = 'cluster has no broker/controller yet';
  } catch (err) {
    lastError = err && err.message ? err.message : String(err);
  }
  try {
    await admin.disconnect();
  } catch {
    // ignore
  }
  await sleep(250);
}
console.error(`wait-broker: ${address} not ready after ${timeoutS}s (${attempt} attempts; last error: ${lastError})`);
process.exit(1);
