import type { GlucoseUnit } from '../glucose/units';
import { browserStorage, PREFERENCE_KEYS, readSound, readUnit, write } from './storage';

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

/**
 * For forms holding glucose values as text: `convert(from, to)` runs whenever the user switches
 * the unit, so what the fields show (saved or only typed) follows in the new unit. Call it while a
 * component initialises (it sets up an effect).
 */
export function onUnitChange(convert: (from: GlucoseUnit, to: GlucoseUnit) => void): void {
  let shown = preferences.unit;
  $effect(() => {
    const unit = preferences.unit;
    if (unit === shown) return;
    convert(shown, unit);
    shown = unit;
  });
}
