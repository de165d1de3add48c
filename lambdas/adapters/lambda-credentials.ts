import { fromEnv } from '@aws-sdk/credential-provider-env';

/*
 * Stands in for @aws-sdk/credential-provider-node in the Lambda bundle only (an esbuild alias,
 * lib/bundling.ts). Lambda hands every function its role's credentials in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the rest of the default
 * chain (SSO, ini files, processes, IMDS, STS web identity) is dead weight: ~90 KB of bundle
 * and its load time on every cold start. Tests and `npm start` run unbundled, with the full chain.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
