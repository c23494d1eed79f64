/** TEMP */
export function machineFacts(): Promise<Record<string, unknown>> {
  return Promise.resolve({});
}
