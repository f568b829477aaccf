import { ConfigError, loadConfig } from '../../src/config/index.ts';

/** The ConfigError an environment is refused with, or undefined when it is accepted. */
export function configFailure(env: NodeJS.ProcessEnv): ConfigError | undefined {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  return undefined;
}
