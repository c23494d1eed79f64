import { MlflowApiError, MlflowUnavailableError } from '@omega-track/providers';
import { MlflowClient } from '@omega-track/providers/internal';
import { NotMlflowServerError } from './NotMlflowServerError';

/** A run id no server holds (MLflow's ids are 32 hex digits of a random uuid). */
const NO_RUN = '0'.repeat(32);

/**
 * Checks that `uri` is an MLflow tracking server before anything is read or written: asked for a
 * run that cannot exist, MLflow answers 404 with its JSON error `RESOURCE_DOES_NOT_EXIST`; any
 * other web server answers an HTML 404, a page, or JSON of its own. Refused credentials stay
 * MLflow's own error (they say what to fix). One attempt, short timeout: nothing listening is
 * said at once, not after the retries a working server gets.
 */
export async function probeMlflow(uri: string, token: string | undefined): Promise<void> {
  const probe = new MlflowClient({ trackingUri: uri, token, maxRetries: 0, timeoutMs: 10_000 });
  try {
    await probe.getRun(NO_RUN);
  } catch (error) {
    if (error instanceof MlflowApiError) {
      if (error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return;
      if (error.status === 401 || error.status === 403) throw error;
      throw new NotMlflowServerError(
        probe.baseUrl,
        `${error.endpoint} answered HTTP ${error.status}${error.errorCode.startsWith('HTTP_') ? '' : ` ${error.errorCode}`} where MLflow answers 404 RESOURCE_DOES_NOT_EXIST`,
      );
    }
    if (error instanceof MlflowUnavailableError)
      throw new NotMlflowServerError(
        probe.baseUrl,
        `nothing answers there (${error.message.split('is not reachable: ')[1] ?? error.message})`,
      );
    if (error instanceof SyntaxError)
      throw new NotMlflowServerError(probe.baseUrl, 'its answer to runs/get is not JSON');
    throw error;
  }
  throw new NotMlflowServerError(probe.baseUrl, 'it answered runs/get for a run that cannot exist');
}
