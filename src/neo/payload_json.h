// The JSON shapes of N3 payloads exactly as Neo's RpcServer prints them (getrawtransaction,
// getblock, getblockheader with verbose=true), and their inverses.
//
// The *FromJson functions accept what the *ToJson functions emit and what a real node (neo-cli
// or neo-go) returns: block-context fields (blockhash, confirmations, blocktime, vmstate,
// nextblockhash) and unknown fields are ignored; "hash", "size" and "sender" are optional but,
// when present, must agree with the payload, so a response that does not describe these bytes is
// refused. The JSON of the parts (Witness, Signer, WitnessRule, WitnessCondition,
// TransactionAttribute) is beside each type, as Neo keeps ToJson on each class.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/encoding.h"  // Base64Encode, used with these codecs
#include "core/status.h"
#include "neo/block.h"
#include "neo/transaction.h"
#include "neo/uint.h"

namespace neosl::neo {

// {"hash","size","version","nonce","sender","sysfee","netfee","validuntilblock","signers",
//  "attributes","script","witnesses"}; fees are strings of datoshi, sender is an address.
boost::json::value TransactionToJson(const Transaction& tx);
StatusOr<Transaction> TransactionFromJson(const boost::json::value& json);

// {"hash","size","version","previousblockhash","merkleroot","time","nonce","index","primary",
//  "nextconsensus","witnesses"}; nonce is 16 uppercase hex digits, nextconsensus an address.
boost::json::value HeaderToJson(const Header& header);
StatusOr<Header> HeaderFromJson(const boost::json::value& json);

// The header's fields with the block's "size", plus "tx": [transactions].
boost::json::value BlockToJson(const Block& block);
StatusOr<Block> BlockFromJson(const boost::json::value& json);

// Helpers shared by the payload JSON codecs. Errors are INVALID_ARGUMENT naming `what`.
namespace rpcjson {

// N3 address: Base58Check(0x35 ‖ script hash). 0x35 is the address version of every N3 network.
inline constexpr uint8_t kAddressVersion = 0x35;
StatusOr<UInt160> ParseAddress(std::string_view address, std::string_view what);

// Base64Decode (core/encoding.h) with an error that names `what`.
StatusOr<std::vector<uint8_t>> Base64Decode(std::string_view text, std::string_view what);

StatusOr<const boost::json::object*> AsObject(const boost::json::value& v, std::string_view what);
// A required member.
StatusOr<const boost::json::value*> Field(const boost::json::object& o, std::string_view key, std::string_view what);
StatusOr<std::string_view> StringField(const boost::json::object& o, std::string_view key, std::string_view what);
StatusOr<const boost::json::array*> ArrayField(const boost::json::object& o, std::string_view key,
                                               std::string_view what);
// A non-negative integer ≤ max, given as a JSON number (an exact integer).
StatusOr<uint64_t> UintField(const boost::json::object& o, std::string_view key, uint64_t max, std::string_view what);

}  // namespace rpcjson

}  // namespace neosl::neo
