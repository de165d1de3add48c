import { wireProjector } from '../wiring/projector';
import { wireSite } from '../wiring/site';

/* Deployed entry (lib/bundling.ts): `Project`, on the message table's stream (handler `project.Project`). */
export const { Project } = wireProjector(wireSite({ env: process.env }));
