#!/usr/bin/env node
// A real OpenID Connect provider (oidc-provider 8.8.1) on 127.0.0.1 for Huntaze's
// integration tests, plus a small control API under /test/ on the same port that
// lets a test register clients, pick the account that logs in, and make the
// token endpoint misbehave. The contract (which the C++ tests rely on) is in
// README.md next to this file; keep the two in step.
//
//   node provider.mjs [--port N]      prints "ready <port>" once listening
//
// Everything lives in memory and dies with the process.

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider, { interactionPolicy } from 'oidc-provider';

// stdout carries exactly one line, "ready <port>", which the tests wait for.
// oidc-provider prints its development notices with console.info, so send
// anything that is not that line to stderr.
console.log = console.error;
console.info = console.error;

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const requestedPort = Number(args.port);
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`provider.mjs: bad --port ${args.port}`);
  process.exit(2);
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

// ---------------------------------------------------------------------------
// Keys. Fresh on every start, so nothing signed by an earlier run verifies.
// k1 and k2 are what the provider signs with and publishes. k3 is a key the
// provider "rotates to" (published only after PUT /test/rotate); k4 is a key
// nobody ever publishes.

async function makeKey(alg, kid) {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  return {
    kid,
    alg,
    privateKey,
    privateJwk: { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' },
    publicJwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' },
  };
}

// RS256 keys get jose's default 2048-bit modulus, ES256 P-256. Generated in
// parallel: RSA key generation dominates start-up time.
const keys = new Map(await Promise.all(
  [['k1', 'RS256'], ['k2', 'ES256'], ['k3', 'RS256'], ['k4', 'RS256']]
    .map(async ([kid, alg]) => [kid, await makeKey(alg, kid)]),
));

// ---------------------------------------------------------------------------
// Test state, changed through the control API.

const DEFAULT_ACCOUNT = {
  sub: 'user-1', email: 'user1@example.com', email_verified: true, name: 'User One',
};

const state = {
  clients: new Map(), // client_id -> client metadata as oidc-provider expects it
  // Every account ever set, by sub: tokens for an account that was current
  // earlier must still carry that account's claims.
  accounts: new Map([[DEFAULT_ACCOUNT.sub, DEFAULT_ACCOUNT]]),
  account: DEFAULT_ACCOUNT,
  fault: 'none',
  rotated: false,
  tokenStatus: 0, // 0: the token endpoint works; otherwise the status it answers with
  tokenError: undefined, // the "error" it answers with (default by status)
  metadataStatus: 0, // 0: discovery and jwks work; otherwise the status both answer with
  stats: { discovery: 0, jwks: 0, token: 0 },
};

// ---------------------------------------------------------------------------
// Storage. oidc-provider asks an adapter for everything it persists; ours is a
// Map, except that Client lookups are answered from state.clients so that
// PUT /test/clients takes effect at once. (oidc-provider's own in-memory
// adapter would work for the rest but prints a warning, and it cannot serve
// clients that change under it.)

const store = new Map(); // `${model}:${id}` -> { payload, expiresAt (ms) }

class Adapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async find(id) {
    if (this.model === 'Client') {
      return state.clients.get(id);
    }
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async upsert(id, payload, expiresIn) {
    store.set(this.key(id), {
      payload,
      expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
    });
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async consume(id) {
    const payload = await this.find(id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  // Used for Sessions only; the store is small, so a scan is fine.
  async findByUid(uid) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.model}:`) && payload.uid === uid) return this.find(payload.jti);
    }
    return undefined;
  }

  async findByUserCode(userCode) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.model}:`) && payload.userCode === userCode) return this.find(payload.jti);
    }
    return undefined;
  }

  async revokeByGrantId(grantId) {
    for (const [key, { payload }] of store) {
      if (payload.grantId === grantId) store.delete(key);
    }
  }
}

// ---------------------------------------------------------------------------
// Interactions. oidc-provider sends the browser to /interaction/<uid> when it
// needs a login or consent; ours answers with a redirect straight back, having
// logged in the current test account and granted what was asked, so a test's
// user agent only has to follow redirects with a cookie jar.
//
// Every authorization request logs in again (the extra check below), so that
// PUT /test/login applies to the next flow even when the cookie jar still
// holds a session from an earlier one.

const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check(
  'test_login_every_time',
  'the test provider logs in the current test account on every authorization request',
  'login_required', // what prompt=none gets
  (ctx) => (ctx.oidc.result?.login
    ? interactionPolicy.Check.NO_NEED_TO_PROMPT
    : interactionPolicy.Check.REQUEST_PROMPT),
));

async function finishInteraction(provider, ctx) {
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  const { account } = state;

  // Logging a different account into an existing session makes oidc-provider
  // answer with an auto-submitting logout form, which a cookie-jar user agent
  // cannot follow. Forget that session instead; the resumed request then
  // starts a new one.
  if (interaction.session && interaction.session.accountId !== account.sub) {
    await provider.Session.adapter.destroy(interaction.session.cookie);
    interaction.session = undefined;
    await interaction.save(interaction.exp - now());
  }

  const grant = new provider.Grant({ accountId: account.sub, clientId: interaction.params.client_id });
  const details = interaction.prompt.details ?? {};
  grant.addOIDCScope(['openid email profile', ...(details.missingOIDCScope ?? [])].join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);

  const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId: account.sub },
    consent: { grantId: await grant.save() },
  }, { mergeWithLastSubmission: false });

  ctx.status = 303;
  ctx.redirect(returnTo);
}

