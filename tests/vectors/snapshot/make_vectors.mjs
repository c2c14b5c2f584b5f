// Writes vectors.json: Snapshot votes built and signed by snapshot.js's own code path.
//
// Each case goes through `Client712.vote()` (defaults for reason/app/metadata, type picked
// from the proposal type, weighted/quadratic choices JSON-stringified, `privacy`/`type`
// deleted) and `Client712.sign()` (checksummed `from`, domain, ethers `_signTypedData`).
// Only `send()` is replaced, so the envelope that would be POSTed is captured instead.
// The keys are the public anvil/hardhat dev accounts 0 and 1: never use them for real funds.
//
// Regenerate: npm ci && node make_vectors.mjs   (see README.md)

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import snapshot from '@snapshot-labs/snapshot.js';
import { Wallet, verifyTypedData } from '@ethersproject/wallet';

const require = createRequire(import.meta.url);
const hashedTypes = require('@snapshot-labs/snapshot.js/src/sign/hashedTypes.json');
const snapshotPkg = JSON.parse(
  readFileSync(new URL('./node_modules/@snapshot-labs/snapshot.js/package.json', import.meta.url))
);
const walletPkg = JSON.parse(
  readFileSync(new URL('./node_modules/@ethersproject/wallet/package.json', import.meta.url))
);

const SIGNERS = {
  anvil0: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  anvil1: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
};
const PROPOSAL = '0x' + 'ab'.repeat(32);
const TS = 1767225600; // 2026-01-01T00:00:00Z
const UNICODE_REASON =
  'Vote pour ✓ — 支持 «budget» 🚀 e\u0301 "quoted" \\ back\nnew line\ttab \u2028 \u0000 end';

class CapturingClient extends snapshot.Client712 {
  async send(envelope) {
    return envelope;
  }
}

// `choices` is the proposal's number of choices (default 3); snapshot.js does not use it when
// signing, Steward validates choices against it.
// `choice_pairs` keeps the caller's key order for weighted/quadratic maps: JS puts integer
// keys in ascending order whatever the insertion order, and Python must do the same.
const CASES = [
  { name: 'single-choice-defaults', signer: 'anvil0', type: 'single-choice', choice: 1 },
  {
    name: 'single-choice-full',
    signer: 'anvil0',
    type: 'single-choice',
    choice: 3,
    reason: 'Aligned with the delegate policy: treasury spend under cap.',
    app: 'steward',
    metadata: '{"source":"steward","version":1}'
  },
  { name: 'single-choice-anvil1', signer: 'anvil1', type: 'single-choice', choice: 2 },
  { name: 'basic-for', signer: 'anvil0', type: 'basic', choice: 1 },
  { name: 'basic-abstain-reason', signer: 'anvil1', type: 'basic', choice: 3, reason: 'Abstain.' },
  { name: 'approval-two', signer: 'anvil0', type: 'approval', choice: [1, 3] },
  { name: 'approval-empty', signer: 'anvil0', type: 'approval', choice: [] },
  {
    name: 'approval-reason-app',
    signer: 'anvil1',
    type: 'approval',
    choice: [4, 2],
    choices: 4,
    reason: 'two of four',
    app: 'steward'
  },
  { name: 'ranked-choice', signer: 'anvil0', type: 'ranked-choice', choice: [2, 1, 3] },
  {
    name: 'ranked-choice-unicode',
    signer: 'anvil1',
    type: 'ranked-choice',
    choice: [3, 1, 2],
    reason: UNICODE_REASON
  },
  { name: 'weighted-simple', signer: 'anvil0', type: 'weighted', choice_pairs: [[1, 2], [2, 1]] },
  {
    name: 'weighted-key-order',
    signer: 'anvil0',
    type: 'weighted',
    choice_pairs: [[3, 1], [10, 4], [1, 2]],
    choices: 10
  },
  {
    name: 'weighted-floats',
    signer: 'anvil1',
    type: 'weighted',
    choice_pairs: [[1, 0.1 + 0.2], [2, 1e21], [3, 1e-7], [4, 0.5], [5, 123456789.125]],
    choices: 5
  },
  {
    name: 'weighted-zero-weight',
    signer: 'anvil1',
    type: 'weighted',
    choice_pairs: [[2, 0], [1, 100]],
    reason: 'all on one'
  },
  { name: 'quadratic', signer: 'anvil0', type: 'quadratic', choice_pairs: [[1, 1], [2, 3]] },
  {
    name: 'quadratic-unicode-full',
    signer: 'anvil1',
    type: 'quadratic',
    choice_pairs: [[2, 7], [1, 1]],
    reason: UNICODE_REASON,
    app: 'steward',
    metadata: '{"note":"ünïcödé"}'
  },
  // snapshot.js checksums a lowercase `address` for both the envelope and `from`.
  { name: 'lowercase-address', signer: 'anvil0', lowercase: true, type: 'basic', choice: 2 },
  // An alias signs for another voter: `from` (lowercase here) is checksummed, `address` is the
  // signer.
  {
    name: 'alias-from',
    signer: 'anvil1',
    from: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
    type: 'single-choice',
    choice: 1
  },
  // Empty strings are falsy in JS: reason '' and app '' stay, metadata '' becomes '{}'.
  {
    name: 'explicit-empty-strings',
    signer: 'anvil0',
    type: 'single-choice',
    choice: 2,
    reason: '',
    app: '',
    metadata: ''
  },
  {
    name: 'ipfs-style-proposal-id',
    signer: 'anvil0',
    type: 'single-choice',
    choice: 1,
    proposal: 'QmWbpCtwdLzxuLKnMW4Vv4MPFd2pdPX71YBKPasfZxqLUS'
  }
];

