/** Writes docs/configuration.md from the schema: `node dist/src/config/gen-docs.js` (after `npm run build`). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderConfigDocs } from './docs.js';
import { packageRoot } from './load.js';

const target = path.join(packageRoot(), 'docs', 'configuration.md');
writeFileSync(target, renderConfigDocs());
process.stdout.write(`wrote ${target}\n`);
