// The supervisor: a POSIX sh script that becomes the dev container's command. It runs the real
// command in its own process group (so `sh -c "npm start"` and its children die together),
// records PIDs, restarts the command on SIGUSR1 (sent by restartCommand), restarts it with a short
// growing back-off when it exits, and prints one "[truva] ..." line per start and exit so the
// log panel shows what happened. The real argv follows the script as "$@", so nothing is re-quoted.
//
// A command that runs a script with node gets its next process started ahead: Node's own start
// (about 50 ms of CPU before it reads the first line of the app) happens while the app runs, and
// the process then stops itself (standby.js) until a restart continues it in place of the app,
// which Node then loads from the files as they are at that moment. On a save that is most of the
// time from the synced files to the new code answering. The price is one stopped Node process
// (about 40 MB) per container.

/** Where the supervisor keeps its PID files inside the container. */
export const DEFAULT_STATE_DIR = '/tmp/truva';

/** $0 of the supervisor shell; shows in `ps` and error messages. */
export const SUPERVISOR_NAME = 'truva-supervisor';

export interface SupervisorOptions {
  /** Folder for app.pid and supervisor.pid. Default /tmp/truva. */
  stateDir?: string;
  /** First restart delay after an exit, seconds (doubles up to maxBackoffSeconds, resets after a 10 s run). */
  backoffSeconds?: number;
  maxBackoffSeconds?: number;
  /** How long a restart waits for the old process group to exit before SIGKILL, in tenths of a second. */
  stopGraceTenths?: number;
  /** Start Node with its inspector on 127.0.0.1:PORT (truva.yaml `debug` with runtime node). */
  inspectPort?: number;
  /** Start the next process ahead (see the top of this file); set by supervisorCommand from the argv. */
  startAhead?: boolean;
}

/** The Node flag that opens the inspector; on 127.0.0.1 only, reached through the port-forward. */
export function inspectFlag(port: number): string {
  return `--inspect=127.0.0.1:${port}`;
}

/** True when argv starts Node directly, so the inspector flag can go on its command line. */
function startsNode(argv: string[]): boolean {
  return /^(node|nodejs)$/.test(argv[0]?.split('/').pop() ?? '');
}

/** Launchers that are Node programs themselves: with NODE_OPTIONS they would take the inspector port. */
const NODE_LAUNCHERS = new Set(['npm', 'npx', 'yarn', 'pnpm', 'nodemon', 'ts-node', 'tsx']);

/**
 * Why Node's inspector would not reach the app under this command, or undefined. Through
 * NODE_OPTIONS every Node process of the command tries the port and the first one (npm, a
 * watcher) wins, leaving the app without it.
 */
export function inspectorProblem(argv: string[], port: number): string | undefined {
  if (startsNode(argv)) return undefined;
  const first = (argv[0] === 'sh' && argv[1] === '-c' ? (argv[2] ?? '').trim().split(/\s+/)[0] : argv[0]) ?? '';
  const name = first.split('/').pop() ?? '';
  if (!NODE_LAUNCHERS.has(name)) return undefined;
  return `The command starts with ${name}, a Node program itself: with the inspector in NODE_OPTIONS, ${name} would take port ${port} and your app would not get it. Set \`run\` to start the app with node directly, for example \`run: [node, server.js]\` (Truva then adds the inspector flag to that node).`;
}

/**
 * Node options after which the process does not simply run a script file, takes a port a
 * process started ahead would find in use while the app runs (the inspector), or reads files of
 * yours while Node starts, which would then be read before the sync (an env file, a loader).
 */
const NOT_AHEAD =
  /^(-[epic]|-|--(eval|print|interactive|check|test|watch|watch-path|inspect|inspect-brk|inspect-wait|debug|debug-brk|prof-process|v8-options|version|help|env-file|env-file-if-exists|loader|experimental-loader))(=|$)/;

/** True when argv runs a script with node, so its next process can be started ahead. */
export function canStartAhead(argv: string[]): boolean {
  if (!startsNode(argv)) return false;
  // Node's options come before the script; what follows it is the app's.
  const script = argv.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  return script > 0 && !argv.slice(1, script).some((a) => NOT_AHEAD.test(a));
}

/**
 * Loaded with --require by a process started ahead: it stops itself once Node is up, before the
 * app is loaded. Processes the app starts with process.execArgv (fork, cluster) must not stop
 * too, and worker threads run --require modules as well, so only the main thread stops.
 */
