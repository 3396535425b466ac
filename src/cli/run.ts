/** Process entry of the CLI (bin/smarterrouter.js): runs main() with the real streams and exits. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env });
