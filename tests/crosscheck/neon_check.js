// The independent side of the cross-check: @cityofzion/neon-core (a separate Neo N3
// implementation whose own tests tie it to Neo) reads the cases our C++ side wrote and
// reports what it computes. The C++ test compares. Usage:
//   node neon_check.js <node_modules dir> <cases.jsonl> <results.jsonl>
// Each case: {raw, magic, attributes (our JSON form), keys: [{priv, pub}], sigs: [hex]}
// Each result: {reserialized, hash, sender, addresses, script_hashes, verify_ours, sigs_neon,
//               sigs_neon_verify_self, message}
"use strict";
const fs = require("fs");
const path = require("path");
const [modules, casesPath, resultsPath] = process.argv.slice(2);
const { tx, wallet } = require(path.join(modules, "@cityofzion/neon-core"));

const out = [];
for (const line of fs.readFileSync(casesPath, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  const t = tx.Transaction.deserialize(c.raw);
  // neon-core 5.10.1's Transaction.deserialize drops every attribute (and its
  // OracleResponseAttribute.deserialize reads the id byte-reversed and keeps the result as hex
  // where serialize expects base64). Its attribute *serialisers* are right, so the attributes
  // are rebuilt from our JSON form: the bytes neon then writes must equal ours.
  if (c.attributes) t.attributes = c.attributes.map((a) => tx.TransactionAttribute.fromJson(a));
  const message = t.getMessageForSigning(c.magic);
  const r = {
    reserialized: t.serialize(true),
    hash: t.hash(),
    sender: wallet.getAddressFromScriptHash(t.sender.toBigEndian()),
    message,
    addresses: [],
    script_hashes: [],
    verify_ours: [],
    sigs_neon: [],
    sigs_neon_verify_self: [],
  };
  c.keys.forEach((k, i) => {
    const acc = new wallet.Account(k.priv);
    r.addresses.push(acc.address);
    r.script_hashes.push(acc.scriptHash);
    if (acc.publicKey !== k.pub) throw new Error(`public key mismatch for case key ${i}`);
    r.verify_ours.push(wallet.verify(message, c.sigs[i], k.pub));
    const s = wallet.sign(message, k.priv);
    r.sigs_neon.push(s);
    r.sigs_neon_verify_self.push(wallet.verify(message, s, k.pub));
  });
  out.push(JSON.stringify(r));
}
fs.writeFileSync(resultsPath, out.join("\n") + "\n");
console.log(`neon-core checked ${out.length} cases`);
