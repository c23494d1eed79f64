import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeFacts } from './systemProbes';

/** `name@version` of the packages the project in `dir` depends on, as installed. */
export function installedPackages(dir = process.cwd()): string[] {
  let manifest: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return [];
  }
  const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).sort();
  return names.map((name) => {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'));
      return `${name}@${String(pkg.version)}`;
    } catch {
      return `${name}@(not installed)`;
    }
  });
}

/**
 * The default value of a `system` event: platform, Node and V8 versions, installed packages, and
 * the registered probes' facts (`tfjs`: version, backend, memory, once tfjs is in use).
 */
export function systemInfo(): Record<string, unknown> {
  return {
    platform: {
      system: os.type(),
      node: os.hostname(),
      release: os.release(),
      machine: os.machine(),
      arch: os.arch(),
    },
    node: process.version,
    v8: process.versions.v8,
    packages: installedPackages(),
    ...probeFacts(),
  };
}