// ---------------------------------------------------------------------------
// Fault injection on the ID token in token endpoint responses. Each mode
// breaks exactly one thing a relying party must check.

const b64json = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
const now = () => Math.floor(Date.now() / 1000);

async function sign(header, payload, key) {
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(key);
}

// Changes one base64url character of the payload segment, keeping the
// signature. A careless change would leave the payload undecodable (rejected
// for the wrong reason), or alter the nonce, aud or exp (rejected by a claim
// check before the signature is ever looked at). So take the change nearest
// the middle of the segment that still decodes to the same claims except for
// name or email, which no relying party rejects a token over: only the
// signature gives this token away.
function tamperPayload(segment) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const original = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  const harmless = new Set(['name', 'email']);
  const onlyHarmlessChanges = (claims) => claims && typeof claims === 'object'
    && Object.keys(claims).length === Object.keys(original).length
    && Object.keys(original).every((k) => k in claims
      && (harmless.has(k) ? typeof claims[k] === typeof original[k]
        : JSON.stringify(claims[k]) === JSON.stringify(original[k])));

  const middle = Math.floor(segment.length / 2);
  // The last character may carry padding bits that decoders ignore: leave it.
  for (let d = 0; d < middle; d += 1) {
    for (const i of new Set([middle - d, middle + d])) {
      if (i < 0 || i >= segment.length - 1) continue;
      for (const c of alphabet) {
        if (c === segment[i]) continue;
        const candidate = segment.slice(0, i) + c + segment.slice(i + 1);
        try {
          const text = new TextDecoder('utf-8', { fatal: true })
            .decode(Buffer.from(candidate, 'base64url'));
          if (onlyHarmlessChanges(JSON.parse(text))) return candidate;
        } catch {
          // not decodable: try the next character
        }
      }
    }
  }
  // No name or email to alter: any change invalidates the signature.
  const i = middle;
  return segment.slice(0, i) + (segment[i] === 'A' ? 'B' : 'A') + segment.slice(i + 1);
}

async function applyFault(idToken, client) {
  const [headerSegment, payloadSegment] = idToken.split('.');
  const header = b64json(headerSegment);
  const payload = b64json(payloadSegment);
  const own = keys.get(header.kid);
  const resign = (changes) => sign(header, { ...payload, ...changes }, own.privateKey);

  switch (state.fault) {
    case 'tamper': {
      const parts = idToken.split('.');
      parts[1] = tamperPayload(parts[1]);
      return parts.join('.');
    }
    case 'nonce':
      return resign({ nonce: 'wrong-nonce' });
    case 'audience':
      return resign({ aud: 'someone-else' });
    case 'expired':
      return resign({ exp: now() - 600, iat: now() - 1200 });
    case 'issuer':
      return resign({ iss: 'http://evil.example' });
    case 'unverified_email':
      return resign({ email_verified: false });
    case 'no_email': {
      // What a provider answers without the email scope: neither claim.
      const { email, email_verified: verified, ...rest } = payload;
      return sign(header, rest, own.privateKey);
    }
    case 'new_kid':
      return sign({ alg: 'RS256', kid: 'k3' }, payload, keys.get('k3').privateKey);
    case 'unknown_kid':
      return sign({ alg: 'RS256', kid: 'k4' }, payload, keys.get('k4').privateKey);
    case 'alg_none':
      return `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payloadSegment}.`;
    case 'hs256':
      // The classic key-confusion attack: an HMAC keyed with something the
      // client knows (its secret), under a kid that names the RSA key.
      return sign({ alg: 'HS256', kid: 'k1' }, payload, new TextEncoder().encode(client.clientSecret));
    default:
      return idToken;
  }
}

const FAULT_MODES = new Set([
  'none', 'tamper', 'nonce', 'audience', 'expired', 'issuer', 'new_kid', 'unknown_kid',
  'alg_none', 'hs256', 'unverified_email', 'no_email',
]);

