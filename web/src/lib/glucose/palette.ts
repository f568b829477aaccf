/**
 * Colours of the five consensus ranges, after the AGP report's convention (very low dark red, low
 * red, in range green, high amber, very high orange), each with a text colour that reads on it at
 * WCAG AA (4.5:1; tested). Colour never carries meaning alone: values also show their range in
 * words (tooltips, legends, screen-reader text).
 */
import type { GlucoseRange } from '@glucoboard/core/domain';

export interface Swatch {
  fill: string;
  text: string;
}

export const RANGE_COLOURS: Record<GlucoseRange, Swatch> = {
  veryLow: { fill: '#8c1c13', text: '#ffffff' },
  low: { fill: '#c8372d', text: '#ffffff' },
  inRange: { fill: '#1e7b3e', text: '#ffffff' },
  high: { fill: '#f1c232', text: '#1b1b1b' },
  veryHigh: { fill: '#e07b22', text: '#1b1b1b' },
};

/** Relative luminance of an sRGB colour `#rrggbb` (WCAG 2.x). */
export function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [
    number,
    number,
    number,
  ];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours, 1 to 21. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
