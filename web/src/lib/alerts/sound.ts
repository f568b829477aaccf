/**
 * The alert sound: a short two-tone beep made with Web Audio (no file to load). Browsers allow
 * audio only after the user interacted with the page, so `unlock()` is called from the click that
 * turns sound on; until then `beep()` does nothing rather than fail.
 */
let context: AudioContext | undefined;

function audio(): AudioContext | undefined {
  if (typeof window === 'undefined' || typeof window.AudioContext === 'undefined') return undefined;
  context ??= new window.AudioContext();
  return context;
}

export async function unlock(): Promise<void> {
  await audio()
    ?.resume()
    .catch(() => undefined);
}

export function beep(): void {
  const ctx = audio();
  if (!ctx || ctx.state !== 'running') return;
  const start = ctx.currentTime;
  [880, 660].forEach((frequency, i) => {
    const oscillator = ctx.createOscillator();
    const gain = ctx.createGain();
    oscillator.type = 'sine';
    oscillator.frequency.value = frequency;
    const t = start + i * 0.22;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.2);
    oscillator.connect(gain).connect(ctx.destination);
    oscillator.start(t);
    oscillator.stop(t + 0.21);
  });
}
