/**
 * Timeout for tests that start processes (the pitwall CLI, Redpanda Connect). Sized for a loaded
 * 2-core machine where vitest runs other files in parallel: a start that takes 0.2 s idle can
 * take several seconds there, so these tests never depend on the speed of the machine.
 */
export const PROCESS_TEST_TIMEOUT_MS = 180_000;