const STANDBY_JS = `if (require('worker_threads').isMainThread) {
  process.kill(process.pid, 'SIGSTOP');
  const i = process.execArgv.findIndex((a, j) => process.execArgv[j - 1] === '--require' && require('path').resolve(a) === __filename);
  if (i > 0) process.execArgv.splice(i - 1, 2);
}
`;

/** Single-quotes a string for sh: safe for any content. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The supervisor script (the argument after `sh -c`). */
export function supervisorScript(opts: SupervisorOptions = {}): string {
  const dir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const backoff = opts.backoffSeconds ?? 1;
  const maxBackoff = opts.maxBackoffSeconds ?? 8;
  const grace = opts.stopGraceTenths ?? 50;
  // Commands that do not start node directly get the inspector through NODE_OPTIONS.
  const inspect =
    opts.inspectPort === undefined
      ? ''
      : `export NODE_OPTIONS="\${NODE_OPTIONS:+$NODE_OPTIONS }${inspectFlag(opts.inspectPort)}"
echo "[truva] debugger: NODE_OPTIONS=$NODE_OPTIONS"
`;
  // Ahead: NODE_OPTIONS preloads would run before standby.js, so with old files; the inspector's port is the app's.
  const ahead = opts.startAhead
    ? `ahead=1
case " \${NODE_OPTIONS-} " in *" -r"*|*--require*|*--import*|*--loader*|*--inspect*) ahead=0 ;; esac
[ -r /proc/$$/stat ] && printf '%s' ${shQuote(STANDBY_JS)} > "$dir/standby.js" || ahead=0
`
    : 'ahead=0\n';
  return `dir=${shQuote(dir)}
mkdir -p "$dir" || exit 1
echo $$ > "$dir/supervisor.pid"
if [ $# -eq 0 ]; then echo "[truva] no command to run" >&2; exit 2; fi
${inspect}${ahead}child=0; standby=0; restart=0; stopping=0; delay=${backoff}
stop_child() { [ "$child" -gt 0 ] && { kill -"$1" -"$child" 2>/dev/null || kill -"$1" "$child" 2>/dev/null; }; }
trap 'restart=1; stop_child TERM' USR1
trap 'stopping=1; stop_child TERM' TERM INT HUP
# setsid puts the app in its own process group, so a restart also ends what it started.
sess=; command -v setsid >/dev/null 2>&1 && sess=setsid
launch() { $sess "$@" & }
# The next process, started ahead once the app has had a moment to start: node --require standby.js ...
start_ahead() { [ "$ahead" -eq 1 ] || return 0; n=$1; shift; ( sleep 0.25 2>/dev/null || sleep 1; exec $sess "$n" --require "$dir/standby.js" "$@" ) & standby=$!; }
# Ready when it has stopped itself (state T in /proc): Node is up and the app not loaded yet.
ahead_ready() { st=; [ "$standby" -gt 0 ] && { read -r st < "/proc/$standby/stat"; } 2>/dev/null; case $st in *") T "*) return 0 ;; esac; return 1; }
drop_ahead() { [ "$standby" -gt 0 ] && kill -KILL "$standby" 2>/dev/null; standby=0; }
while [ "$stopping" -eq 0 ]; do
  restart=0
  if ahead_ready; then child=$standby; standby=0; kill -CONT "$child"; else drop_ahead; launch "$@"; child=$!; fi
  echo "$child" > "$dir/app.pid"
  started=$(date +%s 2>/dev/null || echo 0)
  echo "[truva] started pid $child: $*"
  start_ahead "$@"
  wait "$child"; code=$?
  # wait returns early when a trapped signal arrives; the app may still be stopping.
  if kill -0 "$child" 2>/dev/null; then
    ( n=0; while [ "$n" -lt ${grace} ]; do sleep 0.1 2>/dev/null || sleep 1; n=$((n + 1)); kill -0 "$child" 2>/dev/null || exit 0; done
      kill -KILL -"$child" 2>/dev/null || kill -KILL "$child" 2>/dev/null ) &
    killer=$!
    while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
    kill "$killer" 2>/dev/null
  fi
  # A signalled process group may leave grandchildren behind; end them too.
  kill -KILL -"$child" 2>/dev/null
  child=0
  : > "$dir/app.pid"
  if [ "$stopping" -ne 0 ]; then drop_ahead; echo "[truva] stopped (exit code $code)"; exit 0; fi
  if [ "$restart" -ne 0 ]; then echo "[truva] exited with code $code; restarting on request"; delay=${backoff}; continue; fi
  now=$(date +%s 2>/dev/null || echo 0)
  if [ $((now - started)) -ge 10 ]; then delay=${backoff}; fi
  echo "[truva] exited with code $code; restarting in \${delay}s"
  sleep "$delay" & sleeper=$!
  wait "$sleeper" 2>/dev/null
  kill "$sleeper" 2>/dev/null
  if [ "$restart" -eq 0 ]; then delay=$((delay * 2)); [ "$delay" -gt ${maxBackoff} ] && delay=${maxBackoff}; else delay=${backoff}; fi
done
`;
}