// ---------------------------------------------------------------------------
// The control API.

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1 << 20) throw new Error('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

function fail(ctx, status, message) {
  ctx.status = status;
  ctx.body = { error: message };
}

async function control(provider, ctx) {
  const route = `${ctx.method} ${ctx.path}`;
  if (route === 'GET /test/stats') {
    ctx.body = state.stats;
    return;
  }
  if (route === 'PUT /test/rotate') {
    state.rotated = true;
    ctx.status = 204;
    return;
  }
  if (ctx.method !== 'PUT') {
    fail(ctx, ctx.path.match(/^\/test\/(clients|login|fault|token_status|metadata_status)$/) ? 405 : 404, `no ${route}`);
    return;
  }

  let body;
  try {
    body = await readJson(ctx.req);
  } catch (err) {
    fail(ctx, 400, `request body: ${err.message}`);
    return;
  }

  switch (ctx.path) {
    case '/test/clients': {
      if (!Array.isArray(body)) {
        fail(ctx, 400, 'expected an array of clients');
        return;
      }
      const clients = new Map();
      for (const c of body) {
        const metadata = {
          client_id: c.client_id,
          client_secret: c.client_secret,
          redirect_uris: c.redirect_uris,
          id_token_signed_response_alg: c.id_token_signed_response_alg ?? 'RS256',
        };
        try {
          // Rejected here rather than in the middle of a test's login flow.
          await provider.Client.validate(metadata);
        } catch (err) {
          fail(ctx, 400, `client ${c.client_id}: ${err.error_description ?? err.message}`);
          return;
        }
        clients.set(c.client_id, metadata);
      }
      state.clients = clients;
      break;
    }
    case '/test/login':
      if (!body || typeof body.sub !== 'string' || body.sub === '') {
        fail(ctx, 400, 'expected {sub, email, email_verified, name}');
        return;
      }
      // Taken as given, absent fields included: a test may want an account
      // without an email, or an email_verified that is not a boolean.
      state.account = { ...body };
      state.accounts.set(body.sub, state.account);
      break;
    case '/test/fault':
      if (!FAULT_MODES.has(body?.mode)) {
        fail(ctx, 400, `mode must be one of ${[...FAULT_MODES].join(', ')}`);
        return;
      }
      state.fault = body.mode;
      break;
    case '/test/token_status':
      if (!Number.isInteger(body?.status) || (body.status !== 0 && (body.status < 400 || body.status > 599))) {
        fail(ctx, 400, 'status must be 0 or an HTTP error status (400-599)');
        return;
      }
      state.tokenStatus = body.status;
      state.tokenError = body.error;
      break;
    case '/test/metadata_status':
      if (!Number.isInteger(body?.status) || (body.status !== 0 && (body.status < 400 || body.status > 599))) {
        fail(ctx, 400, 'status must be 0 or an HTTP error status (400-599)');
        return;
      }
      state.metadataStatus = body.status;
      break;
    default:
      fail(ctx, 404, `no ${route}`);
      return;
  }
  ctx.status = 204;
}

// ---------------------------------------------------------------------------
// The provider. Its issuer must name the port actually bound, so listen first
// and build the provider once the port is known.

// Until the provider exists, answer 503 (only reachable with an explicit --port).
let handler = (req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = http.createServer((req, res) => handler(req, res));
server.listen(requestedPort, '127.0.0.1');
await new Promise((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  adapter: Adapter,
  jwks: { keys: [keys.get('k1').privateJwk, keys.get('k2').privateJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },

  findAccount(ctx, sub) {
    const account = state.accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: () => ({ ...account }) };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // By default oidc-provider v8 keeps scope-derived claims (email, name) out of
  // an ID token that comes with an access token, for the userinfo endpoint to
  // serve. The tests read them from the ID token.
  conformIdTokenClaims: false,

  responseTypes: ['code'],
  pkce: { methods: ['S256'], required: () => true },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  },
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },

  features: {
    devInteractions: { enabled: false }, // replaced by finishInteraction
  },
  interactions: { policy },

  // Set explicitly: the defaults work but print a notice the first time
  // they are used.
  ttl: {
    AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600,
  },
  // Errors shown to the user agent (a bad redirect_uri, say) as JSON rather
  // than an HTML page: easier to read in a failing test's output.
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));

const ROUTES_COUNTED = {
  '/.well-known/openid-configuration': 'discovery',
  '/jwks': 'jwks',
  '/token': 'token',
};

provider.use(async (ctx, next) => {
  const counted = ROUTES_COUNTED[ctx.path];
  if (counted) state.stats[counted] += 1;

  if (ctx.path.startsWith('/test/')) {
    await control(provider, ctx);
    return;
  }
  if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
    await finishInteraction(provider, ctx);
    return;
  }
  if (counted === 'token' && state.tokenStatus !== 0) {
    ctx.status = state.tokenStatus;
    ctx.body = {
      error: state.tokenError ?? (state.tokenStatus >= 500 ? 'server_error' : 'invalid_request'),
      error_description: 'injected by PUT /test/token_status',
    };
    return;
  }

  if ((counted === 'discovery' || counted === 'jwks') && state.metadataStatus !== 0) {
    ctx.status = state.metadataStatus;
    ctx.body = { error: 'server_error', error_description: 'injected by PUT /test/metadata_status' };
    return;
  }

  await next();

  if (ctx.oidc?.route === 'jwks' && state.rotated && ctx.status === 200) {
    // jwksResponse is oidc-provider's cached object: build a new one.
    ctx.body = { keys: [...ctx.body.keys, keys.get('k3').publicJwk] };
  }
  if (ctx.oidc?.route === 'token' && ctx.body?.id_token && state.fault !== 'none') {
    ctx.body = { ...ctx.body, id_token: await applyFault(ctx.body.id_token, ctx.oidc.client) };
  }
});

handler = provider.callback();
process.stdout.write(`ready ${port}\n`);
