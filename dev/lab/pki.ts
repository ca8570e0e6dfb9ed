// Certificates and keys for one control-plane run: a CA, the API server's
// serving certificate (valid for every address clients use), and the key
// pair that signs ServiceAccount tokens. Made fresh per run with openssl;
// EC P-256 keys because they take milliseconds, RSA for the token signer
// because kube-apiserver's default token algorithm is RS256.
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';

export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** The API server's client certificate towards kubelets (logs, exec), in system:masters as kubeadm's was. */
  kubeletClientCert: string;
  kubeletClientKey: string;
}

export interface PkiOptions {
  dir: string;
  ipSans: readonly string[];
  dnsSans: readonly string[];
}

// One day: a run never outlives it, and an expired leftover is useless to anyone.
const VALIDITY_DAYS = '1';

export async function createPki(options: PkiOptions): Promise<Pki> {
  const { dir } = options;
  const p = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    VALIDITY_DAYS,
    '-subj',
    '/CN=baton-test-lab-ca',
  ]);

  const san = [...options.ipSans.map((ip) => `IP:${ip}`), ...options.dnsSans.map((d) => `DNS:${d}`)].join(',');
  await writeFile(
    p('serving.ext'),
    [
      `subjectAltName=${san}`,
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'basicConstraints=CA:FALSE',
      '',
    ].join('\n'),
  );
  await run('openssl', ['req', '-new', ...ec, '-keyout', p('apiserver.key'), '-out', p('apiserver.csr'), '-subj', '/CN=kube-apiserver']);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('apiserver.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    VALIDITY_DAYS,
    '-extfile',
    p('serving.ext'),
    '-out',
    p('apiserver.crt'),
  ]);

  await writeFile(
    p('client.ext'),
    ['keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', 'basicConstraints=CA:FALSE', ''].join('\n'),
  );
  await run('openssl', [
    'req',
    '-new',
    ...ec,
    '-keyout',
    p('kubelet-client.key'),
    '-out',
    p('kubelet-client.csr'),
    '-subj',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('kubelet-client.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    VALIDITY_DAYS,
    '-extfile',
    p('client.ext'),
    '-out',
    p('kubelet-client.crt'),
  ]);

  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  await writeFile(p('sa.key'), privateKey, { mode: 0o600 });
  await writeFile(p('sa.pub'), publicKey);

  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    servingCert: p('apiserver.crt'),
    servingKey: p('apiserver.key'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
    kubeletClientCert: p('kubelet-client.crt'),
    kubeletClientKey: p('kubelet-client.key'),
  };
}
