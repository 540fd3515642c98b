// Sandbox image "web": a small HTTP app. Logs one line per request and a heartbeat every
// second; answers /healthz, and / with the version read from /app/version.txt (fresh per
// request, so synced code shows up at once).
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const port = Number(process.env.PORT || 8080);
const started = Date.now();

function version() {
  try {
    return fs.readFileSync(path.join(__dirname, 'version.txt'), 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

const server = http.createServer((req, res) => {
  console.log(`${req.method} ${req.url} from ${req.socket.remoteAddress}`);
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok\n');
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from ${os.hostname()} version ${version()}\n`);
});

server.listen(port, () => console.log(`web listening on :${port} version ${version()}`));
setInterval(() => console.log(`heartbeat uptime=${Math.round((Date.now() - started) / 1000)}s`), 1000);

// PID 1 ignores SIGTERM unless it handles it: exit promptly so pods stop without the grace period.
process.on('SIGTERM', () => {
  console.log('SIGTERM received, shutting down');
  server.close();
  process.exit(0);
});
