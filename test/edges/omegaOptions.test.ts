/**
 * Options of omega() that the types would have caught, from JavaScript (and pages, where the
 * bundle is plain JavaScript): each a TrackingInputError naming the option, at the call — not a
 * TypeError later, and not a token fetch cannot send taken for a server that does not answer.
 */
import { TrackingInputError, omega } from 'omega-track';

test.each([
  ['store: 42', { store: 42 }, /store must be a store URL/],
  ['store: null', { store: null }, /store must be a store URL/],
  ['a token with a space', { store: 'http://127.0.0.1:1', token: 'omt_a b' }, /token must be/],
  ['a token beyond ASCII', { store: 'http://127.0.0.1:1', token: 'omt_✓' }, /token must be/],
  ['a token that is no string', { store: 'http://127.0.0.1:1', token: 5 }, /token must be/],
  ['onError: 5', { store: 'memory:', onError: 5 }, /onError must be a function/],
])('%s is a TrackingInputError', (_label, opts, message) => {
  let error: unknown;
  try {
    omega(opts as never);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TrackingInputError);
  expect((error as Error).message).toMatch(message);
});

test('good options still open a store', async () => {
  const om = omega({ store: 'memory:', token: 'omt_abc-DEF_123', onError: () => undefined });
  await om.runtime.experiment('x').run((e) => e.logMetric('m', 1));
  expect(await om.runtime.experiment('x').data({ event: 'metric' })).toHaveLength(1);
  await om.close();
});