/**
 * The container command that runs argv under the supervisor: ["sh", "-c", script, "truva-supervisor", ...argv].
 * With inspectPort, a command that starts node gets the inspector flag right after `node` (only
 * the app opens the port, not the processes it starts); any other command gets it in NODE_OPTIONS.
 */
export function supervisorCommand(argv: string[], opts: SupervisorOptions = {}): string[] {
  if (argv.length === 0) throw new Error('The supervisor needs a command to run; none was given.');
  if (opts.inspectPort !== undefined && startsNode(argv)) {
    const { inspectPort, ...rest } = opts;
    return ['sh', '-c', supervisorScript(rest), SUPERVISOR_NAME, argv[0], inspectFlag(inspectPort), ...argv.slice(1)];
  }
  // (An inspector here goes in NODE_OPTIONS of a command that is not node: never started ahead.)
  return ['sh', '-c', supervisorScript({ ...opts, startAhead: canStartAhead(argv) }), SUPERVISOR_NAME, ...argv];
}

/** Turns the configured `run` into argv: a string runs through `sh -c`, an array is argv as is. */
export function runToArgv(run: string | string[]): string[] {
  return typeof run === 'string' ? ['sh', '-c', run] : [...run];
}

/** True when a container command is a Truva supervisor. */
export function isSupervisorCommand(command: string[] | undefined): boolean {
  return (
    !!command && command.length >= 4 && command[0] === 'sh' && command[1] === '-c' && command[3] === SUPERVISOR_NAME
  );
}

/** The real argv a supervisor command runs. */
export function supervisedArgv(command: string[]): string[] {
  return isSupervisorCommand(command) ? command.slice(4) : command;
}

/**
 * The exec command that asks the supervisor to restart the app. It returns once the new process
 * has written its PID (at most waitTenths tenths of a second) and prints that PID; exit code 3
 * means no supervisor is running in the container. It runs after every synced batch, so it
 * reads the PID files with the `read` builtin (no process per read) and looks for the new PID
 * every 5 ms: the supervisor starts the new process within a few ms of the old one's exit, and a
 * restart request should cost one exec, not a poll interval on top (20 ms cost 10 ms a save on average).
 */
export function restartCommand(opts: { stateDir?: string; waitTenths?: number } = {}): string[] {
  const dir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const wait = opts.waitTenths ?? 100;
  const script = `dir=${shQuote(dir)}
sup=; { read -r sup < "$dir/supervisor.pid"; } 2>/dev/null
[ -n "$sup" ] && kill -0 "$sup" 2>/dev/null || { echo "no Truva supervisor is running in this container" >&2; exit 3; }
old=; { read -r old < "$dir/app.pid"; } 2>/dev/null
kill -USR1 "$sup" || exit 3
n=0
while [ "$n" -lt ${wait * 20} ]; do
  cur=; { read -r cur < "$dir/app.pid"; } 2>/dev/null
  if [ -n "$cur" ] && [ "$cur" != "$old" ]; then echo "$cur"; exit 0; fi
  sleep 0.005 2>/dev/null || { sleep 1; n=$((n + 199)); }
  n=$((n + 1))
done
echo "the app did not start again within ${wait / 10}s" >&2
exit 4
`;
  return ['sh', '-c', script];
}

/** The exec command that prints the app's PID (empty output when it is between restarts). */
export function readPidCommand(opts: { stateDir?: string } = {}): string[] {
  const dir = opts.stateDir ?? DEFAULT_STATE_DIR;
  return ['sh', '-c', `cat ${shQuote(`${dir}/app.pid`)} 2>/dev/null || true`];
}

/** Parses the PID printed by restartCommand/readPidCommand. */
export function parsePid(output: string | Buffer): number | undefined {
  const n = Number.parseInt(output.toString().trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
