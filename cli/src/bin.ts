import { runCli } from './commands/cli';

/** Writes to a stream; the promise waits for 'drain' when the stream's buffer is full (backpressure). */
function writeTo(stream: NodeJS.WriteStream): (text: string) => Promise<void> | undefined {
  return (text) =>
    stream.write(text) ? undefined : new Promise<void>((resolve) => stream.once('drain', resolve));
}

// a reader that stops early (`omega-track data x --format csv | head`) is not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

runCli(process.argv.slice(2), {
  stdout: writeTo(process.stdout),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stderrIsTTY: process.stderr.isTTY === true,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli reports its own failures; this is a failure of the reporting itself
    const debug = process.env.OMEGA_DEBUG === '1' || process.env.OMEGA_DEBUG === 'true';
    process.stderr.write(
      `omega-track: error: ${error instanceof Error ? (debug && error.stack) || error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
