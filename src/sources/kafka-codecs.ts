/**
 * Compression codecs kafkajs lacks out of the box. Redpanda Connect and many producers
 * compress with snappy by default; without the codec kafkajs cannot read those batches, so it
 * is registered before any consumer starts (importing this module is enough).
 */
import kafkajs from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';

// kafkajs is CommonJS: its codec registry is reached through the default export.
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy] = SnappyCodec;
