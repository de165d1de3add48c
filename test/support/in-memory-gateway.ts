import { createReceiveHandler, type ReceiveDeps } from '../../lambdas/handlers/receive-handler';
import { type GatewayOptions, type RunningGateway, routesFor, startGateway } from '../../local/gateway';
import { inMemoryReceiveDeps } from '../../testing/fakes';

/**
 * The local gateway in front of the real receive handler on in-memory ports (`deps`, fresh unless given):
 * hostile-input tests of the HTTP adapter, where only what the gateway does is under test.
 */
export async function inMemoryGateway(
  options: Omit<GatewayOptions, 'routes' | 'fallback'> = {},
  deps: ReceiveDeps = inMemoryReceiveDeps(),
): Promise<RunningGateway & { port: number; deps: ReceiveDeps }> {
  const gateway = await startGateway({
    ...routesFor((type) => {
      const handler = createReceiveHandler(type, deps);
      return (event) => handler(event);
    }),
    ...options,
  });
  return Object.assign(gateway, { port: Number(new URL(gateway.url).port), deps });
}
