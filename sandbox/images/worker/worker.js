// Sandbox image "worker": JSON log lines with a `level` field. The same image serves the
// `main` and `sidecar` containers: the role comes from ROLE, else the first argument.
const role = process.env.ROLE || process.argv[2] || 'main';
const intervalMs = Number(process.env.INTERVAL_MS || (role === 'sidecar' ? 700 : 400));
const levels = ['info', 'info', 'info', 'debug', 'warn', 'info', 'error', 'debug'];
let n = 0;

function log(level, msg, extra = {}) {
  console.log(JSON.stringify({ time: new Date().toISOString(), level, role, msg, ...extra }));
}

log('info', `${role} starting`);
setInterval(() => {
  n++;
  const level = levels[n % levels.length];
  const msg =
    role === 'sidecar'
      ? { info: 'shipped batch', debug: 'buffer state', warn: 'upstream slow', error: 'upload failed, will retry' }[level]
      : { info: 'processed job', debug: 'queue poll', warn: 'job took long', error: 'job failed' }[level];
  log(level, msg, { seq: n });
}, intervalMs);

process.on('SIGTERM', () => {
  log('info', `${role} stopping`);
  process.exit(0);
});
