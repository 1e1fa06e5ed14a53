/**
 * `npm run example:gpt -- [--config cpu|gpu] [options]`: trains nanoGPT's character-level
 * model on the committed Jane Austen text (examples/gpt/data), with checkpoints, --resume,
 * a progress bar, periodic train/validation losses, a loss chart (loss.svg next to the
 * checkpoint) and a text sample at the end. `--help` lists the options.
 */
import { USAGE, parseConfig } from './config.js';
import { train } from './train.js';

function main(): number {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const result = train(config);
  return result.status === 'nan' ? 1 : 0;
}

process.exitCode = main();
