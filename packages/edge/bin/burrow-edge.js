#!/usr/bin/env node
// Committed stub: `npm ci` links bins before `prepare` builds dist/, so the bin must exist in git.
import '../dist/burrow-edge.mjs';
