// A pseudo-terminal for an exec with tty=true, as a container runtime gives one: the command runs
// as a session leader with the terminal's slave side as its stdin, stdout and stderr (so stderr
// comes out merged with stdout, as with a real TTY exec), and the size the client sends on the
// resize channel is applied to the terminal (TIOCSWINSZ, which also sends SIGWINCH).
// Node has no pty without native code, so a small Python program does it: its stdin and stdout
// carry the terminal's bytes, and file descriptor 3 takes one "COLUMNS ROWS" line per resize. Run
// through nsenter into the container, it opens the terminal from the container's own /dev/pts,
// as runc does, so `tty` inside names /dev/pts/N. Its exit status is the command's (128+n for
// signal n). Tests reuse it on the host to give kubectl a terminal.

export const PTY_PYTHON = '/usr/bin/python3';

const PTY_SCRIPT = String.raw`
import errno, fcntl, os, select, signal, struct, sys, termios

def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

cols, rows = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[3:]
try:
    master, slave = os.openpty()
except OSError as e:
    sys.stderr.write('cannot allocate a terminal: %s\n' % e)
    sys.exit(126)
set_size(master, cols, rows)
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    try:
        os.close(3)
    except OSError:
        pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, ('%s: %s\n' % (argv[0], e.strerror)).encode())
        os._exit(127 if e.errno == errno.ENOENT else 126)
os.close(slave)
inputs = [0, master]
try:
    os.fstat(3)
    inputs.append(3)
except OSError:
    pass
control = b''
status = None

def drain():
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            return
        if not data:
            return
        os.write(1, data)

while True:
    if status is None:
        done, status_word = os.waitpid(pid, os.WNOHANG)
        if done:
            status = status_word
    if status is not None:
        # The command ended: pass on what is still in the terminal, without waiting on
        # background children that keep its slave side open.
        fcntl.fcntl(master, fcntl.F_SETFL, os.O_NONBLOCK)
        drain()
        break
    ready, _, _ = select.select(inputs, [], [], 0.05)
    for fd in ready:
        if fd == master:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b''
            if data:
                os.write(1, data)
            else:
                inputs.remove(master)
        elif fd == 0:
            data = os.read(0, 65536)
            if data:
                view = memoryview(data)
                while view:
                    view = view[os.write(master, view):]
            else:
                inputs.remove(0)
        else:
            data = os.read(3, 4096)
            if not data:
                inputs.remove(3)
                continue
            control += data
            while b'\n' in control:
                line, control = control.split(b'\n', 1)
                parts = line.split()
                if len(parts) == 2:
                    set_size(master, int(parts[0]), int(parts[1]))
sys.exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
`;

/** argv that runs `command` on a new terminal of `cols` x `rows` (resize lines go to file descriptor 3). */
export function ptyArgv(command: string[], cols = 80, rows = 24): string[] {
  return [PTY_PYTHON, '-c', PTY_SCRIPT, String(cols), String(rows), ...command];
}

/** The line that resizes the terminal, for the helper's file descriptor 3. */
export function resizeLine(cols: number, rows: number): string {
  const clamp = (n: number) => Math.max(1, Math.min(0xffff, Math.floor(n) || 1));
  return `${clamp(cols)} ${clamp(rows)}\n`;
}
