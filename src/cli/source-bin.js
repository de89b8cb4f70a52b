#!/usr/bin/env node
// The agentphone command straight from the TypeScript sources (through tsx), never dist/:
// for tests and `npm run dev`, where the sources change between runs. Operators run bin.js.
import { launch, loadSources } from './launch.js';

await launch(loadSources, 'the AgentPhone sources');
