// Runs autocannon with the options given as JSON in argv[2] and prints its result as JSON: the
// serving benchmark starts it as a separate process at the lowest CPU priority (nice 19), so the
// load generator stands in for clients on other machines instead of taking the engine's core.
import autocannon from 'autocannon';

const result = await autocannon(JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify(result));
