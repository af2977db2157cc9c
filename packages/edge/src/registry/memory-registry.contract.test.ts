import { MemoryRegistry } from './memory-registry.js';
import { runRegistryContract } from './registry.contract.js';

runRegistryContract('memory', ({ timers }) =>
  Promise.resolve({ registry: new MemoryRegistry({ timers }), close: () => Promise.resolve() }),
);
