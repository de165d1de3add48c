import { wireSite } from '../wiring/site';
import { wireSweep } from '../wiring/sweep';

/* Deployed entry (lib/bundling.ts): `Sweep`, on the fleet's tick (handler `sweep.Sweep`). */
export const { Sweep } = wireSweep(wireSite({ env: process.env }));
