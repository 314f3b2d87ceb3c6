// Real OAuth2 / SMART client libraries no one here wrote (oauth4webapi for the protocol, jose for
// keys, otplib for TOTP codes) against the real server with authentication on:
//   1. SMART Backend Services: client_credentials with a signed JWT assertion (private_key_jwt,
//      ES384), then a FHIR read with the token;
//   2. the authorization-code flow with PKCE for a user with two-factor authentication, posting
//      the server's sign-in and consent forms as a browser would (its CSRF cookie kept), the
//      ID token checked by oauth4webapi, a refresh, then FHIR reads and a write.
// Setup (users, clients) is done with the chartkeeper command line, as an operator would.
// Usage: node smart_client.mjs path/to/chartkeeper
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import otplib from 'otplib';

const binary = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'ck-smart-'));
const data = join(dir, 'var');
const password = 'a passphrase long enough';
const redirectUri = 'http://127.0.0.1:9/callback';
const cli = (args, input) => execFileSync(binary, [...args, '--data', data, '--log-level', 'warn'], { input, encoding: 'utf8' });

// The operator's setup: a clinician with TOTP, a public app, a backend service with a key.
cli(['user', 'add', 'alice', '--role', 'clinician', '--fhir-user', 'Practitioner/alice', '--password-stdin'], `${password}\n`);
const enrolled = cli(['user', 'enroll-totp', 'alice']);
const totpKey = enrolled.match(/key: ([A-Z2-7]+)/)[1];
const confirmCode = otplib.authenticator.generate(totpKey);
cli(['user', 'confirm-totp', 'alice', confirmCode]);
// A code works once: if the sign-in comes within the same 30 s step, the next step's code (one
// step of drift is allowed) stands in for the one the confirmation used.
const signInCode = () => {
  const now = otplib.authenticator.generate(totpKey);
  return now !== confirmCode ? now : otplib.authenticator.clone({ epoch: Date.now() + 30_000 }).generate(totpKey);
};
const appId = cli(['client', 'add', 'viewer', '--kind', 'public', '--redirect-uri', redirectUri,
                   '--scope', 'openid fhirUser online_access user/*.cruds']).match(/client_id: (\S+)/)[1];
const { publicKey, privateKey } = await jose.generateKeyPair('ES384', { extractable: true });
writeFileSync(join(dir, 'service.pem'), await jose.exportSPKI(publicKey));
const serviceId = cli(['client', 'add', 'service', '--kind', 'backend', '--public-key', join(dir, 'service.pem'),
                       '--scope', 'system/Patient.rs']).match(/client_id: (\S+)/)[1];

const server = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
let failed = false;
try {
  const base = await new Promise((resolve, reject) => {
    let log = '';
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const found = log.match(/listening on (http:\/\/[0-9.:]+)\/fhir/);
      if (found) resolve(found[1]);
    });
    server.on('exit', () => reject(new Error(`the server stopped:\n${log}`)));
  });
  const fhir = `${base}/fhir`;
  const smart = await (await fetch(`${base}/.well-known/smart-configuration`)).json();
  const as = { ...smart, issuer: smart.issuer };
  const insecure = { [oauth.allowInsecureRequests]: true };

  // 1. Backend services: a signed assertion, then a read.
  {
    const client = { client_id: serviceId };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key: privateKey, kid: undefined }),
                                                               new URLSearchParams({ scope: 'system/Patient.rs' }), insecure);
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    assert.equal(tokens.scope, 'system/Patient.rs');
    const read = await fetch(`${fhir}/Patient`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(read.status, 200);
    const write = await fetch(`${fhir}/Patient`, {
      method: 'POST', headers: { Authorization: `Bearer ${tokens.access_token}`, 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient' }),
    });
    assert.equal(write.status, 403, 'a read scope does not write');
  }

  // 2. A user signs in to a public app: authorization code with PKCE, TOTP, consent.
  {
    const client = { client_id: appId };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const authorize = new URL(as.authorization_endpoint);
    for (const [name, value] of Object.entries({
      response_type: 'code', client_id: appId, redirect_uri: redirectUri, scope: 'openid fhirUser online_access user/*.cruds',
      state, nonce, aud: fhir, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    })) authorize.searchParams.set(name, value);

    // The browser: each page's hidden fields and its cookie go back with the next form.
    let cookie = '';
    const fields = {};
    const keep = async (response) => {
      const set = response.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0];
      const html = await response.text();
      for (const [, name, value] of html.matchAll(/name="(login|csrf)" value="([^"]*)"/g)) fields[name] = value;
      return { status: response.status, html, location: response.headers.get('location') };
    };
    const post = async (step, form) => keep(await fetch(`${base}/auth/authorize`, {
      method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
      body: new URLSearchParams({ ...fields, step, ...form }),
    }));
    const page = await keep(await fetch(authorize, { redirect: 'manual' }));
    assert.equal(page.status, 200);
    const wrong = await post('sign-in', { user: 'alice', password, code: '000000' });
    assert.equal(wrong.status, 401, 'a wrong TOTP code is refused');
    const consent = await post('sign-in', { user: 'alice', password, code: signInCode() });
    assert.equal(consent.status, 200, consent.html);
    assert.match(consent.html, /value="approve"/);
    const approved = await post('consent', { decision: 'approve' });
    assert.equal(approved.status, 302);

    const params = oauth.validateAuthResponse(as, client, new URL(approved.location), state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.fhirUser, `${fhir}/Practitioner/alice`);
    assert.ok(tokens.refresh_token, 'online_access gives a refresh token');

    const auth = { Authorization: `Bearer ${tokens.access_token}` };
    const created = await fetch(`${fhir}/Patient`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/fhir+json' },
                                                     body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Smart' }] }) });
    assert.equal(created.status, 201);
    const found = await (await fetch(`${fhir}/Patient?family=Smart`, { headers: auth })).json();
    assert.equal(found.entry.length, 1);
    assert.equal((await fetch(`${fhir}/AuditEvent`, { headers: auth })).status, 403, 'a clinician does not read the audit trail');

    const refreshed = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, insecure));
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
    assert.equal((await fetch(`${fhir}/Patient`, { headers: { Authorization: `Bearer ${refreshed.access_token}` } })).status, 200);
  }
  console.log('SMART backend services and authorization code + PKCE: ok');
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
