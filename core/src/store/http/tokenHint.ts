/** A hint of which token was used, safe to keep and show: its first characters and its last four. */
export function tokenHint(token: string | undefined): string {
  if (!token) return '';
  return token.length <= 12 ? '…' : `${token.slice(0, 4)}…${token.slice(-4)}`;
}
