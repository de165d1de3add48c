import { wireProjector } from '../../../lambdas/handlers/wiring/projector';
import { wireSite } from '../../../lambdas/handlers/wiring/site';

/*
 * Measurement only, never deployed: the deployed entry cut down to the projector (`Project`), through the
 * deployed wiring: what a per-function entry would make of it (M1, M2).
 */
export const { Project } = wireProjector(wireSite({ env: process.env }));
