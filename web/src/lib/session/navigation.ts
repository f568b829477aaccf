/** Where to go after signing in: a path of this app, never another site (`//evil.example`). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/board';
  if (next === '/login' || next.startsWith('/login?')) return '/board';
  return next;
}
