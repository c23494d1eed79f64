/**
 * The runtime over Redis with callers and workers logging through a team server
 * (`omega-track worker --store http://…`, issue 22): the whole Redis runtime suite passes.
 */
import { redisRuntimeTests } from '../runtime/redisRuntimeTests';

redisRuntimeTests('server');
