import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isMainModule } from '../../tools/root.js';

describe('isMainModule', () => {
  const started = process.argv[1];
  afterEach(() => {
    process.argv[1] = started!;
  });

  it('knows the script node started, in a folder whose name needs escaping in a URL', () => {
    process.argv[1] = '/home/founder/my projects/runway/dist/tools/deploy/canary.js';
    expect(isMainModule(pathToFileURL(process.argv[1]).href)).toBe(true);
    expect(isMainModule(pathToFileURL('/home/founder/my projects/runway/dist/tools/root.js').href)).toBe(
      false,
    );
  });
});
