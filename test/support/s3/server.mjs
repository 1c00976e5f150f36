// A loopback S3-compatible server for the storage tests: s3rver on
// 127.0.0.1, a fresh data directory per run, one bucket made before it
// listens. Prints "ready <port>" on stdout once listening (and nothing else
// there); exits 0 on SIGTERM or SIGINT, deleting its data.
//
//   node server.mjs [--port N] [--bucket NAME]     (defaults: 0 = any free port, huntaze-test)
//
// Credentials: s3rver's built-in account, access key S3RVER, secret S3RVER.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import S3rver from 's3rver';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    bucket: { type: 'string', default: 'huntaze-test' },
  },
});

const directory = mkdtempSync(join(tmpdir(), 'huntaze-s3rver-'));
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(values.port),
  silent: true,
  directory,
  resetOnClose: true,
  // Refuse requests whose signature does not match. s3rver 3.7.1 really
  // checks only V2 signatures; V4 ones (all Huntaze sends) are accepted
  // once the access key is known (see README.md).
  allowMismatchedSignatures: false,
  // Path-style only: 127.0.0.1 has no bucket subdomains.
  vhostBuckets: false,
  configureBuckets: [{ name: values.bucket }],
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const { port } = await server.run();
process.stdout.write(`ready ${port}\n`);
