#!/usr/bin/env node
// Compile contracts/src with solc-js (standard JSON) and write one artifact per deployable
// contract to contracts/artifacts/<Name>.json. Output is byte-identical run to run.
//
//   node build.mjs           rebuild artifacts/
//   node build.mjs --check   exit 1 if artifacts/ differs from a fresh build (CI)
//
// Artifacts are written for every non-abstract contract defined in src/, plus the
// OpenZeppelin contracts imported by name in src/Deployables.sol (deployed as they are).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const ROOT = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(ROOT, "src");
const ARTIFACTS = path.join(ROOT, "artifacts");
const NODE_MODULES = path.join(ROOT, "node_modules");
const DEPLOYABLES = "src/Deployables.sol";

const EVM_VERSION = "cancun";
const OPTIMIZER = { enabled: true, runs: 200 };
const MAX_RUNTIME_SIZE = 24576; // EIP-170
const MAX_INITCODE_SIZE = 49152; // EIP-3860

function fail(message) {
  console.error(`build.mjs: ${message}`);
  process.exit(1);
}

function loadSolc() {
  try {
    return require("solc");
  } catch (err) {
    fail(`cannot load solc (${err.message}); run "npm ci" in contracts/ first`);
  }
}

function listSources(dir, prefix) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    const unit = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listSources(full, unit));
    else if (entry.name.endsWith(".sol")) out.push(unit);
  }
  return out;
}

function findImports(unit) {
  if (!unit.startsWith("@openzeppelin/")) {
    return { error: `import "${unit}" is not under @openzeppelin/ or src/` };
  }
  const full = path.resolve(NODE_MODULES, unit);
  if (!full.startsWith(NODE_MODULES + path.sep)) return { error: `import "${unit}" escapes node_modules` };
  try {
    return { contents: fs.readFileSync(full, "utf8") };
  } catch {
    return { error: `import "${unit}" not found in node_modules (run "npm ci" in contracts/)` };
  }
}

// Recursively sort object keys so JSON output does not depend on insertion order.
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function serialize(obj) {
  return JSON.stringify(sortKeys(obj), null, 2) + "\n";
}

function hexBytes(hex) {
  return hex.length / 2;
}

function deployableImports() {
  const text = fs.readFileSync(path.join(ROOT, DEPLOYABLES), "utf8");
  const names = new Set();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const n of m[1].split(",")) {
      const name = n.trim().split(/\s+as\s+/)[0];
      if (name) names.add(`${m[2]}:${name}`);
    }
  }
  return names;
}

function build() {
  const solc = loadSolc();
  const units = listSources(SRC, "src");
  if (units.length === 0) fail("no .sol files in src/");
  const sources = {};
  for (const unit of units) sources[unit] = { content: fs.readFileSync(path.join(ROOT, unit), "utf8") };

  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
      outputSelection: {
        "*": {
          "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"],
          "": ["ast"],
        },
      },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = [];
  for (const msg of output.errors || []) {
    const text = (msg.formattedMessage || msg.message).trimEnd();
    if (msg.severity === "error") errors.push(text);
    else console.warn(text);
  }
  if (errors.length) fail(`compilation failed with ${errors.length} error(s):\n\n${errors.join("\n\n")}`);

  // Which contracts are concrete (not abstract, not interface/library), from the AST.
  const concrete = new Set();
  for (const [unit, src] of Object.entries(output.sources || {})) {
    for (const node of src.ast?.nodes || []) {
      if (node.nodeType === "ContractDefinition" && node.contractKind === "contract" && !node.abstract) {
        concrete.add(`${unit}:${node.name}`);
      }
    }
  }
  const wanted = deployableImports();
  const compiler = { evmVersion: EVM_VERSION, optimizer: OPTIMIZER, version: solc.version() };

  const artifacts = new Map();
  const problems = [];
  for (const unit of Object.keys(output.contracts || {}).sort()) {
    for (const name of Object.keys(output.contracts[unit]).sort()) {
      const key = `${unit}:${name}`;
      if (!concrete.has(key)) continue;
      if (!unit.startsWith("src/") && !wanted.has(key)) continue;
      if (artifacts.has(name)) fail(`two contracts named ${name}; artifact names must be unique`);
      const c = output.contracts[unit][name];
      const bytecode = c.evm.bytecode.object;
      const deployed = c.evm.deployedBytecode.object;
      if (!bytecode) continue;
      if (/__\$/.test(bytecode)) problems.push(`${name}: needs library linking, which build.mjs does not do`);
      if (hexBytes(deployed) > MAX_RUNTIME_SIZE) {
        problems.push(`${name}: deployed bytecode is ${hexBytes(deployed)} bytes, over the ${MAX_RUNTIME_SIZE}-byte limit`);
      }
      if (hexBytes(bytecode) > MAX_INITCODE_SIZE) {
        problems.push(`${name}: init code is ${hexBytes(bytecode)} bytes, over the ${MAX_INITCODE_SIZE}-byte limit`);
      }
      artifacts.set(name, {
        abi: c.abi,
        bytecode: `0x${bytecode}`,
        compiler,
        contractName: name,
        deployedBytecode: `0x${deployed}`,
        sourceName: unit,
      });
    }
  }
  for (const key of wanted) {
    if (!artifacts.has(key.split(":")[1])) problems.push(`${DEPLOYABLES} imports ${key}, but it is not a deployable contract`);
  }
  if (problems.length) fail(problems.join("\n"));
  return new Map([...artifacts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length) fail(`unknown argument(s): ${unknown.join(" ")} (usage: node build.mjs [--check])`);
  const check = args.includes("--check");

  const started = process.hrtime.bigint();
  const artifacts = build();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const expected = new Map([...artifacts].map(([name, a]) => [`${name}.json`, serialize(a)]));
  if (check) {
    const diffs = [];
    const present = fs.existsSync(ARTIFACTS) ? fs.readdirSync(ARTIFACTS).filter((f) => f.endsWith(".json")) : [];
    for (const [file, text] of expected) {
      const full = path.join(ARTIFACTS, file);
      if (!fs.existsSync(full)) diffs.push(`missing: artifacts/${file}`);
      else if (fs.readFileSync(full, "utf8") !== text) diffs.push(`differs: artifacts/${file}`);
    }
    for (const file of present) if (!expected.has(file)) diffs.push(`stale:   artifacts/${file}`);
    if (diffs.length) {
      console.error(`build.mjs --check: committed artifacts do not match a fresh build:\n  ${diffs.join("\n  ")}`);
      console.error('Rebuild with "node build.mjs" and commit contracts/artifacts/.');
      process.exit(1);
    }
    console.log(`build.mjs --check: ${expected.size} artifacts match a fresh build (compiled in ${seconds.toFixed(1)} s)`);
    return;
  }

  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const file of fs.readdirSync(ARTIFACTS)) {
    if (file.endsWith(".json") && !expected.has(file)) fs.unlinkSync(path.join(ARTIFACTS, file));
  }
  for (const [file, text] of expected) fs.writeFileSync(path.join(ARTIFACTS, file), text);
  console.log(`compiled with solc ${artifacts.values().next().value.compiler.version} in ${seconds.toFixed(1)} s`);
  console.log("contract                   runtime bytes   init bytes");
  for (const [name, a] of artifacts) {
    const runtime = hexBytes(a.deployedBytecode) - 1;
    const init = hexBytes(a.bytecode) - 1;
    console.log(`${name.padEnd(26)} ${String(runtime).padStart(13)} ${String(init).padStart(12)}`);
  }
  console.log(`wrote ${artifacts.size} artifacts to artifacts/`);
}

main();
