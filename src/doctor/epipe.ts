// `vopono doctor | head`: a reader that goes away early is not an error. Ends the process quietly
// on EPIPE instead of crashing with an unhandled 'error' event.
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
