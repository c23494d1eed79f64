/** TEMP */
export function installedPackages(): string[] {
  return [];
}
export function systemInfo(): Record<string, unknown> {
  return { platform: { system: 'browser' } };
}
