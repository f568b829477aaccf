import { parseArgs } from 'node:util';

/**
 * A benchmark's command line as one declared table: the same table parses the arguments and
 * prints `--help`, so the help can never list an option the parser does not know (or miss one).
 * Pure: the caller decides what to do with help text and usage errors (print, exit 0 or 2).
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** What the option does, one line, for --help. */
  description: string;
  /** The value's name in --help (`--meters N`). */
  value?: string;
  default?: string | boolean;
}

export type OptionTable = Record<string, OptionSpec>;

type Values<T extends OptionTable> = {
  [K in keyof T]: T[K] extends { type: 'boolean' }
    ? boolean
    : T[K] extends { default: string }
      ? string
      : string | undefined;
};

export type Parsed<T extends OptionTable> =
  | { kind: 'run'; values: Values<T> }
  | { kind: 'help'; text: string }
  | { kind: 'usage'; message: string };

/** Help text: one line per option, its value name, its default. */
export function helpText(command: string, summary: string, table: OptionTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const left = `  --${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    const fallback = spec.default === undefined || spec.default === false ? '' : ` (default ${String(spec.default)})`;
    return [left, `${spec.description}${fallback}`] as const;
  });
  rows.push(['  --help', 'print this and exit']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [`Usage: ${command} [options]`, '', summary, '', ...rows.map(([l, r]) => l.padEnd(width) + r), ''].join('\n');
}

export function parseOptions<T extends OptionTable>(
  argv: readonly string[],
  table: T,
  about: { command: string; summary: string },
): Parsed<T> {
  const options: Record<string, { type: 'string' | 'boolean'; default?: string | boolean }> = {
    help: { type: 'boolean', default: false },
  };
  for (const [name, spec] of Object.entries(table)) {
    options[name] = spec.default === undefined ? { type: spec.type } : { type: spec.type, default: spec.default };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    // parseArgs' own messages name the option ("Unknown option '--metres'"); the stack is noise.
    return { kind: 'usage', message: `${(err as Error).message}\nRun with --help for the options.` };
  }
  if (values.help) return { kind: 'help', text: helpText(about.command, about.summary, table) };
  delete values.help;
  return { kind: 'run', values: values as Values<T> };
}

/** A whole number option >= min, or a usage message. */
export function wholeNumber(name: string, value: string | undefined, min: number): number | string {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min) {
    return `--${name} must be a whole number >= ${min} (got ${value === undefined ? 'nothing' : JSON.stringify(value)})`;
  }
  return n;
}

/** A number option in [min, max], or a usage message. */
export function fraction(name: string, value: string | undefined, min: number, max: number): number | string {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    return `--${name} must be a number in [${min}, ${max}] (got ${value === undefined ? 'nothing' : JSON.stringify(value)})`;
  }
  return n;
}

/**
 * For a CLI's entry: parse, print help (exit 0) or the usage message (exit 2), else the values.
 * `check` turns the raw strings into the run's settings, returning a message for a bad one.
 */
export function commandLine<T extends OptionTable, S>(
  table: T,
  about: { command: string; summary: string },
  check: (values: Values<T>) => S | string,
  argv: readonly string[] = process.argv.slice(2),
): { settings: S; values: Values<T> } {
  const parsed = parseOptions(argv, table, about);
  const name = about.command.replace(/^npm run /, '').replace(/ --$/, '');
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    process.exit(0);
  }
  if (parsed.kind === 'usage') {
    process.stderr.write(`${name}: ${parsed.message}\n`);
    process.exit(2);
  }
  const settings = check(parsed.values);
  if (typeof settings === 'string') {
    process.stderr.write(`${name}: ${settings}\n`);
    process.exit(2);
  }
  return { settings, values: parsed.values };
}
