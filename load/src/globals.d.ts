// k6 provides `console` to every script, but @types/k6 does not declare it and this project's
// tsconfig has no DOM or Node types (on purpose: neither runtime is k6's).
declare global {
  const console: {
    log(...data: unknown[]): void;
    info(...data: unknown[]): void;
    warn(...data: unknown[]): void;
    error(...data: unknown[]): void;
    debug(...data: unknown[]): void;
  };
}

export {};
