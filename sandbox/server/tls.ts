// A throwaway certificate authority and a server certificate for 127.0.0.1/localhost, so the
// sandbox serves HTTPS like a real API server and clients verify it (client-node 1.x refuses
// plain http unless verification is off, which Truva never does).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface SandboxTls {
  caCertPem: string;
  /** The CA's key, to issue client certificates (see clientCertificate). */
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

function rsaKeys() {
  // Node's native key generation: forge's pure-JS RSA would cost seconds per sandbox start.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    keyPem,
    privateKey: forge.pki.privateKeyFromPem(keyPem),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

function certificate(subject: string, publicKey: forge.pki.PublicKey, extensions: object[]): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setExtensions(extensions);
  return cert;
}

export function generateTls(): SandboxTls {
  const ca = rsaKeys();
  const caCert = certificate('truva-sandbox-ca', ca.publicKey, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  caCert.setIssuer(caCert.subject.attributes);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const server = rsaKeys();
  const cert = certificate('truva-sandbox', server.publicKey, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 2, value: 'localhost' },
      ],
    },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.sign(ca.privateKey, forge.md.sha256.create());

  return {
    caCertPem: forge.pki.certificateToPem(caCert),
    caKeyPem: ca.keyPem,
    certPem: forge.pki.certificateToPem(cert),
    keyPem: server.keyPem,
  };
}

/** A client certificate for user `commonName`, signed by the sandbox's CA (as --client-ca-file users are). */
export function clientCertificate(tls: SandboxTls, commonName: string): { certPem: string; keyPem: string } {
  const keys = rsaKeys();
  const cert = certificate(commonName, keys.publicKey, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.setIssuer(forge.pki.certificateFromPem(tls.caCertPem).subject.attributes);
  cert.sign(forge.pki.privateKeyFromPem(tls.caKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}
