import { afterAll } from 'vitest';
import { captureOutput, stopCapturing } from './output-capture.js';
import { expectNoSecretPatterns } from './secret-patterns.js';

captureOutput();

// scan-output.ts without the issued credentials, whose import (the local stack) costs about a second per test file:
// the setup of `npm run mutation`, which runs the covering test files once per mutant.
afterAll(() => expectNoSecretPatterns(stopCapturing()));