function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

async function build(c, index) {
  const wallet = new Wallet(SIGNERS[c.signer]);
  const address = c.lowercase ? wallet.address.toLowerCase() : wallet.address;
  const choice = c.choice_pairs ? Object.fromEntries(c.choice_pairs) : c.choice;
  const message = {
    space: 'steward-test.eth',
    proposal: c.proposal ?? PROPOSAL,
    type: c.type,
    choice,
    timestamp: TS + index
  };
  for (const key of ['from', 'reason', 'app', 'metadata']) {
    if (key in c) message[key] = c[key];
  }
  const input = {
    signer: c.signer,
    address,
    from: c.from ?? null,
    space: message.space,
    proposal: message.proposal,
    type: c.type,
    choices_count: c.choices ?? 3, // the proposal's number of choices (for validation only)
    timestamp: message.timestamp,
    choice: c.choice_pairs ? null : c.choice,
    choice_pairs: c.choice_pairs ?? null,
    reason: c.reason ?? null,
    app: c.app ?? null,
    metadata: c.metadata ?? null
  };
  const envelope = await new CapturingClient().vote(wallet, address, message);
  const { domain, types, message: signed } = envelope.data;
  const recovered = verifyTypedData(domain, types, signed, envelope.sig);
  if (recovered !== wallet.address) throw new Error(`${c.name}: signature does not recover`);
  return {
    name: c.name,
    input,
    envelope,
    id: snapshot.utils.getHash(envelope.data),
    types_json: JSON.stringify(types),
    types_hash: sha256(JSON.stringify(types))
  };
}

const vectors = [];
for (const [index, c] of CASES.entries()) vectors.push(await build(c, index));

const voteHashes = Object.fromEntries(
  Object.entries(hashedTypes).filter(([, name]) => name.startsWith('vote'))
);
const out = {
  generator: 'make_vectors.mjs',
  snapshot_js: snapshotPkg.version,
  ethersproject_wallet: walletPkg.version,
  signers: Object.fromEntries(
    Object.entries(SIGNERS).map(([label, key]) => [label, new Wallet(key).address])
  ),
  known_vote_type_hashes: voteHashes,
  vectors
};
writeFileSync(new URL('./vectors.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${vectors.length} vectors (snapshot.js ${snapshotPkg.version})`);
