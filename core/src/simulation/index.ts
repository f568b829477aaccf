/**
 * Simulation, not care rules: the seeded random source, the glucose model the simulated patients
 * follow, and the demo clinic seeded on the first `npm start`. Used by the demo seed and the device
 * simulator; nothing of the domain depends on it.
 */
export * from './random.ts';
export * from './glucose-model.ts';
export * from './demo-clinic.ts';
