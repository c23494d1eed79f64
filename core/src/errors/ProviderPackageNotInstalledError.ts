import { TrackingError } from './TrackingError';

/** An optional package (mongodb, bullmq, tfjs, …) that a chosen feature needs is not installed. */
export class ProviderPackageNotInstalledError extends TrackingError {
  static override readonly errorName: string = 'ProviderPackageNotInstalledError';

  constructor(
    readonly feature: string,
    readonly packageName: string,
  ) {
    super(
      `${feature} needs the package '${packageName}', which is not installed. Run: npm install ${packageName}`,
    );
  }
}
