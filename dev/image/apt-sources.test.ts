import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debianMirrors, parseAptSources } from './apt-sources.js';

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Enabled: no
`;

describe('apt sources', () => {
  it('reads deb822 stanzas, one entry per URI and suite', () => {
    assert.deepEqual(
      parseAptSources('debian.sources', DEB822).map((s) => `${s.uri} ${s.suite} ${s.components.join(',')}`),
      [
        'http://deb.debian.org/debian bookworm main',
        'http://deb.debian.org/debian bookworm-updates main',
        'http://deb.debian.org/debian-security bookworm-security main,contrib',
      ],
    );
  });

  it('reads one-line entries, options and comments aside', () => {
    const text =
      '# deb http://old/ bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] https://m.example/debian bookworm main non-free\ndeb-src http://x/ bookworm main\n';
    assert.deepEqual(parseAptSources('sources.list', text), [
      { uri: 'https://m.example/debian', suite: 'bookworm', components: ['main', 'non-free'] },
    ]);
  });

  it('keeps the release, -updates and -security, main only, and no vendor repositories', () => {
    const files = [
      { name: 'debian.sources', text: DEB822 },
      { name: 'google-cloud-sdk.list', text: 'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n' },
      { name: 'nodesource.sources', text: 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n' },
      { name: 'sources.list', text: 'deb http://deb.debian.org/debian bookworm main\n' },
    ];
    assert.deepEqual(debianMirrors(files, 'bookworm'), [
      'deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
    assert.deepEqual(debianMirrors(files, 'trixie'), []);
  });
});
