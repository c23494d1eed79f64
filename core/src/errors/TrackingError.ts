/**
 * Base class of every error omega-track throws on purpose. Catch this to tell a tracking
 * configuration or input problem apart from errors of the user's own code.
 */
export class TrackingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
