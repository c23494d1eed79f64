/** The runtime over Redis, callers and workers on one SQLite store (see redisRuntimeTests.ts). */
import { redisRuntimeTests } from './redisRuntimeTests';

redisRuntimeTests('embedded');
