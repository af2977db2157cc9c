// The first module of each CLI bundle (see bundle.js): sizes the V8 heap before the CLI runs.
import { tuneHeapForProxy } from './heap-tuning.js';

tuneHeapForProxy();
