/** Where raw records come from: NDJSON and Parquet files, Kafka topics, seeded generators. */
export { readNdjson, readParquet, readInput, DEFAULT_BATCH } from './file-source.js';
export { KafkaSource, type KafkaSourceOptions, type BatchHandler, type AssignmentHandler } from './kafka-source.js';
export { generate, SCENARIOS, SCENARIO_STREAM, type Scenario, type GeneratorOptions, type GeneratedRecord } from './generator.js';
export { LiveGenerator, type Arrival } from './live-generator.js';
export { catalogTopics, ensureTopics, type TopicSpec } from './topics.js';
