// A real OpenID Connect provider for the portal's tests: node-oidc-provider (a certified OpenID
// implementation) standing in for the SPID/CIE IAM proxy.
//
//   node server.mjs DIRECTORY PORT
//
// DIRECTORY/config.json: {"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris",
// "accounts": {login: {given_name, family_name, email, fiscal_number}}}. The development sign-in
// page accepts any login listed there (any password) and issues its SPID-like claims, with the
// fiscal number as SPID sends it ("TINIT-<codice fiscale>"). Writes DIRECTORY/ready on listen.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Provider from 'oidc-provider';

const [directory, port] = process.argv.slice(2);
const config = JSON.parse(readFileSync(join(directory, 'config.json'), 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    post_logout_redirect_uris: config.post_logout_redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-cookie-key'] },
  pkce: { required: () => true },
  // SPID-like claims in the ID token itself, as the IAM proxy sends them.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'fiscal_number'],
    email: ['email'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // No web fonts from elsewhere: the tests reach nothing but local processes.
      logoutSource: async (ctx, form) => {
        ctx.body = page('Uscita dal servizio di identità', `${form}
          <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
      },
      postLogoutSuccessSource: async (ctx) => { ctx.body = page('Signed out', ''); },
    },
  },
  async findAccount(ctx, id) {
    const person = config.accounts[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() { return { sub: id, ...person }; },
    };
  },
});

provider.listen(Number(port), '127.0.0.1', () => {
  writeFileSync(join(directory, 'ready'), issuer);
});
