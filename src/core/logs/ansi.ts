// Terminal escape sequences in log text. Only SGR (colour and weight) survives, as data; every
// other control sequence - cursor movement, OSC 8 hyperlinks, titles - is removed, keeping the
// text it wrapped. Nothing here produces markup: the webview builds DOM nodes from the segments.

export interface AnsiStyle {
  /** 0-15 palette index or a CSS rgb() colour. */
  fg?: number | string;
  bg?: number | string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, the 8-bit
// CSI, and the C0 controls that are not tab.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|[\x00-\x08\x0b-\x1f\x7f]/g;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f\x9b]/;

/** Any control character but tab (a regular expression test: a loop over the characters cost 0.6 µs a line). */
export function hasEscapes(text: string): boolean {
  return CONTROL.test(text);
}

export function stripAnsi(text: string): string {
  return hasEscapes(text) ? text.replace(ESCAPES, '') : text;
}

export function parseAnsi(text: string): AnsiSegment[] {
  if (!hasEscapes(text)) return [{ text, style: {} }];
  const segments: AnsiSegment[] = [];
  let style: AnsiStyle = {};
  let last = 0;
  ESCAPES.lastIndex = 0;
  for (let m = ESCAPES.exec(text); m; m = ESCAPES.exec(text)) {
    if (m.index > last) segments.push({ text: text.slice(last, m.index), style });
    last = m.index + m[0].length;
    const seq = m[0];
    const sgr = /^(?:\x1b\[|\x9b)([0-9;:]*)m$/.exec(seq); // eslint-disable-line no-control-regex
    if (sgr) style = applySgr(style, sgr[1]);
  }
  if (last < text.length) segments.push({ text: text.slice(last), style });
  return segments.filter((s) => s.text.length > 0);
}

function applySgr(current: AnsiStyle, params: string): AnsiStyle {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  let style = { ...current };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) style = {};
    else if (c === 1) style.bold = true;
    else if (c === 2) style.dim = true;
    else if (c === 3) style.italic = true;
    else if (c === 4) style.underline = true;
    else if (c === 7) style.inverse = true;
    else if (c === 22) {
      style.bold = false;
      style.dim = false;
    } else if (c === 23) style.italic = false;
    else if (c === 24) style.underline = false;
    else if (c === 27) style.inverse = false;
    else if (c >= 30 && c <= 37) style.fg = c - 30;
    else if (c >= 90 && c <= 97) style.fg = c - 90 + 8;
    else if (c === 39) delete style.fg;
    else if (c >= 40 && c <= 47) style.bg = c - 40;
    else if (c >= 100 && c <= 107) style.bg = c - 100 + 8;
    else if (c === 49) delete style.bg;
    else if (c === 38 || c === 48) {
      const key = c === 38 ? 'fg' : 'bg';
      if (codes[i + 1] === 5 && i + 2 < codes.length) {
        style[key] = xterm256(codes[i + 2]);
        i += 2;
      } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        style[key] = rgb(codes[i + 2], codes[i + 3], codes[i + 4]);
        i += 4;
      }
    }
  }
  return style;
}

function clampByte(n: number): number {
  return Math.max(0, Math.min(255, Math.round(n) || 0));
}

function rgb(r: number, g: number, b: number): string {
  return `rgb(${clampByte(r)}, ${clampByte(g)}, ${clampByte(b)})`;
}

function xterm256(n: number): number | string {
  if (!(n >= 0 && n <= 255)) return 7;
  if (n < 16) return n;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return rgb(v, v, v);
  }
  const i = n - 16;
  const level = (x: number) => (x === 0 ? 0 : 55 + x * 40);
  return rgb(level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6));
}
