// Images are folders sandbox/images/NAME: their files (minus image.json) are the content
// copied into the container's workingDir; image.json holds the image's config.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';

export interface ImageConfig {
  /** ENTRYPOINT; `command` in the pod spec replaces it. */
  entrypoint?: string[];
  /** CMD; `args` in the pod spec replaces it. */
  cmd?: string[];
  workingDir?: string;
  env?: Record<string, string>;
  /** false: the image has no tar binary (like a distroless image). */
  tar?: boolean;
  /**
   * Host programs this image replaces: container path -> a file in the image folder that runs
   * instead ("" hides the program). For images whose tools behave differently (busybox).
   */
  tools?: Record<string, string>;
  /** USER: a name (looked up in the container's /etc/passwd when it is created) or a uid, either with :group. */
  user?: string;
  /** Another image folder whose files come first (so variants need not copy them). */
  base?: string;
}

export interface Image {
  name: string;
  dirs: string[];
  config: ImageConfig;
  id: string;
}

/** `web`, `web:1`, `registry:5000/team/web:1` and `web@sha256:..` all name the folder `web`. */
export function imageFolderName(image: string): string {
  const noDigest = image.split('@')[0];
  const last = noDigest.split('/').pop() ?? '';
  return last.split(':')[0];
}

export class ImageStore {
  private readonly cache = new Map<string, Image>();
  constructor(private readonly imagesDir: string) {}

  /** Throws an Error with a message for the pod status when the image does not exist. */
  resolve(image: string): Image {
    const name = imageFolderName(image);
    const cached = this.cache.get(name);
    if (cached) return cached;
    const chain: { dir: string; config: ImageConfig }[] = [];
    let current: string | undefined = name;
    while (current) {
      const dir = join(this.imagesDir, current);
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(current) || !existsSync(dir) || !statSync(dir).isDirectory()) {
        throw new Error(`image "${image}" not found: there is no folder ${dir}`);
      }
      const configPath = join(dir, 'image.json');
      const config: ImageConfig = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
      chain.unshift({ dir, config });
      current = config.base;
      if (chain.length > 5) throw new Error(`image "${image}": image.json "base" chain is too long or circular`);
    }
    const config = Object.assign({}, ...chain.map((c) => c.config)) as ImageConfig;
    const img: Image = {
      name,
      dirs: chain.map((c) => c.dir),
      config,
      id: `sandbox.local/${name}@sha256:${digest(chain.map((c) => c.dir))}`,
    };
    this.cache.set(name, img);
    return img;
  }
}

function digest(dirs: string[]): string {
  const hash = createHash('sha256');
  const walk = (dir: string, rel: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, `${rel}${entry.name}/`);
      else if (entry.isFile()) hash.update(`${rel}${entry.name}\0`).update(readFileSync(path));
    }
  };
  dirs.forEach((d) => walk(d, ''));
  return hash.digest('hex');
}

/** Copies the image's files into a fresh writable directory (the container's workingDir). */
export async function copyImageFiles(img: Image, target: string): Promise<void> {
  for (const dir of img.dirs) {
    await cp(dir, target, { recursive: true, dereference: true, filter: (src) => src !== join(dir, 'image.json') });
  }
}

/** The image's `tools` as [hostFile, containerPath] mounts (a later image in the chain wins). */
export function imageTools(img: Image): [string, string][] {
  return Object.entries(img.config.tools ?? {}).map(([path, file]) => {
    if (file === '') return ['/dev/null', path];
    const dir = [...img.dirs].reverse().find((d) => existsSync(join(d, file)));
    if (!dir) throw new Error(`image "${img.name}": tool file ${file} (for ${path}) is not in the image folder`);
    return [join(dir, file), path];
  });
}
