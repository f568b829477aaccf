import { browserStorage } from './browser';
import type { GlucoseUnit } from './glucose';
import { PREFERENCE_KEYS, readSound, readUnit, write } from './preferences';

/** The user's display choices as Svelte state, remembered in the browser. */
class Preferences {
  unit = $state<GlucoseUnit>(readUnit(browserStorage()));
  sound = $state<boolean>(readSound(browserStorage()));

  setUnit(unit: GlucoseUnit): void {
    this.unit = unit;
    write(browserStorage(), PREFERENCE_KEYS.unit, unit);
  }

  setSound(on: boolean): void {
    this.sound = on;
    write(browserStorage(), PREFERENCE_KEYS.sound, on ? 'on' : 'off');
  }
}

export const preferences = new Preferences();
