import assert from 'node:assert/strict';
import { detectLevel, type Level } from '../../../src/core/logs/levels';

// Lines in the shapes real programs write them.
const table: Array<[string, Level, string]> = [
  ['{"level":"error","msg":"db down"}', 'error', 'zap/logrus JSON'],
  ['{"severity":"WARNING","message":"slow"}', 'warn', 'GCP structured logging'],
  ['{"lvl":"dbug","msg":"x"}', 'other', 'unknown abbreviation'],
  ['{"level":30,"time":1,"msg":"listening"}', 'info', 'pino numeric'],
  ['{"level":50,"msg":"boom"}', 'error', 'pino numeric error'],
  ['{"level":60,"msg":"fatal"}', 'error', 'pino fatal'],
  ['{"level":20,"msg":"d"}', 'debug', 'pino debug'],
  ['{"@t":"2024-01-01","@l":"Warning","@m":"x"}', 'warn', 'Serilog compact'],
  ['{"log.level":"info","message":"ECS"}', 'info', 'Elastic Common Schema'],
  ['{"levelname":"ERROR","name":"app"}', 'error', 'python-json-logger'],
  ['{"status":500,"path":"/"}', 'other', 'JSON with no level field'],
  ['time="2024-01-01T00:00:00Z" level=warning msg="disk low"', 'warn', 'logrus text'],
  ['ts=2024-01-01T00:00:00Z lvl=info msg=started', 'info', 'go-kit logfmt'],
  ['at=error code=H12 desc="Request timeout"', 'error', 'Heroku router'],
  ['E1128 12:00:00.123456       1 reflector.go:138] failed to list', 'error', 'klog error'],
  ['W1128 12:00:00.123456       1 warnings.go:70] deprecated', 'warn', 'klog warning'],
  ['I1128 12:00:00.123456       1 main.go:10] starting', 'info', 'klog info'],
  ['2024/01/01 12:00:00 [error] 7#7: *1 open() failed', 'error', 'nginx error log'],
  ['[Mon Jan 01 12:00:00 2024] [core:warn] [pid 1] AH00111', 'warn', 'apache'],
  ['2024-01-01 12:00:00,123 ERROR [main] com.example.App - failed', 'error', 'log4j'],
  ['2024-01-01T12:00:00.000Z  WARN 1 --- [main] o.s.b.Startup : slow', 'warn', 'Spring Boot'],
  ['2024-01-01T12:00:00.000Z\tINFO\tserver/main.go:12\tlistening', 'info', 'zap console'],
  ['WARNING:root:low disk', 'warn', 'python logging default'],
  ['ERROR:  relation "users" does not exist', 'error', 'PostgreSQL'],
  ['FATAL:  password authentication failed', 'error', 'PostgreSQL fatal'],
  ['E, [2024-01-01T12:00:00.000000 #1] ERROR -- : boom', 'error', 'Ruby Logger'],
  ['D, [2024-01-01T12:00:00.000000 #1] DEBUG -- : x', 'debug', 'Ruby Logger debug'],
  ['npm WARN deprecated foo@1.0.0', 'warn', 'npm'],
  ['error: something failed', 'error', 'lower-case prefix'],
  ['Warning: Accessing non-existent property', 'warn', 'Node warning'],
  ['[INFO] Building project', 'info', 'Maven'],
  ['TRACE request id=1', 'debug', 'trace maps to debug'],
  ['panic: runtime error: index out of range', 'error', 'Go panic'],
  ['\x1b[31mERROR\x1b[0m colourised', 'error', 'ANSI-coloured marker'],
  ['no error found, all good', 'other', 'lower-case word inside a sentence'],
  ['heartbeat 12 from web-1', 'other', 'plain line'],
  ['', 'other', 'empty line'],
  ['{not json', 'other', 'broken JSON'],
];

describe('logs: detectLevel', () => {
  for (const [line, level, what] of table) {
    it(`${what}: ${JSON.stringify(line).slice(0, 60)} -> ${level}`, () => {
      assert.equal(detectLevel(line), level);
    });
  }
});
