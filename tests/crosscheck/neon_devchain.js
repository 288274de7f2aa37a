// neon-core (an independent N3 implementation from npm) as a dApp's wallet against the devchain:
// it builds, fees and signs a GAS transfer over JSON-RPC and sends it; then it sends one signed
// for another network and one already expired, which must be refused. Usage:
//   node neon_devchain.js <node_modules dir> <rpc url> <from WIF> <to address> <magic> <result.json>
"use strict";
const fs = require("fs");
const path = require("path");
const [modules, url, wif, toAddress, magicText, resultPath] = process.argv.slice(2);
const { rpc, tx, wallet, sc, u, CONST } = require(path.join(modules, "@cityofzion/neon-core"));

async function build(client, account, magic, { nonce, validFor, signMagic }) {
  const height = await client.getBlockCount();
  const script = sc.createScript({
    scriptHash: CONST.NATIVE_CONTRACT_HASH.GasToken,
    operation: "transfer",
    args: [
      sc.ContractParam.hash160(account.address),
      sc.ContractParam.hash160(toAddress),
      sc.ContractParam.integer(150000000),
      sc.ContractParam.any(),
    ],
  });
  const signer = new tx.Signer({ account: account.scriptHash, scopes: tx.WitnessScope.CalledByEntry });
  const trial = await client.invokeScript(u.HexString.fromHex(script), [signer]);
  if (trial.state !== "HALT") throw new Error(`invokescript: ${trial.state} ${trial.exception}`);
  const t = new tx.Transaction({
    signers: [signer],
    validUntilBlock: height - 1 + validFor,
    script,
    systemFee: trial.gasconsumed,
    nonce,
  });
  t.addWitness(
    new tx.Witness({ invocationScript: "", verificationScript: wallet.getVerificationScriptFromPublicKey(account.publicKey) }),
  );
  t.networkFee = u.BigInteger.fromNumber(await client.calculateNetworkFee(t));
  t.witnesses = [];
  t.sign(account, signMagic ?? magic);
  return t;
}

async function refusal(client, t) {
  try {
    await client.sendRawTransaction(t);
    return { accepted: true };
  } catch (e) {
    return { accepted: false, message: String(e.message || e) };
  }
}

(async () => {
  const client = new rpc.RPCClient(url);
  const account = new wallet.Account(wif);
  const magic = Number(magicText);
  const version = await client.getVersion();
  const good = await build(client, account, magic, { nonce: 1, validFor: 100 });
  const hash = await client.sendRawTransaction(good);
  const wrongNetwork = await build(client, account, magic, { nonce: 2, validFor: 100, signMagic: 860833102 });
  const expired = await build(client, account, magic, { nonce: 3, validFor: 0 });
  const result = {
    network: version.protocol.network,
    hash,
    neon_hash: "0x" + good.hash(),
    system_fee: good.systemFee.toString(),
    network_fee: good.networkFee.toString(),
    wrong_network: await refusal(client, wrongNetwork),
    expired: await refusal(client, expired),
  };
  fs.writeFileSync(resultPath, JSON.stringify(result));
})().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
