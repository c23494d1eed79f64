/**
 * Base class of every error omega-track throws on purpose. Catch this to tell a tracking
 * configuration or input problem apart from errors of the user's own code.
 */
export class TrackingError extends Error {
  /**
   * The class's name as `error.name` shows it, kept as text: a minified build (the browser
   * client) renames classes. A subclass that does not give its own is named by its class.
   */
  static readonly errorName: string = 'TrackingError';

  constructor(message: string) {
    super(message);
    this.name = Object.hasOwn(new.target, 'errorName') ? new.target.errorName : new.target.name;
  }
}
