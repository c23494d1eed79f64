/** A command line the CLI cannot take as given. */
import { TrackingInputError } from '@omega-track/core';

/**
 * A command line that asks for something the command cannot mean (an argument too many, an
 * option given twice or empty, a range that runs backwards): the CLI exits with 2, as for a
 * command line that does not parse, rather than with 1, as for a command that failed.
 */
export class UsageError extends TrackingInputError {
  /**
   * @param showHelp whether the command's help follows the message (as after a parse error:
   *   an option that lacks its value), rather than the message alone
   */
  constructor(
    message: string,
    readonly showHelp = false,
  ) {
    super(message);
  }
}
