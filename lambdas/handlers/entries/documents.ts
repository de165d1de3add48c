import { wireDocumentsApi } from '../wiring/documents';
import { wireSite } from '../wiring/site';

/* Deployed entry (lib/bundling.ts): `Documents`, the document API (handler `documents.Documents`). */
export const { Documents } = wireDocumentsApi(wireSite({ env: process.env }));
