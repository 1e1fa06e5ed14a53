/**
 * The generated MSL on the host execution shim under AddressSanitizer and UBSan (index
 * math past a buffer, undefined behaviour): every case of msl-cases.ts against the
 * oracle. The ThreadSanitizer run and the controls are in msl-exec.test.ts.
 */
import { describeCasesOnHost } from './msl-exec-suite.js';

describeCasesOnHost('address');
