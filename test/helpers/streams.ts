// A Writable that keeps what it is given as text, for the output of exec, logs and port-forward.
import { Writable } from 'node:stream';

export function collect(): Writable & { text(): string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return Object.assign(w, { text: () => text });
}
