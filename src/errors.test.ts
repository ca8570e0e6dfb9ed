import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BATON_ERROR_CODES, BatonError, CodedError, errorCode, hasCode } from './errors.js';
import { API_ERROR_CODES, ApiError } from './k8s/api-error.js';
import { INFORMER_ERROR_CODES } from './k8s/informer-error.js';

// dist/src/errors.test.js -> the repository's docs/errors.md.
const ERRORS_PAGE = new URL('../../docs/errors.md', import.meta.url);
// The lab's codes are documented on the same page. src/ may not import dev/ (biome.json), so its array is loaded
// at run time from the build beside this file (tsconfig.json compiles dev/ into dist/dev/ too).
const LAB_ERRORS_MODULE = new URL('../dev/lab/errors.js', import.meta.url);

async function labCodes(): Promise<readonly string[]> {
  const mod: unknown = await import(LAB_ERRORS_MODULE.href);
  const codes = typeof mod === 'object' && mod !== null && 'LAB_ERROR_CODES' in mod ? mod.LAB_ERROR_CODES : undefined;
  assert.ok(Array.isArray(codes) && codes.every((c) => typeof c === 'string'), 'dev/lab/errors.ts exports LAB_ERROR_CODES');
  return codes;
}

/** The codes of each `## \`Family\`` section of the page, from its table rows. */
function documentedCodes(): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of readFileSync(ERRORS_PAGE, 'utf8').split('\n')) {
    const heading = /^## `(\w+)`/.exec(line);
    if (heading?.[1] !== undefined) {
      current = [];
      sections.set(heading[1], current);
      continue;
    }
    const row = /^\| `([A-Z0-9_]+)` \|/.exec(line);
    if (row?.[1] !== undefined) {
      assert.ok(current !== undefined, `${row[1]} is listed before any family heading`);
      current.push(row[1]);
    }
  }
  return sections;
}

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of every family, each once', async () => {
    const families: Record<string, readonly string[]> = {
      BatonError: BATON_ERROR_CODES,
      ApiError: API_ERROR_CODES,
      InformerError: INFORMER_ERROR_CODES,
      LabError: await labCodes(),
    };
    const page = documentedCodes();
    assert.deepEqual([...page.keys()].sort(), Object.keys(families).sort(), 'one section per family');
    for (const [family, codes] of Object.entries(families)) {
      const listed = page.get(family) ?? [];
      assert.deepEqual(
        [...listed].sort(),
        [...codes].sort(),
        `${family}: the page and the array must name the same codes (missing from the page: ${codes.filter((c) => !listed.includes(c)).join(', ') || 'none'}; not in the array: ${listed.filter((c) => !codes.includes(c)).join(', ') || 'none'})`,
      );
    }
    const all = Object.values(families).flat();
    assert.equal(new Set(all).size, all.length, 'no code belongs to two families: hasCode() must mean one thing');
  });

  it('gives every coded error its code, its class name, a cause, and Error as a base', () => {
    const cause = new Error('underneath');
    const err = new ApiError('K8S_CONFLICT', 409, 'stale', 'Conflict', { cause });
    assert.ok(err instanceof CodedError && err instanceof Error);
    assert.equal(err.name, 'ApiError');
    assert.equal(err.cause, cause);
    assert.equal(new BatonError('CONFIG_INVALID', 'bad flag').name, 'BatonError');
  });

  it('reads codes with errorCode()/hasCode(), Node errno codes included, and nothing from other values', () => {
    assert.equal(errorCode(new BatonError('NOT_LEADER', 'no')), 'NOT_LEADER');
    assert.equal(errorCode(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
    assert.equal(errorCode(Object.assign(new Error('exit'), { code: 1 })), undefined, 'a numeric exit code is not an error code');
    for (const value of [undefined, null, 'K8S_CONFLICT', 42, new Error('plain')]) assert.equal(errorCode(value), undefined);
    assert.equal(hasCode(new ApiError('K8S_NOT_FOUND', 404, 'gone'), 'K8S_NOT_FOUND'), true);
    assert.equal(hasCode(new ApiError('K8S_NOT_FOUND', 404, 'gone'), 'K8S_CONFLICT'), false);
    assert.equal(hasCode(undefined, 'K8S_NOT_FOUND'), false);
  });
});
